"""Screening deadlines: an open referral past its decision deadline alerts
the hub's screeners and managers once; red referrals earlier (configurable)."""

from __future__ import annotations

import pytest
from django.core import mail

from partnerships.rules import rules_in_force
from reminders.models import Notification
from referrals import deadlines
from reminders import tasks
from referrals import models as rm
from tests import factories as f
from tests.reminders.conftest import at

pytestmark = pytest.mark.django_db

HUB_PEOPLE = ["partnership-hub-hub_screener", "partnership-hub-manager"]


def referral(cast, received, risk=rm.RiskLevel.AMBER, **kwargs):
    """A referral as intake leaves it: its deadline and alert time set by
    the rules in force (here the deployment's defaults) when received."""
    rules = rules_in_force(None, received)
    due = deadlines.decision_due_at(received, risk, rules=rules)
    return f.ReferralFactory(
        referring_agency=cast.referrer, risk_level=risk, received_at=received,
        decision_due_at=due, alert_at=deadlines.alert_at(received, due, risk, rules=rules),
        young_person=f.YoungPersonFactory(recorded_by=cast.referrer), **kwargs,
    )


def recipients():
    return sorted(Notification.objects.values_list("recipient__username", flat=True))


def test_a_late_decision_alerts_the_hub_once(cast, frozen, run, settings):
    settings.REFERRAL_ALERT_LEAD_MINUTES = {}
    received = at(2026, 11, 17, 10)  # Tuesday → due Wednesday 10:00
    frozen(received)
    late = referral(cast, received)
    frozen(at(2026, 11, 18, 9, 59))
    run(tasks.screening_sweep)
    assert recipients() == []
    frozen(at(2026, 11, 18, 10, 1))
    run(tasks.screening_sweep)
    run(tasks.screening_sweep)
    assert recipients() == HUB_PEOPLE
    assert all(n.referral_id == late.pk for n in Notification.objects.all())
    assert sorted(m.to[0] for m in mail.outbox) == [f"{u}@example.org" for u in HUB_PEOPLE]
    assert late.reference in mail.outbox[0].subject
    assert late.young_person.family_name not in mail.outbox[0].body


def test_the_weekend_and_bank_holidays_stop_the_clock(cast, frozen, run, settings):
    settings.REFERRAL_ALERT_LEAD_MINUTES = {}
    received = at(2026, 12, 24, 15)  # Thursday before Christmas → due Tuesday 29th 15:00
    frozen(received)
    r = referral(cast, received)
    assert r.decision_due_at == at(2026, 12, 29, 15)
    for moment in (at(2026, 12, 25, 16), at(2026, 12, 26, 12), at(2026, 12, 28, 16), at(2026, 12, 29, 14, 59)):
        frozen(moment)
        run(tasks.screening_sweep)
    assert recipients() == []
    frozen(at(2026, 12, 29, 15, 5))
    run(tasks.screening_sweep)
    assert recipients() == HUB_PEOPLE


def test_red_referrals_alert_earlier_by_the_configured_lead(cast, frozen, run, settings):
    settings.REFERRAL_ALERT_LEAD_MINUTES = {"red": 30}
    settings.REFERRAL_DECISION_HOURS = {"red": 2}
    received = at(2026, 11, 17, 10)
    frozen(received)
    red = referral(cast, received, risk=rm.RiskLevel.RED)
    amber = referral(cast, received, risk=rm.RiskLevel.AMBER)
    assert red.decision_due_at == at(2026, 11, 17, 12)
    frozen(at(2026, 11, 17, 11, 29))
    run(tasks.screening_sweep)
    assert recipients() == []
    frozen(at(2026, 11, 17, 11, 31))
    run(tasks.screening_sweep)
    assert set(Notification.objects.values_list("referral_id", flat=True)) == {red.pk}
    assert "is due soon" in mail.outbox[0].subject
    frozen(at(2026, 11, 18, 10, 1))
    run(tasks.screening_sweep)
    assert set(Notification.objects.values_list("referral_id", flat=True)) == {red.pk, amber.pk}
    assert Notification.objects.count() == 4


def test_decided_referrals_are_left_alone(cast, frozen, run, settings):
    settings.REFERRAL_ALERT_LEAD_MINUTES = {}
    received = at(2026, 11, 17, 10)
    frozen(received)
    referral(cast, received, status=rm.ReferralStatus.SIGNPOSTED, decided_at=at(2026, 11, 17, 11),
             signposted_to="Youth club")
    frozen(at(2026, 11, 19, 10))
    run(tasks.screening_sweep)
    assert recipients() == [] and mail.outbox == []


def test_a_second_sweep_queues_nothing(cast, frozen, run, settings):
    from reminders import services as reminders

    settings.REFERRAL_ALERT_LEAD_MINUTES = {}
    received = at(2026, 11, 17, 10, 0)
    frozen(received)
    r = referral(cast, received)
    r.decision_due_at = at(2026, 11, 18, 10, 0) + __import__("datetime").timedelta(microseconds=654321)
    r.save()
    frozen(at(2026, 11, 18, 11))
    assert reminders.screening_sweep(enqueue=lambda _id: None) == 1
    run(tasks.screening_sweep)
    assert reminders.screening_sweep(enqueue=lambda _id: None) == 0
