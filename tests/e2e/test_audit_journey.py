"""The audit journey in a real browser: the lead agency's manager reads a
case's change history and who has seen it; the data-protection officer
records a subject-access request and downloads the export in both forms.
Every page is scanned with axe-core."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from safeguarding.models import AccessEvent, SubjectAccessRequest
from tests.api.conftest import case  # noqa: F401  (the fixture)
from tests.e2e.test_journey import sign_in, sign_out
from tests.safeguarding.conftest import share


def test_who_has_seen_and_subject_access(live_server, context, scan, cast, case):  # noqa: F811
    share(case, cast.sharing, agreement=cast.agreement, emergency_basis="")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # A practitioner of the sharing agency reads the case.
    sign_in(page, live_server, cast.user("sharing", "practitioner"))
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    sign_out(page)

    # The lead agency's manager: the change history, then who has seen the case.
    sign_in(page, live_server, cast.user("owner", "manager"))
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_role("link", name="Change history").click()
    page.get_by_role("heading", name="Change history").wait_for()
    scan(page, "case-history")
    page.get_by_role("link", name="Back to the case").click()
    page.get_by_role("link", name="Who has seen this record").click()
    page.get_by_role("heading", name="Who has seen this record").wait_for()
    scan(page, "who-has-seen")
    table = page.locator("table.govuk-table").inner_text()
    assert cast.sharing.name in table and "Share grant #" in table
    sign_out(page)

    # The data-protection officer records a request and exports everything.
    sign_in(page, live_server, cast.user("owner", "dpo"))
    page.get_by_role("link", name="Subject access requests").click()
    scan(page, "subject-access-list")
    page.get_by_role("link", name="Record a request").click()
    page.get_by_label("Young person's record number or name").fill(str(case.young_person_id))
    page.get_by_role("button", name="Find").click()
    scan(page, "subject-access-find")
    page.get_by_role("button", name="Record the request").click()  # nothing chosen: the error summary
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scan(page, "subject-access-errors")
    page.get_by_label(f"#{case.young_person_id}").check()
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("1")
    page.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Record the request").click()
    page.get_by_text("Request recorded: due 28 February 2026").wait_for()
    scan(page, "subject-access-export-page")
    sar = SubjectAccessRequest.objects.get()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the data (JSON)").click()
    data = json.loads(open(download_info.value.path(), encoding="utf-8").read())
    assert {n["text"] for n in data["cases"][0]["notes"]} >= {"owner agency note", "sharing agency note"}
    assert data["access_log"][-1]["action"] == "subject_access_export"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the readable document (HTML, printable)").click()
    document = open(download_info.value.path(), encoding="utf-8").read()
    assert "<h2>Access log</h2>" in document and "sharing agency note" in document
    page.set_content(document)
    scan(page, "subject-access-document")

    assert AccessEvent.objects.filter(action="subject_access_export", detail__request=sar.pk).count() == 2
    assert not errors, errors
    assert not scan.problems, scan.problems
