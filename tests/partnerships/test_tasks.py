"""The scheduled tasks across two boroughs: each sweep runs once in each
partnership, under its row-level security; a per-item task works only in
the partnership it is given; and no task leaves its connection in one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from agencies.models import Role
from config.celery import _leave_partnership_after_every_task
from config.celery import app as celery_app
from referrals import models as rm
from reminders import services as reminders
from reminders import tasks
from reminders.models import Notification
from safeguarding import access
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """``run(task, *args)``: run a task in this process as a worker would,
    with the tasks it queues on commit run too; returns its result."""
    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True

    def go(task, *args):
        with django_capture_on_commit_callbacks(execute=True):
            return task.apply(args=args).get()

    yield go
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


def own_role() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user = session_user, current_setting('crossroads.partnership', true)")
        same, partnership = cursor.fetchone()
    return same and not partnership


@pytest.fixture
def due_in_each(boroughs):
    """A review due today in each borough, each case with a key worker."""
    key_worker = f.make_member(boroughs.police, Role.PRACTITIONER)
    today = timezone.localdate()
    for case in (boroughs.case_a, boroughs.case_b):
        rm.Case.objects.filter(pk=case.pk).update(next_review_due=today, key_worker=key_worker)
    return boroughs


def test_a_review_due_in_each_borough_gets_its_reminder(due_in_each, run):
    b = due_in_each
    assert run(tasks.review_sweep) == 2
    reminded = set(Notification.objects.filter(kind="review_due_soon").values_list("case_id", flat=True))
    assert reminded == {b.case_a.pk, b.case_b.pk}
    assert own_role()
    # A second sweep finds both recorded and queues nothing.
    assert run(tasks.review_sweep) == 0


def test_each_item_is_queued_with_its_own_partnership(due_in_each, monkeypatch, django_capture_on_commit_callbacks):
    b = due_in_each
    queued = []
    monkeypatch.setattr(tasks.review_remind_many, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.review_sweep.apply().get()
    assert sorted(queued) == sorted([([b.case_a.pk], b.a.pk), ([b.case_b.pk], b.b.pk)])


def test_a_per_item_task_given_another_partnership_does_nothing(due_in_each, run):
    b = due_in_each
    assert run(tasks.review_remind, b.case_a.pk, b.b.pk) == 0
    assert run(tasks.review_remind, b.case_b.pk, b.a.pk) == 0
    assert run(tasks.review_remind, b.case_b.pk) == 0  # in no partnership: sees nothing
    assert not Notification.objects.exists()
    assert own_role()
    # Given its own, it reminds.
    run(tasks.review_remind, b.case_b.pk, b.b.pk)
    assert list(Notification.objects.values_list("case_id", flat=True).distinct()) == [b.case_b.pk]


def test_a_batch_given_another_partnerships_case_reminds_only_its_own(due_in_each, run):
    b = due_in_each
    assert run(tasks.review_remind_many, [b.case_a.pk, b.case_b.pk], b.b.pk) == 1
    assert list(Notification.objects.values_list("case_id", flat=True).distinct()) == [b.case_b.pk]
    assert own_role()


def test_a_late_referral_alerts_only_its_own_partnerships_hub(boroughs, cast, run, settings):
    """The hub of another borough hears nothing of a referral (its reference
    and risk are case data of the referral's partnership)."""
    b = boroughs
    settings.REFERRAL_ALERT_LEAD_MINUTES = {}
    rm.Referral.objects.filter(pk=b.referral_b.pk).update(
        status="submitted", received_at=timezone.now() - dt.timedelta(days=3),
        decision_due_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert run(tasks.screening_sweep) == 1
    alerted = set(Notification.objects.filter(referral_id=b.referral_b.pk).values_list("recipient_id", flat=True))
    assert alerted == {b.people[("hub_b", Role.HUB_SCREENER)].pk, b.people[("hub_b", Role.MANAGER)].pk}
    assert not Notification.objects.filter(recipient__memberships__agency=cast.hub).exists()


def test_row_level_security_alone_keeps_another_partnerships_item_out(due_in_each):
    """Even a reader with no partnership filter of its own (the system actor
    in none) finds nothing of borough A while the connection is in B."""
    b = due_in_each
    with access.within_partnership(access.system_actor(partnership=b.b)):
        assert reminders.review_reminders_record(case_id=b.case_a.pk, actor=access.system_actor()) == []
        seen = []
        reminders.review_sweep(enqueue=seen.append, actor=access.system_actor())
        assert seen == [b.case_b.pk]
    assert own_role()
    assert not Notification.objects.exists()


def test_a_task_works_as_the_app_in_its_partnership_and_leaves_it_even_when_it_fails(due_in_each, run, monkeypatch):
    b = due_in_each
    inside = []

    def record(**_kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_setting('crossroads.partnership', true)")
            inside.append(cursor.fetchone())
        raise RuntimeError("the task fails")

    monkeypatch.setattr(reminders, "review_reminders_record_many", record)
    with pytest.raises(RuntimeError):
        run(tasks.review_remind, b.case_b.pk, b.b.pk)
    assert inside == [(access.APP_ROLE, str(b.b.pk))]
    assert own_role()


def test_the_worker_signal_resets_a_connection_left_in_a_partnership(boroughs):
    access.enter_partnership(access.system_actor(partnership=boroughs.b))
    assert not own_role()
    _leave_partnership_after_every_task(task=None)
    assert own_role()


def test_the_digest_is_sent_in_each_partnership_of_an_agency_in_several(due_in_each, run):
    b = due_in_each
    manager = f.make_member(b.police, Role.MANAGER)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    rm.Case.objects.filter(pk__in=[b.case_a.pk, b.case_b.pk]).update(next_review_due=yesterday)
    run(tasks.digest_sweep)
    digests = Notification.objects.filter(kind="digest", recipient=manager)
    assert digests.count() == 2
    bodies = sorted(d.body for d in digests)
    assert any(b.case_a.reference in body and b.case_b.reference not in body for body in bodies)
    assert any(b.case_b.reference in body and b.case_a.reference not in body for body in bodies)
    assert own_role()


def test_retention_anonymises_each_partnerships_cases_in_it(boroughs, run):
    b = boroughs
    closed = []
    for partnership in (b.a, b.b):
        person = f.YoungPersonFactory(
            recorded_by=b.police, partnership=partnership, date_of_birth=dt.date(1990, 1, 1),
        )
        closed.append(f.CaseFactory(
            lead_agency=b.police, young_person=person, status="closed",
            opened_at=timezone.now() - dt.timedelta(days=900), closed_at=timezone.now() - dt.timedelta(days=800),
            closure_reason="outcomes_met", outcome="Moved on.", next_review_due=None,
        ))
    run(tasks.retention_run)
    for case in closed:
        case.refresh_from_db()
        assert case.anonymised_at is not None and case.outcome == ""
        assert case.young_person.given_name == "Anonymised"
    assert own_role()
