"""Review reminders: due within three working days → key worker; overdue →
key worker and the lead agency's managers, again each week."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from reminders.models import Notification, NotificationKind
from reminders import services as reminders, tasks
from tests.reminders.conftest import at

pytestmark = pytest.mark.django_db


def keys(kind=None):
    qs = Notification.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    return sorted((n.recipient.username, n.dedup_key) for n in qs.select_related("recipient"))


def test_due_within_three_working_days_reminds_the_key_worker_once(cast, make_case, frozen, run):
    frozen(at(2026, 11, 18))  # Wednesday
    case = make_case(due=dt.date(2026, 11, 23))  # the following Monday: working day 3
    run(tasks.review_sweep)
    run(tasks.review_sweep)
    assert keys() == [("owner-youth-service-practitioner", f"review_due_soon:case:{case.pk}:due:2026-11-23")]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner-youth-service-practitioner@example.org"]
    assert case.reference in message.subject and case.reference in message.body
    assert f"/cases/{case.pk}/" in message.body
    # References, not names: the e-mail leaves the partnership's systems.
    assert "Tobias" not in message.body + message.subject and "Quillfeather" not in message.body


def test_not_yet_due_soon_means_nothing(cast, make_case, frozen, run):
    frozen(at(2026, 11, 18))  # Wednesday; Thu, Fri, Mon are the three working days
    make_case(due=dt.date(2026, 11, 24))  # Tuesday: the fourth
    run(tasks.review_sweep)
    assert keys() == [] and mail.outbox == []


def test_the_weekend_does_not_count_as_working_days(cast, make_case, frozen, run):
    frozen(at(2026, 11, 21, 10))  # Saturday: Mon, Tue, Wed are the three working days
    wednesday = make_case(due=dt.date(2026, 11, 25))
    make_case(due=dt.date(2026, 11, 26))  # Thursday: too far
    run(tasks.review_sweep)
    assert [k for _u, k in keys()] == [f"review_due_soon:case:{wednesday.pk}:due:2026-11-25"]


def test_bank_holidays_do_not_count_as_working_days(cast, make_case, frozen, run):
    # Wednesday 23 December 2026: Thu 24, then Christmas (Fri), the weekend and
    # the Boxing Day substitute (Mon 28) pass, Tue 29 and Wed 30 are days 2 and 3.
    frozen(at(2026, 12, 23))
    in_time = make_case(due=dt.date(2026, 12, 30))
    make_case(due=dt.date(2026, 12, 31))
    assert reminders._due_soon_horizon(dt.date(2026, 12, 23)) == dt.date(2026, 12, 30)
    run(tasks.review_sweep)
    assert [k for _u, k in keys()] == [f"review_due_soon:case:{in_time.pk}:due:2026-12-30"]


def test_due_today_is_due_soon_not_overdue(cast, make_case, frozen, run):
    frozen(at(2026, 11, 16, 17))
    case = make_case(due=dt.date(2026, 11, 16))
    run(tasks.review_sweep)
    assert [k for _u, k in keys()] == [f"review_due_soon:case:{case.pk}:due:2026-11-16"]


def test_overdue_tells_key_worker_and_lead_managers_then_weekly(cast, make_case, frozen, run):
    case = make_case(due=dt.date(2026, 11, 16))  # Monday
    frozen(at(2026, 11, 17, 6))  # Tuesday: overdue since midnight
    run(tasks.review_sweep)
    week0 = f"review_overdue:case:{case.pk}:due:2026-11-16:week:0"
    assert keys(NotificationKind.REVIEW_OVERDUE) == [
        ("owner-youth-service-manager", week0),
        ("owner-youth-service-practitioner", week0),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "owner-youth-service-manager@example.org", "owner-youth-service-practitioner@example.org",
    ]
    # Nobody outside the lead agency hears of it.
    assert not Notification.objects.exclude(recipient__username__startswith="owner-").exists()
    # Every sweep that week changes nothing ...
    for day in (17, 18, 21, 23):
        frozen(at(2026, 11, day, 12))
        run(tasks.review_sweep)
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2
    # ... and the next week reminds again.
    frozen(at(2026, 11, 24, 8))
    run(tasks.review_sweep)
    week1 = f"review_overdue:case:{case.pk}:due:2026-11-16:week:1"
    assert Notification.objects.filter(dedup_key=week1).count() == 2
    assert len(mail.outbox) == 4
    frozen(at(2026, 12, 1, 8))
    run(tasks.review_sweep)
    assert Notification.objects.filter(dedup_key__endswith=":week:2").count() == 2


def test_closed_cases_and_completed_reviews_are_left_alone(cast, make_case, frozen, run):
    frozen(at(2026, 11, 17))
    make_case(due=dt.date(2026, 11, 16), status="closed", opened_at=at(2026, 9, 1), closed_at=at(2026, 11, 10),
              closure_reason="outcomes_met")
    reviewed = make_case(due=dt.date(2026, 11, 16))
    reviewed.next_review_due = dt.date(2026, 12, 28)  # a review was completed: next one later
    reviewed.save()
    run(tasks.review_sweep)
    assert keys() == [] and mail.outbox == []


def test_inactive_people_are_not_told(cast, make_case, frozen, run):
    frozen(at(2026, 11, 17))
    manager = cast.user("owner", "manager")
    manager.is_active = False
    manager.save()
    make_case(due=dt.date(2026, 11, 16))
    run(tasks.review_sweep)
    assert [u for u, _k in keys()] == ["owner-youth-service-practitioner"]


def test_the_sweep_selects_only_what_is_due(cast, make_case, frozen):
    frozen(at(2026, 11, 18))
    due = make_case(due=dt.date(2026, 11, 20))
    overdue = make_case(due=dt.date(2026, 10, 1))
    make_case(due=dt.date(2027, 1, 5))
    seen = []
    assert reminders.review_sweep(enqueue=seen.append) == 2
    assert sorted(seen) == sorted([due.pk, overdue.pk])


def test_a_second_sweep_queues_nothing_until_the_next_reminder_is_due(cast, make_case, frozen, run):
    case = make_case(due=dt.date(2026, 11, 16))
    frozen(at(2026, 11, 12))  # Thursday: due soon (Fri, Mon are working days 1 and 2)
    run(tasks.review_sweep)
    assert reminders.review_sweep(enqueue=lambda _id: None) == 0
    frozen(at(2026, 11, 17))  # overdue: a new reminder is due
    seen = []
    assert reminders.review_sweep(enqueue=seen.append) == 1 and seen == [case.pk]
    run(tasks.review_sweep)
    assert reminders.review_sweep(enqueue=lambda _id: None) == 0
    frozen(at(2026, 11, 24))  # week 1
    assert reminders.review_sweep(enqueue=lambda _id: None) == 1
