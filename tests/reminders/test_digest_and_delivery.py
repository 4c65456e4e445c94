"""The managers' daily digest; e-mail once (claims, failures, retries); the
in-app selector and mark-read service."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core import mail

from reminders.models import Notification, NotificationKind
from referrals import deadlines
from reminders import services as reminders
from reminders import tasks
from referrals import models as rm
from tests import factories as f
from tests.reminders.conftest import at

pytestmark = pytest.mark.django_db


def test_digest_lists_overdue_reviews_late_decisions_and_quiet_cases(cast, make_case, frozen, run):
    frozen(at(2026, 9, 1))
    quiet = make_case(due=dt.date(2026, 12, 14), opened_at=at(2026, 9, 1))
    frozen(at(2026, 11, 25, 7))
    overdue = make_case(due=dt.date(2026, 11, 20), opened_at=at(2026, 11, 1))
    late = f.ReferralFactory(referring_agency=cast.owner, received_at=at(2026, 11, 20, 9),
                             decision_due_at=deadlines.decision_due_at(at(2026, 11, 20, 9), "amber"),
                             young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    run(tasks.digest_sweep)
    run(tasks.digest_sweep)
    digests = Notification.objects.filter(kind=NotificationKind.DIGEST)
    # The owner's manager has something to read; nobody else gets mail. The
    # hub's manager does not: the digest says what the manager's home page
    # shows, and the owner's referral is not the hub manager's to see there
    # (the screening alert covers it: tests/reminders/test_screening.py).
    assert sorted(digests.values_list("recipient__username", flat=True)) == ["owner-youth-service-manager"]
    assert len(mail.outbox) == 1
    owner = digests.get(recipient__username="owner-youth-service-manager")
    assert "Overdue reviews (1)" in owner.body and overdue.reference in owner.body
    assert "past their deadline (1)" in owner.body and late.reference in owner.body
    assert "no activity in 30 days (1)" in owner.body and quiet.reference in owner.body
    assert overdue.young_person.family_name not in owner.body


def test_a_manager_with_nothing_to_report_gets_no_digest(cast, make_case, frozen, run):
    frozen(at(2026, 11, 25, 7))
    make_case(due=dt.date(2026, 12, 14), opened_at=at(2026, 11, 20))
    run(tasks.digest_sweep)
    assert Notification.objects.count() == 0 and mail.outbox == []


def test_a_quiet_case_with_recent_activity_is_not_quiet(cast, make_case, frozen, run):
    frozen(at(2026, 11, 25, 7))
    case = make_case(due=dt.date(2026, 12, 14), opened_at=at(2026, 9, 1))
    rm.CaseNote.objects.create(case=case, occurred_at=at(2026, 11, 24), recorded_at=at(2026, 11, 24),
                               kind="contact", author=cast.user("owner", "practitioner"), agency=cast.owner,
                               text="Phone call.")
    assert reminders.manager_digest_record(user_id=cast.user("owner", "manager").pk, agency_id=cast.owner.pk) == []


def test_a_failed_send_is_retried_and_sent_once(cast, make_case, frozen, eager, mail_fails_on):
    frozen(at(2026, 11, 18))
    make_case(due=dt.date(2026, 11, 20))
    calls = mail_fails_on(1)
    case = rm.Case.objects.get()
    # The reminder is recorded (in the app from now on); its e-mail is its own task's.
    assert tasks.review_remind.apply(args=(case.pk, case.partnership_id)).get() == 1
    notification = Notification.objects.get()
    # The send fails: the e-mail task asks Celery for a retry, nothing is marked sent.
    with pytest.raises(Retry):
        tasks.notification_email_many.apply(args=([notification.pk],)).get()
    assert Notification.objects.get().emailed_at is None and mail.outbox == []
    # The retry (here: run again by hand) sends it, once.
    assert tasks.notification_email_many.apply(args=([notification.pk],)).get() == 1
    assert tasks.notification_email_many.apply(args=([notification.pk],)).get() == 0
    assert len(calls) == 2
    assert len(mail.outbox) == 1
    assert Notification.objects.get().emailed_at is not None


def test_a_claim_is_lost_with_a_failed_send_and_the_unsent_sweep_sends_it(cast, make_case, frozen, run,
                                                                           mail_fails_on):
    frozen(at(2026, 11, 18))
    make_case(due=dt.date(2026, 11, 20))
    mail_fails_on(1, error=OSError("down"))
    ids = reminders.review_reminders_record(case_id=rm.Case.objects.get().pk)
    with pytest.raises(OSError):
        reminders.notification_email_send(notification_id=ids[0])
    assert Notification.objects.get().emailed_at is None
    run(tasks.notifications_unsent_sweep)  # too soon: still the task's to send
    assert mail.outbox == []
    frozen(at(2026, 11, 18, 9, 5))
    run(tasks.notifications_unsent_sweep)
    run(tasks.notifications_unsent_sweep)
    assert len(mail.outbox) == 1
    assert reminders.notification_email_send(notification_id=ids[0]) is False


def test_a_person_without_an_address_has_the_notification_in_the_app_only(cast, make_case, frozen, run):
    frozen(at(2026, 11, 18))
    worker = cast.user("owner", "practitioner")
    worker.email = ""
    worker.save()
    make_case(due=dt.date(2026, 11, 20))
    run(tasks.review_sweep)
    assert mail.outbox == []
    assert Notification.objects.get(recipient=worker).emailed_at is not None


def test_notifications_for_and_mark_read(cast, make_case, frozen, run):
    frozen(at(2026, 11, 17))
    make_case(due=dt.date(2026, 11, 16))
    run(tasks.review_sweep)
    worker, manager, outsider = (cast.user("owner", "practitioner"), cast.user("owner", "manager"),
                                 cast.user("outsider", "manager"))
    mine = reminders.notifications_for(worker)
    assert mine.count() == 1 and reminders.notifications_for(outsider).count() == 0
    notification = mine.get()
    with pytest.raises(Notification.DoesNotExist):
        reminders.notification_mark_read(user=outsider, notification_id=notification.pk)
    with pytest.raises(Notification.DoesNotExist):
        reminders.notification_mark_read(user=manager, notification_id=notification.pk)
    reminders.notification_mark_read(user=worker, notification_id=notification.pk)
    first = Notification.objects.get(pk=notification.pk).read_at
    assert first is not None
    frozen(at(2026, 11, 17, 12))
    reminders.notification_mark_read(user=worker, notification_id=notification.pk)
    assert Notification.objects.get(pk=notification.pk).read_at == first
    assert reminders.notifications_for(worker, unread_only=True).count() == 0
    assert reminders.notifications_for(manager, unread_only=True).count() == 1
    from django.contrib.auth.models import AnonymousUser

    assert reminders.notifications_for(AnonymousUser()).count() == 0


def test_task_arguments_are_ids_only(cast, make_case, frozen, eager, django_capture_on_commit_callbacks):
    frozen(at(2026, 11, 18))
    case = make_case(due=dt.date(2026, 11, 20))
    queued = []
    with mock.patch.object(tasks.review_remind_many, "delay", side_effect=lambda *a: queued.append(a)):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.review_sweep.apply().get()
    assert queued == [([case.pk], case.partnership_id)]


def test_task_options_are_reliable():
    from reminders import tasks as safeguarding_tasks

    for task in (tasks.review_remind, tasks.review_remind_many, tasks.screening_remind_many,
                 tasks.share_expiring_remind_many, tasks.notification_email_many,
                 tasks.review_sweep, tasks.digest_send, tasks.notification_email,
                 safeguarding_tasks.share_expire, safeguarding_tasks.retention_run):
        assert task.acks_late and task.reject_on_worker_lost
        assert OSError in task.autoretry_for and task.retry_backoff


def test_the_beat_schedule_names_real_tasks(settings):
    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def test_a_monitoring_refresh_not_started_before_the_next_is_due_is_dropped(settings):
    """The monitoring refresh, which can run for minutes in a large
    deployment, never queues up behind itself: each run refreshes what
    changed since the last, so one that waited a whole period is dropped."""
    entry = settings.CELERY_BEAT_SCHEDULE["monitoring-refresh"]
    assert entry["options"]["expires"] == entry["schedule"] == settings.MONITORING_REFRESH_SECONDS
