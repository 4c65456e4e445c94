"""The whole journey in a real browser: a youth worker refers, the hub
accepts and allocates, the key worker works the case, the manager sees the
caseload change and exports it. Every page is scanned with axe-core."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from agencies import two_factor
from referrals.models import Case, CaseNote, Intervention, Referral, Review
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.signing_in import usable_code

PASSWORD = "correct horse battery staple"


def sign_in(page, live_server, user, scan=None):
    """As a person does: the password, then the code their authenticator
    app shows (their app is set up already; tests/e2e/test_two_factor.py
    sets one up)."""
    device = two_factor.confirmed_app_ensure(user=user)
    page.goto(f"{live_server.url}/accounts/login/")
    if scan:
        scan(page, "sign-in")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/two-factor/**")
    if scan:
        scan(page, "two-factor-code")
    page.get_by_label("Enter the code from your authenticator app").fill(usable_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/")


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")


@pytest.fixture
def people(cast):
    def named(user, first, last):
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
        return user

    return {
        "youth_worker": named(cast.user("referrer", "practitioner"), "Yemi", "Adeyemi"),
        "screener": named(cast.user("hub", "hub_screener"), "Hana", "Hughes"),
        "key_worker": named(cast.user("owner", "practitioner"), "Kofi", "Mensah"),
        "manager": named(cast.user("owner", "manager"), "Mary", "Okoro"),
    }


def test_referral_to_review_to_manager_export(live_server, context, scan, cast, people):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # 1. The youth worker makes a referral.
    sign_in(page, live_server, people["youth_worker"], scan)
    scan(page, "youth-worker-home")
    page.get_by_role("link", name="Make a referral").first.click()
    scan(page, "referral-start")
    page.get_by_role("button", name="Start now").click()
    scan(page, "referral-person")
    page.get_by_role("button", name="Continue").click()  # nothing typed: the error summary
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scan(page, "referral-person-errors")
    page.get_by_label("First name").fill("Jordan")
    page.get_by_label("Last name").fill("Blake")
    page.get_by_label("Day").fill("14")
    page.get_by_label("Month").fill("6")
    page.get_by_label("Year").fill("2010")
    page.get_by_role("button", name="Continue").click()
    scan(page, "referral-choose-person")
    page.get_by_label("Add a new young person").check()
    page.get_by_role("button", name="Continue").click()
    scan(page, "referral-new-person")
    page.get_by_label("Male", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    scan(page, "referral-concerns")
    page.get_by_label("Carrying a knife or weapon").check()
    page.get_by_label("Gang association").check()
    page.get_by_role("button", name="Continue").click()
    scan(page, "referral-risk")
    page.get_by_label("Red (high)").check()
    page.get_by_role("button", name="Continue").click()
    scan(page, "referral-account")
    page.get_by_label("What happened?").fill("Jordan showed a friend a knife at the bus stop after school.")
    page.get_by_role("button", name="Continue").click()
    scan(page, "referral-consent")
    page.get_by_label("Not sought", exact=True).check()
    # The conditional reveal, shown by GOV.UK Frontend's script.
    lawful = page.get_by_label("Lawful basis for referring without consent")
    lawful.wait_for(state="visible")
    lawful.select_option(value="safeguarding_children")
    page.get_by_label("Why was consent not sought?").fill("Asking would alert those exploiting him.")
    page.get_by_role("button", name="Continue").click()
    scan(page, "referral-check-answers")
    assert Referral.objects.count() == 0  # nothing saved before the final submit
    page.get_by_role("button", name="Accept and send").click()
    page.locator(".govuk-panel--confirmation").wait_for()
    scan(page, "referral-confirmation")
    referral = Referral.objects.get()
    assert referral.reference in page.locator(".govuk-panel").inner_text()
    sign_out(page)

    # 2. The hub accepts it and allocates a lead agency and key worker.
    sign_in(page, live_server, people["screener"])
    scan(page, "hub-home-queue")
    page.get_by_role("link", name=referral.reference).click()
    scan(page, "screening")
    page.get_by_label("Accept and allocate").check()
    page.get_by_label("Lead agency").select_option(label=cast.owner.name)
    page.get_by_label("Key worker (optional)").select_option(label=f"Kofi Mensah ({cast.owner.name})")
    page.get_by_role("button", name="Record the decision").click()
    page.get_by_text("accepted: case").wait_for()
    case = Case.objects.get(young_person=referral.young_person)
    assert case.key_worker == people["key_worker"]
    sign_out(page)

    # 3. The key worker adds a note and an intervention and completes a review.
    sign_in(page, live_server, people["key_worker"])
    scan(page, "key-worker-home")
    page.get_by_role("link", name=case.reference).first.click()
    scan(page, "case")
    page.get_by_role("link", name="Add a chronology entry").click()
    scan(page, "note-add")
    page.get_by_label("Contact", exact=True).check()
    page.get_by_label("Entry").fill("Met Jordan and his mum at home; he agreed to meet a mentor.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Chronology entry added").wait_for()
    page.get_by_role("link", name="Add an intervention").click()
    scan(page, "intervention-add")
    page.get_by_label("Provider").select_option(label=cast.owner.name)
    page.get_by_label("Kind of intervention").select_option(value="mentoring")
    page.get_by_label("Goals").fill("Weekly mentoring; back into school full time.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Intervention added").wait_for()
    page.get_by_role("link", name="Complete the review").click()
    scan(page, "review")
    page.get_by_label("Amber (medium)").check()
    page.get_by_label("Continue", exact=True).check()
    page.get_by_label("Summary").fill("Engaging with the mentor; risk reduced.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Review completed").wait_for()
    scan(page, "case-after-review")
    assert CaseNote.objects.filter(case=case, author=people["key_worker"]).exists()
    assert Intervention.objects.filter(case=case).count() == 1
    assert Review.objects.filter(case=case, completed_at__isnull=False).count() == 1
    sign_out(page)

    # 4. The manager sees the caseload change and exports it.
    sign_in(page, live_server, people["manager"])
    scan(page, "manager-home")
    row = page.get_by_role("row", name="Kofi Mensah")
    assert row.get_by_role("cell").first.inner_text().strip() == "1"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export the caseload (CSV)").click()
    download = download_info.value
    text = open(download.path(), encoding="utf-8").read()
    assert case.reference in text and "Jordan Blake" in text
    assert AccessEvent.objects.filter(action="export", user=people["manager"]).exists()

    assert not errors, errors
    assert scan.count >= 18
    assert not scan.problems, "axe-core found serious or critical violations:\n" + "\n".join(scan.problems)


def test_referral_works_without_javascript(live_server, browser, cast):
    """Progressive enhancement: the consent question's conditional fields
    are simply shown when scripts do not run."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, cast.user("referrer", "practitioner"))
        page.goto(f"{live_server.url}/referrals/new/person/")
        page.get_by_label("First name").fill("Sam")
        page.get_by_label("Last name").fill("Reid")
        page.get_by_label("Day").fill("2")
        page.get_by_label("Month").fill("9")
        page.get_by_label("Year").fill("2009")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Continue").click()  # "Add a new young person" is preselected
        page.get_by_label("Not known").check()
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Missing episodes").check()
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Amber (medium)").check()
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("What happened?").fill("Missing overnight twice this month.")
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Not sought", exact=True).check()
        page.get_by_label("Lawful basis for referring without consent").select_option(value="safeguarding_children")
        page.get_by_label("Why was consent not sought?").fill("Parent implicated.")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Accept and send").click()
        page.locator(".govuk-panel--confirmation").wait_for()
        assert Referral.objects.get().young_person.family_name == "Reid"
    finally:
        context.close()
