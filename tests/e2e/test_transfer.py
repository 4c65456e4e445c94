"""A case follows a young person across a borough line, in Chromium: the
sending youth service's manager proposes the transfer with a summary and one
chronology entry; Northbank's hub screener sees it in the queue with what
was sent and accepts it; a case opens in Northbank and the sending case is
closed as transferred, each chronology saying so. Every page is scanned with
axe-core."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agencies.models import AgencyKind, Role
from referrals.models import CaseNote, CaseTransfer, NoteKind, NoteVisibility
from tests import factories as f
from tests.e2e.test_journey import sign_in, sign_out

pytestmark = pytest.mark.e2e


def test_a_case_moves_to_the_neighbouring_borough(live_server, context, scan, cast):
    northbank = f.PartnershipFactory(name="Northbank", slug="northbank")
    hub = f.AgencyFactory(name="Northbank Hub", slug="northbank-hub", kind=AgencyKind.HUB, partnerships=[northbank])
    youth = f.AgencyFactory(name="Northbank Youth", slug="northbank-youth", partnerships=[northbank])
    f.make_member(youth, Role.PRACTITIONER, username="northbank-youthworker")
    screener = f.make_member(hub, Role.HUB_SCREENER, username="northbank-screener")
    manager = cast.user("owner", Role.MANAGER)
    person = f.YoungPersonFactory(given_name="Jaden", family_name="Mensah", recorded_by=cast.owner)
    case = f.CaseFactory(lead_agency=cast.owner, young_person=person)
    f.ReferralFactory(young_person=person, referring_agency=cast.referrer, status="accepted",
                      decided_at=timezone.now(), case=case)
    CaseNote.objects.create(
        case=case, occurred_at=timezone.now() - dt.timedelta(days=2), kind=NoteKind.CONTACT,
        author=cast.user("owner", Role.PRACTITIONER), agency=cast.owner, visibility=NoteVisibility.CASE,
        text="Home visit: Jaden said the family is moving to Northbank",
    )

    page = context.new_page()
    sign_in(page, live_server, manager, scan)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_role("link", name="Transfer to another partnership").click()
    page.wait_for_url("**/transfer/")
    scan(page, "transfer-propose")
    page.get_by_role("radio", name="Northbank").check()
    page.get_by_label("New postcode (optional)").fill("N1 7AA")
    page.get_by_label("Why should the case move?").fill("The family moved to Northbank on 1 December.")
    page.get_by_label("Summary for the receiving hub").fill("Carried a knife twice; mentoring is working.")
    page.get_by_label("Home visit: Jaden said", exact=False).check()
    page.get_by_label("Close this case when the transfer is accepted").check()
    page.get_by_label("Given by a parent or carer").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.pk}/")
    scan(page, "case-with-transfer-proposed")
    expect(page.locator("body")).to_contain_text("Transfers to another partnership")
    transfer = CaseTransfer.objects.get()
    sign_out(page)

    sign_in(page, live_server, screener, scan)
    scan(page, "receiving-hub-queue")
    expect(page.locator("body")).to_contain_text("Jaden Mensah")
    page.goto(f"{live_server.url}/screening/{transfer.referral_id}/")
    scan(page, "screening-a-transfer")
    content = page.content()
    assert "Transfer from Test borough" in content and "mentoring is working" in content
    assert "Home visit: Jaden said" in content
    page.get_by_label("Accept and allocate", exact=False).check()
    page.get_by_label("Lead agency").select_option(label="Northbank Youth")
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(f"{live_server.url}/")
    transfer.refresh_from_db()
    assert transfer.status == "accepted"
    sign_out(page)

    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    scan(page, "sending-case-closed")
    content = page.content()
    assert "Transferred to another partnership" in content and "Transfer accepted by Northbank" in content

    assert not scan.problems, "axe-core found serious or critical violations:\n" + "\n".join(scan.problems)
