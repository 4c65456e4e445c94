"""Reminders in batches: a sweep queues its items in batches of ids; a batch
is recorded in the same few queries whatever its size and e-mailed with one
statement per e-mail; each e-mail goes once, even when another worker holds
it or a send fails halfway through a batch."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.db import OperationalError, connection
from django.utils import timezone
from django.test.utils import CaptureQueriesContext

from referrals import models as rm
from reminders import services as reminders
from reminders import tasks
from reminders.models import Notification
from tests import factories as f
from tests.database import another_connection
from tests.reminders.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue_cases(cast, make_case, frozen):
    """``overdue_cases(n)``: n cases of the owner whose reviews are overdue
    (each reminds the key worker and the owner's manager)."""
    frozen(at(2026, 11, 25))

    def go(n: int) -> list[int]:
        return [make_case(due=dt.date(2026, 11, 16)).pk for _ in range(n)]

    return go


def _queries(fn) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    return len(captured), result


def test_a_batch_is_recorded_in_the_same_queries_whatever_its_size(cast, overdue_cases):
    few, many = overdue_cases(2), overdue_cases(20)
    few_queries, few_pending = _queries(lambda: reminders.review_reminders_record_many(case_ids=few))
    many_queries, many_pending = _queries(lambda: reminders.review_reminders_record_many(case_ids=many))
    assert len(few_pending) == 2 * 2 and len(many_pending) == 20 * 2
    # The cases, their lead agencies' managers, one insert, one read of the
    # unsent (and the savepoint around them: a test runs in a transaction).
    assert many_queries == few_queries <= 6
    # Recorded again: nothing new, the same ids still to e-mail.
    assert reminders.review_reminders_record_many(case_ids=many) == many_pending
    assert Notification.objects.count() == 22 * 2


def test_a_batch_is_e_mailed_with_one_statement_per_e_mail(cast, overdue_cases):
    few = reminders.review_reminders_record_many(case_ids=overdue_cases(2))
    many = reminders.review_reminders_record_many(case_ids=overdue_cases(20))
    few_queries, sent_few = _queries(lambda: reminders.notifications_email_send(notification_ids=few))
    many_queries, sent_many = _queries(lambda: reminders.notifications_email_send(notification_ids=many))
    assert (sent_few, sent_many) == (4, 40) and len(mail.outbox) == 44
    assert many_queries - few_queries == 40 - 4
    # Once: a second call finds every one sent.
    assert reminders.notifications_email_send(notification_ids=many + few) == 0
    assert len(mail.outbox) == 44


def test_the_sweep_queues_batches_of_ids(cast, overdue_cases, monkeypatch, django_capture_on_commit_callbacks):
    cases = overdue_cases(5)
    partnership_id = rm.Case.objects.get(pk=cases[0]).partnership_id
    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)
    queued = []
    with mock.patch.object(tasks.review_remind_many, "delay", side_effect=lambda *a: queued.append(a)):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.review_sweep.apply().get() == 5
    assert sorted(len(ids) for ids, _ in queued) == [1, 2, 2]
    assert sorted(i for ids, _ in queued for i in ids) == sorted(cases)
    assert {p for _, p in queued} == {partnership_id}


def test_a_batch_task_reminds_every_case_once(cast, overdue_cases, run, monkeypatch):
    monkeypatch.setattr(tasks, "BATCH_SIZE", 3)
    overdue_cases(7)
    run(tasks.review_sweep)
    run(tasks.review_sweep)
    assert Notification.objects.count() == 14
    assert len(mail.outbox) == 14
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == 14


def test_an_e_mail_another_worker_holds_is_left_to_it(cast, overdue_cases):
    pending = reminders.review_reminders_record_many(case_ids=overdue_cases(1))
    held, free = pending
    other = another_connection()
    try:
        # Another worker's session is sending ``held``.
        other.execute("SELECT pg_advisory_lock(%s, %s)", [reminders._EMAIL_LOCKS, held])
        assert reminders.notifications_email_send(notification_ids=pending) == 1
        assert Notification.objects.get(pk=held).emailed_at is None
        assert Notification.objects.get(pk=free).emailed_at is not None
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [reminders._EMAIL_LOCKS, held])
    finally:
        other.close()
    assert reminders.notifications_email_send(notification_ids=pending) == 1
    assert len(mail.outbox) == 2
    # Nothing of this session's own locks is left behind either.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_a_send_failing_halfway_keeps_what_was_sent_and_the_retry_sends_the_rest_once(cast, overdue_cases,
                                                                                      mail_fails_on):
    pending = reminders.review_reminders_record_many(case_ids=overdue_cases(2))
    mail_fails_on(2, error=ConnectionResetError("mail server went away"))
    # The second send fails: the rest to that address wait, the others go.
    with pytest.raises(ConnectionResetError):
        reminders.notifications_email_send(notification_ids=pending)
    assert len(mail.outbox) == 2 and len({m.to[0] for m in mail.outbox}) == 1
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2
    assert reminders.notifications_email_send(notification_ids=pending) == 2
    assert len(mail.outbox) == 4
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == 4
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_an_address_the_mail_server_refuses_holds_back_no_other_e_mail(cast, overdue_cases, monkeypatch):
    pending = reminders.review_reminders_record_many(case_ids=overdue_cases(3))
    refused = cast.user("owner", "practitioner")  # the key worker: the first of each case's pair
    real_send = locmem.EmailBackend.send_messages

    def refuse(backend, messages):
        if messages[0].to == [refused.email]:
            raise smtplib.SMTPRecipientsRefused({refused.email: (550, b"No such mailbox")})
        return real_send(backend, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)
    manager = cast.user("owner", "manager")
    # One attempt sends every other e-mail of the batch, and tries the
    # refused address once, not once per notification.
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        reminders.notifications_email_send(notification_ids=pending)
    assert [m.to[0] for m in mail.outbox] == [manager.email] * 3
    failed = Notification.objects.filter(email_failed_at__isnull=False)
    assert failed.count() == 1 and failed.get().recipient == refused and failed.get().emailed_at is None
    assert Notification.objects.filter(emailed_at__isnull=True, recipient=refused).count() == 3


