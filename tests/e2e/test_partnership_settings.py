"""Issue 15's journey in a real browser: the partnership administrator adds
a concern with its signs and indicators and tightens the red decision limit
from tomorrow; a teacher refers with that concern and ticks two indicators;
the screener sees them and the deadline computed with today's rule; a
referral received yesterday keeps its old deadline. Every new page is
scanned with axe-core."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from agencies.models import Role
from casework import services
from partnerships.models import Concern, PartnershipRules
from partnerships.rules import rules_in_force
from referrals import deadlines
from referrals.models import Referral
from safeguarding import access
from tests import factories as f
from tests.e2e.test_journey import sign_in, sign_out


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _shown(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y %H:%M}"


def row(page, key: str) -> str:
    """The words of one row of the page's summary list."""
    return page.locator(".govuk-summary-list__row", has_text=key).first.inner_text()


def _rules(partnership, start, until, red_hours):
    return PartnershipRules.objects.create(
        partnership=partnership, effective_from=start, effective_until=until, decision_hours_red=red_hours,
        review_days_red=14, review_days_amber=28, review_days_green=42, retention_age_years=25,
    )


def test_local_vocabulary_and_limits_from_tomorrow(live_server, context, scan, cast):
    borough = f.default_partnership()
    today = timezone.localdate()
    # Yesterday red referrals were due in 8 working hours; since midnight, 6.
    _rules(borough, _start_of(today - dt.timedelta(days=3)), _start_of(today), 8)
    _rules(borough, _start_of(today), None, 6)
    teacher, screener = cast.user("referrer", "practitioner"), cast.user("hub", "hub_screener")
    received_yesterday = timezone.now() - dt.timedelta(days=1)
    old = services.referral_submit(
        actor=access.actor_for_user(teacher), concerns=["weapon"], risk_level="red", account="Seen with a knife.",
        consent="young_person", received_at=received_yesterday,
        person={"given_name": "Tia", "family_name": "Brooks", "date_of_birth": dt.date(2011, 1, 9)},
    )
    old_deadline = old.decision_due_at
    assert old_deadline == deadlines.decision_due_at(received_yesterday, "red", rules=rules_in_force(borough, received_yesterday))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # 1. The partnership administrator: a new concern, its signs and two indicators.
    sign_in(page, live_server, cast.user("hub", Role.PARTNERSHIP_ADMIN))
    page.get_by_role("link", name="Partnership settings").click()
    scan(page, "settings")
    page.get_by_role("link", name="Add a concern").click()
    scan(page, "concern-new")
    page.get_by_label("Name", exact=True).fill("Knife crime near schools")
    page.get_by_label("Signs to look for").fill("<script>alert(1)</script>")
    page.get_by_role("button", name="Save the concern").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scan(page, "concern-new-unsafe-markdown")
    page.get_by_label("Signs to look for").fill(
        "Look out for:\n\n- a knife or blade in a school bag\n- **fear** of the journey to or from school"
    )
    page.get_by_label("Source (optional)").fill("Home Office: Serious Violence Strategy")
    page.get_by_label("Source link (optional)").fill("https://www.gov.uk/government/publications/serious-violence-strategy")
    page.get_by_role("button", name="Save the concern").click()
    page.get_by_text("Concern added: Knife crime near schools").wait_for()
    concern = Concern.objects.get(partnership=borough, label="Knife crime near schools")
    for text in ("Has a knife or blade in their bag", "Afraid of the journey to school", "Carries a weapon for protection"):
        page.get_by_role("link", name="Add an indicator").click()
        page.get_by_label("Which concern is it a sign of?").select_option(label="Knife crime near schools")
        page.get_by_label("Indicator", exact=True).fill(text)
        if text.startswith("Has"):
            scan(page, "indicator-new")
        page.get_by_role("button", name="Save the indicator").click()
        page.get_by_text(f"Indicator added: {text}").wait_for()
    page.get_by_role("link", name="Knife crime near schools").click()
    scan(page, "concern-edit")
    page.get_by_role("link", name="Back to partnership settings").click()

    # ... and tightens the red decision limit from tomorrow.
    page.get_by_role("link", name="Set new rules from a date").click()
    scan(page, "rules-new")
    assert page.get_by_label("Red decision limit").input_value() == "6"
    page.get_by_label("Red decision limit").fill("0")
    page.get_by_role("button", name="Save the new rules").click()
    page.get_by_text("a limit of zero is no limit").first.wait_for()
    scan(page, "rules-new-errors")
    page.get_by_label("Red decision limit").fill("2")
    page.get_by_label("Why the rules change (optional)").fill("Agreed at the partnership board")
    page.get_by_role("button", name="Save the new rules").click()
    page.get_by_text("New rules saved").wait_for()
    tomorrow = rules_in_force(borough, _start_of(today + dt.timedelta(days=1)))
    assert tomorrow.decision_limit_hours("red") == 2 and rules_in_force(borough).decision_limit_hours("red") == 6
    page.goto(f"{live_server.url}/partnership/settings/history/")
    expect(page.locator("body")).to_contain_text("Concern: Knife crime near schools")
    scan(page, "settings-history")
    sign_out(page)

    # 2. A teacher refers with that concern and ticks two indicators.
    sign_in(page, live_server, teacher)
    page.get_by_role("link", name="What to look for").first.click()
    expect(page.locator("body")).to_contain_text("a knife or blade in a school bag")
    scan(page, "awareness")
    page.get_by_role("link", name="Printable version").click()
    scan(page, "awareness-print")
    page.goto(f"{live_server.url}/referrals/new/person/")
    page.get_by_label("First name").fill("Jordan")
    page.get_by_label("Last name").fill("Blake")
    page.get_by_label("Day").fill("14")
    page.get_by_label("Month").fill("6")
    page.get_by_label("Year").fill("2010")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Add a new young person").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Male", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("Signs to look for: Knife crime near schools").click()  # the details component opens
    page.get_by_text("a knife or blade in a school bag").wait_for()
    scan(page, "referral-concerns-with-signs")
    page.get_by_label("Knife crime near schools").check()
    page.get_by_role("button", name="Continue").click()
    scan(page, "referral-indicators")
    page.get_by_label("Has a knife or blade in their bag").check()
    page.get_by_label("Afraid of the journey to school").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Red (high)").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("What happened?").fill("Jordan told his form tutor he carries a knife on the way home.")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Given by the young person").check()
    page.get_by_role("button", name="Continue").click()
    scan(page, "referral-check-with-signs")
    page.get_by_role("button", name="Accept and send").click()
    page.locator(".govuk-panel--confirmation").wait_for()
    referral = Referral.objects.get(young_person__family_name="Blake")
    ticked = list(concern.indicators.filter(pk__in=referral.indicators).values_list("text", flat=True))
    assert sorted(ticked) == ["Afraid of the journey to school", "Has a knife or blade in their bag"]
    assert referral.concerns == [concern.code] and referral.risk_level == "red"
    sign_out(page)

    # 3. The screener sees the signs ticked and today's deadline; yesterday's keeps its own.
    sign_in(page, live_server, screener)
    page.get_by_role("link", name=referral.reference).click()
    scan(page, "screening-with-signs")
    signs = row(page, "Signs the referrer saw")
    assert "Has a knife or blade in their bag" in signs and "Afraid of the journey to school" in signs
    today_rule = deadlines.decision_due_at(referral.received_at, "red", rules=rules_in_force(borough, referral.received_at))
    assert referral.decision_due_at == today_rule
    assert _shown(today_rule) in row(page, "Decision due")
    page.goto(f"{live_server.url}/screening/{old.pk}/")
    old.refresh_from_db()
    assert old.decision_due_at == old_deadline, "the new rules moved an existing deadline"
    assert _shown(old_deadline) in row(page, "Decision due")

    assert not errors, errors
    assert not scan.problems, "axe-core found serious or critical violations:\n" + "\n".join(scan.problems)
