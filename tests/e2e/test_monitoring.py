"""Issue 17's journey in a real browser: the partnership's reporting
analyst opens the monitoring from their home page, filters the referrals
by a ward, reads the ward's figures (charts first, each with its table),
goes through the other reports (the contexts and panels among them: the
ward's row of places and groups, the borough's panel actions and the
share completed on time) and downloads the ward's figures as CSV and as an
OpenDocument spreadsheet. Every page is scanned with axe-core."""

from __future__ import annotations

import zipfile

from playwright.sync_api import expect

from monitoring.models import Ward
from reminders import tasks
from tests.e2e.test_journey import sign_in
from tests.monitoring.conftest import panels, world  # noqa: F401 (fixtures)


def test_the_analyst_filters_by_ward_and_exports(live_server, context, scan, world, panels):  # noqa: F811
    # The scheduled refresh, which also works the year's figures out.
    tasks.monitoring_refresh()
    page = context.new_page()
    sign_in(page, live_server, world.analyst, scan)
    scan(page, "home")
    page.get_by_role("link", name="Strategy monitoring").click()
    page.wait_for_url("**/monitoring/referrals/")
    scan(page, "monitoring-referrals")
    assert page.locator("svg .crossroads-map__ward").count() == 2

    page.get_by_label("Ward", exact=True).select_option(label="North Ward")
    page.get_by_role("button", name="Show figures").click()
    page.wait_for_url("**/monitoring/referrals/?*ward=*")
    scan(page, "monitoring-referrals-north-ward")
    ward_table = page.locator("#table-ward").inner_text()
    assert "North Ward" in ward_table and "South Ward" not in ward_table

    for name in ("Cases", "Interventions", "Contexts and panels", "Disproportionality"):
        page.locator("#monitoring-reports").get_by_role("link", name=name).click()
        page.wait_for_load_state()
        assert "ward=" in page.url, "the filters go with the reader"
        scan(page, f"monitoring-{name.lower().replace(' ', '-')}")
        if name == "Contexts and panels":
            places = page.locator("#table-context_wards").inner_text()
            assert "North Ward" in places and "South Ward" not in places
            expect(page.locator("#table-panel_actions")).to_be_visible()
            expect(page.locator("#on-time")).to_be_visible()
            expect(page.get_by_text("The concern filter does not apply to contexts and panels")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    csv = open(download_info.value.path(), encoding="utf-8").read()
    assert csv.startswith('"Disproportionality, financial year') and "By ethnic group" in csv
    with page.expect_download() as download_info:
        page.get_by_role("link", name="OpenDocument spreadsheet").click()
    ods = zipfile.ZipFile(download_info.value.path())
    assert ods.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    assert "By age band" in ods.read("content.xml").decode()
    north = Ward.objects.get(partnership=world.partnership, name="North Ward")
    assert f"ward={north.pk}" in page.url
    assert not scan.problems, "axe-core found serious or critical violations:\n" + "\n".join(scan.problems)
