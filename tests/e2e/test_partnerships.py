"""A police officer whose unit serves two boroughs works in one, sees that
borough's case, switches to the other in the header and sees only that
one's: in Chromium, every page scanned with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.e2e.test_journey import sign_in

pytestmark = pytest.mark.e2e


def test_a_police_officer_switches_borough(live_server, context, scan, cast):
    home = f.default_partnership()
    northbank = f.PartnershipFactory(name="Northbank", slug="northbank")
    police = cast.sharing
    police.partnerships.add(northbank)
    officer = cast.user("sharing", "practitioner")
    case_home = f.CaseFactory(lead_agency=police, key_worker=officer,
                              young_person=f.YoungPersonFactory(recorded_by=police, partnership=home,
                                                                given_name="Ada", family_name="Home"))
    case_north = f.CaseFactory(lead_agency=police, key_worker=officer,
                               young_person=f.YoungPersonFactory(recorded_by=police, partnership=northbank,
                                                                 given_name="Noor", family_name="North"))

    page = context.new_page()
    sign_in(page, live_server, officer, scan)
    # The unit's first borough by name is Northbank.
    header = page.locator("header")
    assert "Northbank" in header.inner_text()
    page.goto(f"{live_server.url}/cases/{case_north.pk}/")
    scan(page, "case-in-northbank")
    expect(page.locator("body")).to_contain_text("Noor North")
    assert page.goto(f"{live_server.url}/cases/{case_home.pk}/").status == 404

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Change partnership").click()
    page.wait_for_url("**/partnership/")
    scan(page, "choose-partnership")
    page.get_by_label("Test borough").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/")
    scan(page, "home-in-test-borough")
    assert "Test borough" in page.locator("header").inner_text()
    assert page.goto(f"{live_server.url}/cases/{case_home.pk}/").status == 200
    expect(page.locator("body")).to_contain_text("Ada Home")
    assert page.goto(f"{live_server.url}/cases/{case_north.pk}/").status == 404

    assert not scan.problems, "axe-core found serious or critical violations:\n" + "\n".join(scan.problems)