def test_a_batch_stops_when_sends_fail_in_a_row_and_tries_the_others_first_next_time(cast, overdue_cases,
                                                                                    mail_fails_on):
    for n in range(2):  # four people to remind of each overdue review
        f.make_member(cast.owner, "manager", username=f"another-manager-{n}")
    pending = reminders.review_reminders_record_many(case_ids=overdue_cases(2))
    assert len(pending) == 8
    # The mail service is down: three sends in a row fail, each to another address.
    calls = mail_fails_on(1, 2, 3)
    with pytest.raises(ConnectionRefusedError):
        reminders.notifications_email_send(notification_ids=pending)
    assert len(calls) == reminders.EMAIL_FAILURES_IN_A_ROW == 3 and mail.outbox == []
    failed = Notification.objects.filter(email_failed_at__isnull=False).select_related("recipient")
    assert failed.count() == 3
    # Back up: the next attempt sends the five that never failed, then those three.
    assert reminders.notifications_email_send(notification_ids=pending) == 8
    assert {(m.to[0], m.subject) for m in mail.outbox[5:]} == {(n.recipient.email, n.subject) for n in failed}


def test_the_unsent_sweep_hands_on_batches(cast, overdue_cases, frozen, run, monkeypatch):
    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)
    pending = reminders.review_reminders_record_many(case_ids=overdue_cases(3))
    frozen(at(2026, 11, 25, 9, 5))
    run(tasks.notifications_unsent_sweep)
    assert len(mail.outbox) == len(pending) == 6
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_a_screening_batch_records_in_few_queries(cast, frozen, settings):
    settings.REFERRAL_ALERT_LEAD_MINUTES = {}
    frozen(at(2026, 11, 25))
    referrals = [
        f.ReferralFactory(referring_agency=cast.referrer, received_at=at(2026, 11, 20),
                          decision_due_at=at(2026, 11, 21), young_person=f.YoungPersonFactory(recorded_by=cast.referrer)).pk
        for _ in range(6)
    ]
    queries, pending = _queries(lambda: reminders.screening_reminders_record_many(referral_ids=referrals))
    assert len(pending) == 6 * 2  # the hub's screener and manager
    # The referrals, the hubs, their people, one insert, one read (and a savepoint).
    assert queries <= 7


@pytest.mark.django_db(transaction=True)
def test_an_e_mail_sent_as_the_database_goes_away_is_marked_when_it_is_back_and_not_sent_again(
        cast, make_case, monkeypatch):
    for _ in range(2):  # overdue: the key worker and the manager of each
        make_case(due=timezone.localdate() - dt.timedelta(days=3))
    pending = reminders.review_reminders_record_many(case_ids=list(rm.Case.objects.values_list("pk", flat=True)))
    assert len(pending) == 4
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        session = cursor.fetchone()[0]
    real_send = locmem.EmailBackend.send_messages
    calls = []

    def send_as_the_database_goes_away(backend, messages):
        calls.append(1)
        sent = real_send(backend, messages)
        if len(calls) == 1:  # the message has gone; then the worker's session is cut
            with another_connection() as other:
                other.execute("SELECT pg_terminate_backend(%s)", [session])
        return sent

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", send_as_the_database_goes_away)
    # The first e-mail is marked on a new connection; the rest of the batch
    # is left to the task's retry (the locks went with the old session).
    with pytest.raises(OperationalError):
        reminders.notifications_email_send(notification_ids=pending)
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 1
    assert reminders.notifications_email_send(notification_ids=pending) == 3
    assert len(mail.outbox) == 4 and len({(m.to[0], m.subject) for m in mail.outbox}) == 4
