"""Consent and break-glass in Chromium (issue 18).

The lead youth service's manager records the young person's own consent
(15, judged competent); the school's share rests on it. The young person
withdraws it: the manager records that, and the school's practitioner, with
the case open in their own browser, finds it gone on the next page. Then a
youth worker of another agency opens a different case by break-glass with a
reason; the lead agency's data-protection officer finds the notification;
the youth worker's manager signs the opening off from the review queue.
Every page is scanned with axe-core."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agencies.models import AgencyKind, Role
from reminders.models import Notification, NotificationKind
from safeguarding.models import BreakGlassAccess, BreakGlassReview, ShareGrant
from tests import factories as f
from tests.e2e.test_journey import sign_in, sign_out
from tests.safeguarding.conftest import share

pytestmark = pytest.mark.e2e


def born_aged(years: int) -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - dt.timedelta(days=40)


def test_consent_withdrawn_and_break_glass_signed_off(live_server, context, scan, cast):
    manager = cast.user("owner", Role.MANAGER)
    teacher = cast.user("referrer", Role.PRACTITIONER)  # Referrer School's safeguarding lead
    case = f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(
        given_name="Maya", family_name="Osei", recorded_by=cast.owner, date_of_birth=born_aged(15)))
    school_share = share(case, cast.referrer, agreement=cast.agreement, emergency_basis="", lawful_basis="consent")

    page = context.new_page()
    sign_in(page, live_server, manager, scan)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_role("link", name="Record consent").click()
    page.wait_for_url("**/consent/")
    scan(page, "record-consent")
    page.get_by_label("Given by the young person").check()
    page.get_by_label("Yes, they understand", exact=False).check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.pk}/#consent")
    scan(page, "case-with-consent")
    expect(page.locator("body")).to_contain_text("aged 15, judged competent")

    # The school has the case open in its own browser.
    school = context.browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    school_page = school.new_page()
    sign_in(school_page, live_server, teacher)
    school_page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert "Maya Osei" in school_page.content()

    page.get_by_role("link", name="Record withdrawal of this consent").click()
    page.wait_for_url("**/withdraw/")
    scan(page, "withdraw-consent")
    page.get_by_label("The young person").check()
    page.get_by_label("What they said (optional)").fill("Does not want the school told any more")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.pk}/#consent")
    scan(page, "case-consent-withdrawn")
    expect(page.locator("body")).to_contain_text("Consent withdrawn: 1 share ended")
    school_share.refresh_from_db()
    assert school_share.revoked_at is not None

    school_page.reload()
    assert "Maya Osei" not in school_page.content() and "Page not found" in school_page.content()
    school_page.goto(f"{live_server.url}/notifications/")
    assert "no longer has case" not in school_page.content()  # told are its managers and DPO
    school.close()
    assert Notification.objects.filter(kind=NotificationKind.CONSENT_WITHDRAWN,
                                       recipient=cast.user("referrer", Role.MANAGER)).count() == 1
    sign_out(page)

    # Break-glass: a youth worker of another agency, on another case.
    eastside = f.AgencyFactory(name="Eastside Youth Service", slug="eastside-youth", kind=AgencyKind.YOUTH_SERVICE)
    youth_worker = f.make_member(eastside, Role.PRACTITIONER, username="eastside-youthworker")
    supervisor = f.make_member(eastside, Role.MANAGER, username="eastside-manager")
    other = f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(
        given_name="Kofi", family_name="Boateng", recorded_by=cast.owner))
    sign_in(page, live_server, youth_worker, scan)
    page.goto(f"{live_server.url}/break-glass/")
    scan(page, "break-glass")
    page.get_by_label("Case reference").fill(other.reference)
    page.get_by_label("Why you need this case now").fill("Kofi is missing tonight; his mother asked us to find him")
    page.get_by_role("button", name="Open the case").click()
    page.wait_for_url(f"{live_server.url}/cases/{other.pk}/")
    scan(page, "case-by-break-glass")
    expect(page.locator("body")).to_contain_text("You are reading this case by break-glass")
    expect(page.locator("body")).to_contain_text("Kofi Boateng")
    sign_out(page)

    dpo = cast.user("owner", Role.DPO)
    sign_in(page, live_server, dpo)
    page.goto(f"{live_server.url}/notifications/")
    scan(page, "dpo-notifications")
    expect(page.locator("body")).to_contain_text(f"Break-glass: case {other.reference} opened by Eastside Youth Service")
    sign_out(page)

    sign_in(page, live_server, supervisor)
    page.goto(f"{live_server.url}/break-glass/reviews/")
    scan(page, "review-queue")
    page.get_by_role("link", name=f"Review the opening of case {other.reference}").click()
    scan(page, "review-opening")
    expect(page.locator("body")).to_contain_text("Kofi is missing tonight")
    page.get_by_label("Signed off: the opening was justified").check()
    page.get_by_label("Your note").fill("Justified: he was reported missing at 21:00")
    page.get_by_role("button", name="Save the decision").click()
    page.wait_for_url(f"{live_server.url}/break-glass/reviews/")
    scan(page, "review-queue-empty")
    expect(page.locator("body")).to_contain_text("Nothing is waiting for review")
    assert BreakGlassReview.objects.get().opening == BreakGlassAccess.objects.get()
    assert ShareGrant.objects.filter(case=other).count() == 0  # break-glass granted no share

    assert not scan.problems, "axe-core found serious or critical violations:\n" + "\n".join(scan.problems)
