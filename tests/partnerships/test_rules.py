"""A partnership's own rules (decision limits and review intervals by risk,
alert lead times, retention age and the thresholds later issues read),
versioned with effective-from dates: what is in force at a moment, and that
a change never moves a deadline already set."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from casework import services
from partnerships.models import PartnershipRules
from partnerships.rules import deployment_defaults, rules_in_force
from referrals import deadlines
from referrals import models as rm
from reminders import services as reminders
from safeguarding import access, retention
from tests import factories as f

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def at(year, month, day, hour=9, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def version(partnership, effective_from, effective_until=None, **values) -> PartnershipRules:
    fields = {
        "review_days_red": 14, "review_days_amber": 28, "review_days_green": 56, "retention_age_years": 25,
        **values,
    }
    return PartnershipRules.objects.create(
        partnership=partnership, effective_from=effective_from, effective_until=effective_until, **fields,
    )


def submit(cast, risk, **kwargs):
    return services.referral_submit(
        actor=cast.actor("referrer", "practitioner"), concerns=["weapon"], risk_level=risk,
        account="Seen with a knife near the station.", consent="young_person",
        person={"given_name": "Sam", "family_name": "Okafor", "date_of_birth": dt.date(2011, 3, 4)}, **kwargs,
    )


# -- what is in force --------------------------------------------------------------


def test_with_no_version_the_deployments_defaults_apply(settings):
    settings.REFERRAL_DECISION_HOURS = {"red": 2}
    settings.CASE_REVIEW_INTERVAL_DAYS = 30
    settings.REFERRAL_ALERT_LEAD_MINUTES = {"red": 15}
    settings.RETENTION_AGE_YEARS = 27
    rules = rules_in_force(f.default_partnership(), at(2026, 11, 17))
    assert rules.is_default
    assert rules.decision_limit_hours("red") == 2 and rules.decision_limit_hours("amber") is None
    assert rules.review_interval_days("green") == 30
    assert rules.alert_lead("red") == dt.timedelta(minutes=15) and rules.alert_lead("amber") == dt.timedelta(0)
    assert rules.retention_age_years == 27
    # The three a later issue reads have defaults of their own.
    assert (rules.small_number_threshold, rules.consent_competence_age, rules.break_glass_hours) == (5, 13, 4)


def test_the_version_covering_the_moment_is_in_force(settings):
    settings.REFERRAL_DECISION_HOURS = {}
    borough, other = f.default_partnership(), f.PartnershipFactory(name="Elsewhere", slug="elsewhere")
    first = version(borough, at(2026, 11, 1, 0), at(2026, 11, 20, 0), decision_hours_red=4)
    second = version(borough, at(2026, 11, 20, 0), decision_hours_red=2, small_number_threshold=10,
                     consent_competence_age=14, break_glass_hours=8)
    assert rules_in_force(borough, at(2026, 10, 31, 23, 59)).is_default
    assert rules_in_force(borough, at(2026, 11, 1, 0)).version_id == first.pk
    assert rules_in_force(borough, at(2026, 11, 19, 23, 59)).decision_limit_hours("red") == 4
    now = rules_in_force(borough, at(2026, 11, 20, 0))
    assert now.version_id == second.pk and now.decision_limit_hours("red") == 2
    assert (now.small_number_threshold, now.consent_competence_age, now.break_glass_hours) == (10, 14, 8)
    # Another partnership's rules are its own.
    assert rules_in_force(other, at(2026, 11, 25)).is_default
    assert rules_in_force(None, at(2026, 11, 25)) == deployment_defaults()


def test_versions_of_one_partnership_never_overlap():
    borough = f.default_partnership()
    version(borough, at(2026, 11, 1, 0))  # open-ended
    with pytest.raises(IntegrityError), transaction.atomic():
        version(borough, at(2026, 12, 1, 0))
    with pytest.raises(IntegrityError), transaction.atomic():
        version(borough, at(2026, 10, 1, 0), at(2026, 11, 2, 0))
    # Side by side is not overlapping; another partnership is not affected.
    version(borough, at(2026, 10, 1, 0), at(2026, 11, 1, 0))
    version(f.PartnershipFactory(name="Elsewhere", slug="elsewhere"), at(2026, 11, 1, 0))


@pytest.mark.parametrize("values", [
    {"decision_hours_red": 0}, {"decision_hours_amber": 8_785}, {"review_days_green": 0}, {"review_days_red": 367},
    {"alert_minutes_red": 527_041}, {"retention_age_years": 17}, {"small_number_threshold": 0},
    {"consent_competence_age": 9}, {"break_glass_hours": 0}, {"break_glass_hours": 169},
])
def test_the_database_refuses_limits_of_zero_or_beyond_a_year(values):
    with pytest.raises(IntegrityError), transaction.atomic():
        version(f.default_partnership(), at(2026, 11, 1, 0), **values)


# -- deadlines are set once, by the rules in force when received ---------------------


def test_a_referral_keeps_the_deadline_of_the_rules_it_was_received_under(cast, settings):
    settings.REFERRAL_DECISION_HOURS = {"red": 6}
    settings.REFERRAL_ALERT_LEAD_MINUTES = {"red": 30}
    borough = f.default_partnership()
    with time_machine.travel(at(2026, 11, 17, 10), tick=False):  # a Tuesday
        before = submit(cast, "red")
        # The partnership tightens red to 2 hours (alert 15 minutes before) from tomorrow.
        version(borough, at(2026, 11, 18, 0), decision_hours_red=2, alert_minutes_red=15)
        same_day = submit(cast, "red")
    with time_machine.travel(at(2026, 11, 18, 10), tick=False):
        after = submit(cast, "red")
    assert before.decision_due_at == same_day.decision_due_at == at(2026, 11, 17, 16)
    assert before.alert_at == at(2026, 11, 17, 15, 30)
    assert after.decision_due_at == at(2026, 11, 18, 12) and after.alert_at == at(2026, 11, 18, 11, 45)
    before.refresh_from_db()
    assert before.decision_due_at == at(2026, 11, 17, 16), "the new rules moved an existing deadline"
    # A referral a partner system received yesterday, sent in today, gets yesterday's rules.
    with time_machine.travel(at(2026, 11, 18, 10), tick=False):
        late = submit(cast, "red", received_at=at(2026, 11, 17, 11))
    assert late.decision_due_at == at(2026, 11, 17, 17)
    assert deadlines.decision_due_at(at(2026, 11, 17, 11), "red", partnership=borough) == late.decision_due_at


def test_the_alert_comes_from_the_stored_time_not_todays_rules(cast, settings):
    settings.REFERRAL_DECISION_HOURS = {"red": 4}
    settings.REFERRAL_ALERT_LEAD_MINUTES = {"red": 60}
    sweep = access.system_actor(partnership=f.default_partnership())
    with time_machine.travel(at(2026, 11, 17, 10), tick=False):
        referral = submit(cast, "red")
        # Rules with no lead at all, from a minute later: the alert stays at 13:00.
        version(f.default_partnership(), at(2026, 11, 17, 10, 1), decision_hours_red=4, alert_minutes_red=0)
    assert referral.alert_at == at(2026, 11, 17, 13)

    def due(moment):
        found = []
        reminders.screening_sweep(enqueue=found.append, now=moment, actor=sweep)
        return found

    assert due(at(2026, 11, 17, 12, 59)) == []
    assert due(at(2026, 11, 17, 13, 0)) == [referral.pk]
    assert reminders.screening_reminders_record(referral_id=referral.pk, now=at(2026, 11, 17, 12, 59), actor=sweep) == []
    assert reminders.screening_reminders_record(referral_id=referral.pk, now=at(2026, 11, 17, 13, 1), actor=sweep)


def test_review_intervals_follow_the_risk_and_the_rules_when_the_review_is_set(cast, settings):
    borough = f.default_partnership()
    version(borough, at(2026, 11, 1, 0), at(2026, 12, 1, 0), review_days_red=14, review_days_amber=28)
    hub = cast.actor("hub", "hub_screener")
    with time_machine.travel(at(2026, 11, 16, 10), tick=False):  # a Monday
        referral = submit(cast, "red")
        case = services.referral_accept(
            actor=hub, referral=referral, lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
        )
    assert case.review_interval_days == 14 and case.next_review_due == dt.date(2026, 11, 30)
    # From December amber reviews are every 21 days; the open review date does not move.
    version(borough, at(2026, 12, 1, 0), review_days_red=7, review_days_amber=21)
    case.refresh_from_db()
    assert case.next_review_due == dt.date(2026, 11, 30)
    manager = cast.actor("owner", "manager")
    with time_machine.travel(at(2026, 12, 2, 10), tick=False):  # a Wednesday
        review = services.review_complete(actor=manager, case=case, risk_after="amber", summary="Calmer",
                                          decision="continue")
    case.refresh_from_db()
    assert review.next_review_due == dt.date(2026, 12, 23) == case.next_review_due
    assert case.review_interval_days == 21


def test_retention_uses_each_partnerships_own_age(cast, settings):
    settings.RETENTION_AGE_YEARS = 25
    elsewhere = f.PartnershipFactory(name="Elsewhere", slug="elsewhere")
    version(elsewhere, at(2026, 1, 1, 0), retention_age_years=30)
    today = dt.date(2026, 11, 17)
    assert retention.retention_cutoff(today, partnership_id=f.default_partnership().pk) == dt.date(2001, 11, 17)
    assert retention.retention_cutoff(today, partnership_id=elsewhere.pk) == dt.date(1996, 11, 17)
    born = dt.date(1999, 6, 1)  # 27 on the day: past 25, not past 30
    agency = f.AgencyFactory(partnerships=[f.default_partnership(), elsewhere])
    cases = {}
    for partnership in (f.default_partnership(), elsewhere):
        person = f.YoungPersonFactory(partnership=partnership, recorded_by=agency, date_of_birth=born)
        cases[partnership.slug] = f.CaseFactory(
            young_person=person, lead_agency=agency, status=rm.CaseStatus.CLOSED, opened_at=at(2020, 1, 1),
            closed_at=at(2021, 1, 1),
            closure_reason=rm.ClosureReason.OUTCOMES_MET,
        )
    due = set(retention.cases_due_for_anonymisation(today).values_list("pk", flat=True))
    assert due == {cases["test-borough"].pk}
    assert not retention.cases_due_for_anonymisation(today, partnership_id=elsewhere.pk).exists()
