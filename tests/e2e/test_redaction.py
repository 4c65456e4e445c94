"""Redaction in Chromium (issue 18): a police officer records an incident
naming a witness and withholds the witness's name from schools; the school
the case is shared with sees a marker where the name was, never the name,
on the case page, through its partner system's API and in the chronology
it downloads; the data-protection officer's subject-access export of the
young person leaves the witness out and says so. Every page is scanned
with axe-core."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agencies.models import Role
from reports.subject_access import subject_access_request_record
from safeguarding.models import WithheldPassage
from tests import factories as f
from tests.api.conftest import bearer, issue
from tests.e2e.test_journey import sign_in, sign_out
from tests.safeguarding.conftest import share

pytestmark = pytest.mark.e2e

WITNESS = "Marcus Ellery of 12 Dock Road"
ENTRY = f"Fight at the bus station at 16:10. Witness {WITNESS} saw Jordan pass a knife to another boy."
MARKER = "[withheld by Sharing Police — ask PC 4471 Adams, Sharing Police]"


def test_a_witness_withheld_from_the_school(live_server, context, scan, cast):
    person = f.YoungPersonFactory(given_name="Jordan", family_name="Ellis", recorded_by=cast.owner)
    case = f.CaseFactory(lead_agency=cast.owner, young_person=person)
    share(case, cast.sharing)  # the police
    share(case, cast.referrer)  # the school
    officer, teacher = cast.user("sharing", Role.PRACTITIONER), cast.user("referrer", Role.PRACTITIONER)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # 1. The police officer records the incident, then withholds the witness.
    sign_in(page, live_server, officer, scan)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_role("link", name="Add a chronology entry").click()
    page.get_by_label("Incident").check()
    page.get_by_label("Entry").fill(ENTRY)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_role("link", name="Withhold words of the entry", exact=False).click()
    page.wait_for_url("**/withhold/")
    scan(page, "withhold-form")
    page.get_by_role("button", name="Withhold these words").click()  # nothing filled in: the error summary
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scan(page, "withhold-errors")
    page.get_by_label("Words to withhold").fill(WITNESS)
    page.get_by_label("Third party: witness").check()
    page.get_by_label("The agencies I name").check()
    page.get_by_role("group", name="The agencies to withhold it from").get_by_label("Referrer School").check()
    page.get_by_label("Whom should they ask for it").fill("PC 4471 Adams, Sharing Police")
    page.get_by_label("Why (optional)").fill("The witness fears reprisals")
    page.get_by_role("button", name="Withhold these words").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.pk}/#chronology")
    scan(page, "case-after-withholding")
    expect(page.locator("body")).to_contain_text(WITNESS)  # the police still read it
    assert WithheldPassage.objects.get().text == WITNESS
    sign_out(page)

    # 2. The school: the marker, never the name, on the page...
    sign_in(page, live_server, teacher)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    scan(page, "school-case-page")
    body = page.locator("main").inner_text()
    assert WITNESS not in body and MARKER in body
    assert "were withheld from every agency but Sharing Police" in body  # the chronology says that something was withheld
    # ...in the chronology it downloads...
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the chronology (CSV)").click()
    csv_text = open(download_info.value.path(), encoding="utf-8").read()
    assert WITNESS not in csv_text and MARKER in csv_text
    # ...and through its partner system.
    client, _secret = issue(cast, "referrer", name="Referrer School MIS")
    response = context.request.get(f"{live_server.url}/api/v1/cases/{case.pk}/notes/",
                                   headers={"Authorization": f"Bearer {bearer(client)}"})
    assert response.status == 200
    texts = [note["text"] for note in response.json()["results"]]
    assert not any(WITNESS in t for t in texts) and any(MARKER in t for t in texts)
    sign_out(page)

    # 3. The subject-access export leaves the witness out, and says so.
    sar = subject_access_request_record(actor=cast.actor("owner", Role.DPO), young_person=person,
                                        received_on=timezone.localdate())
    sign_in(page, live_server, cast.user("owner", Role.DPO))
    page.goto(f"{live_server.url}/subject-access/{sar.pk}/")
    scan(page, "subject-access-export-page")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the data (JSON)").click()
    data = json.loads(open(download_info.value.path(), encoding="utf-8").read())
    assert WITNESS not in json.dumps(data, ensure_ascii=False)
    assert data["third_parties_left_out"] == 1 and "paragraph 16" in data["third_parties_statement"]
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the readable document (HTML, printable)").click()
    document = open(download_info.value.path(), encoding="utf-8").read()
    assert WITNESS not in document and "Information about other people left out" in document
    page.set_content(document)
    scan(page, "subject-access-document")
    page.goto(f"{live_server.url}/")
    sign_out(page)

    # 4. Later, the officer releases the witness's name to the lead agency.
    sign_in(page, live_server, officer)
    page.goto(f"{live_server.url}/withheld/{WithheldPassage.objects.get().pk}/release/")
    scan(page, "release-form")
    page.get_by_label("Owner Youth Service").check()
    page.get_by_label("Why are they released").fill("Agreed at the strategy meeting")
    page.get_by_role("button", name="Release the words").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.pk}/")
    assert WithheldPassage.objects.get().released_to.filter(pk=cast.owner.pk).exists()

    assert not errors, errors
    assert not scan.problems, "axe-core found serious or critical violations:\n" + "\n".join(scan.problems)
