"""Celery tasks: deadlines, reminders, shares expiring and retention (the rules:
``reminders.services``, ``safeguarding.services`` and ``safeguarding.retention``).

Sweeps run on the beat schedule (``CELERY_BEAT_SCHEDULE``) and queue the
due items in batches of up to ``BATCH_SIZE`` ids, one task per batch, with
ids only: brokers write messages to disk, so no personal data goes in task
arguments. Each batch task fetches its items by id, calls a service that
records their reminders idempotently (a few queries for the batch: they
are in the app from then on), then queues the e-mails of the notifications
not yet sent, in batches, to ``notification_email_many``
(``notifications_email_send``: one statement per e-mail). At city scale a
sweep may hand on 100,000 items; one task each would cost a dozen queries
and a broker round trip apiece.

Every task acknowledges late and is rejected back to the queue if its worker
is lost, and retries transient failures (database, network, mail server)
with exponential back-off: running any of them twice is harmless by design.

Partnerships: each task works under the row-level security of one
partnership (``access.within_partnership``), as the app does for a request.
A sweep runs once per active partnership, with a system actor carrying it,
and queues each batch as (item ids, partnership id): a batch never mixes
partnerships. The batch task enters that partnership before it reads, so
an item of another partnership is not found and nothing is done for it.
The tasks that read only notifications work
under the app's role in no partnership (they see no case data at all). On
the way out, whatever happened, the connection is back on its own role
(``within_partnership``; and ``config.celery`` resets it after every task).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from casework import transfers
from monitoring import figures, refresh
from reminders import services as reminders
from safeguarding import access, retention
from safeguarding import services as sharing

logger = logging.getLogger(__name__)

# Failures worth another try: the database or the mail server went away for
# a moment (smtplib's errors and socket timeouts are OSErrors).
TRANSIENT = (OperationalError, InterfaceError, OSError)

RELIABLE = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 10,
}


# Items per batch task: big enough that a batch's few queries and its
# broker message cost little per item, small enough that a batch of
# e-mails through a real mail server ends in minutes.
BATCH_SIZE = 500


def on_commit_delay(task, *args) -> None:
    """Queue ``task`` with ids once the surrounding transaction commits (at
    once outside one), never from inside an open transaction."""
    transaction.on_commit(lambda: task.delay(*args))


def _system(partnership_id: int | None) -> access.Actor:
    return access.system_actor(label="reminders", partnership=partnership_id)


class _Batches:
    """What a sweep hands on, gathered into lists of up to ``BATCH_SIZE``
    ids, each queued (on commit) to ``task`` as (ids, *args): for the
    per-partnership tasks, (ids, partnership id)."""

    def __init__(self, task, *args) -> None:
        self.task, self.args, self.ids = task, args, []

    def __call__(self, item_id: int) -> None:
        self.ids.append(item_id)
        if len(self.ids) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.ids:
            on_commit_delay(self.task, self.ids, *self.args)
            self.ids = []


def email_later(notification_ids: list[int]) -> int:
    """Queue the e-mails of notifications just recorded, in batches, to their
    own task (``notification_email_many``), once the recording has
    committed; returns how many. Recording a batch of reminders takes a
    few queries and puts them in the app at once; e-mailing takes a
    statement per message and goes at the mail service's pace, so it does
    not hold the recording up (and a mail outage retries only the mail)."""
    batches = _Batches(notification_email_many)
    for notification_id in notification_ids:
        batches(notification_id)
    batches.flush()
    return len(notification_ids)


def _each_partnership(sweep, task) -> int:
    """Run a service's sweep once in each active partnership, inside it, as
    the system actor of that partnership; what it hands on is queued to
    ``task`` in batches of (item ids, partnership id). Returns how many
    items in all."""
    handed = 0
    for partnership_id in access.task_partnership_ids():
        actor = _system(partnership_id)
        batches = _Batches(task, partnership_id)
        with access.within_partnership(actor):
            handed += sweep(enqueue=batches, actor=actor)
        batches.flush()
    return handed


# ---------------------------------------------------------------------------
# Sweeps (beat)
# ---------------------------------------------------------------------------


@shared_task(name="reminders.review_sweep", **RELIABLE)
def review_sweep() -> int:
    return _each_partnership(reminders.review_sweep, review_remind_many)


@shared_task(name="reminders.screening_sweep", **RELIABLE)
def screening_sweep() -> int:
    return _each_partnership(reminders.screening_sweep, screening_remind_many)


@shared_task(name="reminders.digest_sweep", **RELIABLE)
def digest_sweep() -> int:
    handed = 0
    for partnership_id in access.task_partnership_ids():
        with access.within_partnership(_system(partnership_id)):
            handed += reminders.digest_sweep(
                enqueue=lambda user_id, agency_id, p=partnership_id: on_commit_delay(digest_send, user_id, agency_id, p),
                partnership_id=partnership_id,
            )
    return handed


@shared_task(name="reminders.notifications_unsent_sweep", **RELIABLE)
def notifications_unsent_sweep() -> int:
    # Notifications are no partnership's case data (no row-level security on
    # them; digests belong to no case): one sweep, in no partnership.
    batches = _Batches(notification_email_many)
    with access.within_partnership(_system(None)):
        handed = reminders.notifications_unsent_sweep(enqueue=batches)
    batches.flush()
    return handed


@shared_task(name="reminders.panel_action_sweep", **RELIABLE)
def panel_action_sweep() -> int:
    return _each_partnership(reminders.panel_action_sweep, panel_action_remind_many)


@shared_task(name="reminders.panel_carry_sweep", **RELIABLE)
def panel_carry_sweep() -> int:
    return _each_partnership(reminders.panel_carry_sweep, panel_carry_many)


@shared_task(name="reminders.reminders_sweep", **RELIABLE)
def reminders_sweep() -> dict[str, int]:
    """Every frequent sweep at once: what a worker fires when it starts, and
    what the integration tests trigger."""
    return {
        "reviews": review_sweep(),
        "screening": screening_sweep(),
        "shares_expiring": share_expiring_sweep(),
        "shares_expired": share_expiry_sweep(),
        "transfers_joint_ended": transfer_joint_sweep(),
        "panel_actions": panel_action_sweep(),
        "panel_carry": panel_carry_sweep(),
        "unsent": notifications_unsent_sweep(),
    }


# ---------------------------------------------------------------------------
# Per batch: (item ids, partnership id). With no partnership (a message
# queued before partnerships) the task sees no case data and does nothing;
# the next sweep queues the items again with their partnership. The
# one-item tasks take what was queued before batches.
# ---------------------------------------------------------------------------


@shared_task(name="reminders.review_remind_many", **RELIABLE)
def review_remind_many(case_ids: list[int], partnership_id: int | None = None) -> int:
    with access.within_partnership(_system(partnership_id)) as actor:
        return email_later(reminders.review_reminders_record_many(case_ids=case_ids, actor=actor))


@shared_task(name="reminders.review_remind", **RELIABLE)
def review_remind(case_id: int, partnership_id: int | None = None) -> int:
    return review_remind_many([case_id], partnership_id)


@shared_task(name="reminders.screening_remind_many", **RELIABLE)
def screening_remind_many(referral_ids: list[int], partnership_id: int | None = None) -> int:
    with access.within_partnership(_system(partnership_id)) as actor:
        return email_later(reminders.screening_reminders_record_many(referral_ids=referral_ids, actor=actor))


@shared_task(name="reminders.screening_remind", **RELIABLE)
def screening_remind(referral_id: int, partnership_id: int | None = None) -> int:
    return screening_remind_many([referral_id], partnership_id)


@shared_task(name="reminders.digest_send", **RELIABLE)
def digest_send(user_id: int, agency_id: int, partnership_id: int | None = None) -> int:
    with access.within_partnership(_system(partnership_id)):
        return email_later(reminders.manager_digest_record(
            user_id=user_id, agency_id=agency_id, partnership_id=partnership_id,
        ))


@shared_task(name="reminders.notification_email_many", **RELIABLE)
def notification_email_many(notification_ids: list[int]) -> int:
    with access.within_partnership(_system(None)):
        return reminders.notifications_email_send(notification_ids=notification_ids)


@shared_task(name="reminders.panel_action_remind_many", **RELIABLE)
def panel_action_remind_many(action_ids: list[int], partnership_id: int | None = None) -> int:
    with access.within_partnership(_system(partnership_id)) as actor:
        recorded = [
            notification_id for action_id in action_ids
            for notification_id in reminders.panel_action_reminders_record(action_id=action_id, actor=actor)
        ]
        return email_later(recorded)


@shared_task(name="reminders.panel_action_remind", **RELIABLE)
def panel_action_remind(action_id: int, partnership_id: int | None = None) -> int:
    return panel_action_remind_many([action_id], partnership_id)


@shared_task(name="reminders.panel_carry_many", **RELIABLE)
def panel_carry_many(panel_ids: list[int], partnership_id: int | None = None) -> int:
    """Carry overdue actions onto the next panel's agenda (a panel of
    another partnership than the one given is not found: nothing done)."""
    with access.within_partnership(_system(partnership_id)) as actor:
        return sum(reminders.panel_carry(panel_id=panel_id, actor=actor) for panel_id in panel_ids)


@shared_task(name="reminders.panel_carry", **RELIABLE)
def panel_carry(panel_id: int, partnership_id: int | None = None) -> int:
    return panel_carry_many([panel_id], partnership_id)


@shared_task(name="reminders.notification_email", **RELIABLE)
def notification_email(notification_id: int) -> int:
    return notification_email_many([notification_id])


# ---------------------------------------------------------------------------
# Share grants and retention
# ---------------------------------------------------------------------------


@shared_task(name="reminders.share_expiring_sweep", **RELIABLE)
def share_expiring_sweep() -> int:
    return _each_partnership(reminders.share_expiring_sweep, share_expiring_remind_many)


@shared_task(name="reminders.share_expiring_remind_many", **RELIABLE)
def share_expiring_remind_many(grant_ids: list[int], partnership_id: int | None = None) -> int:
    with access.within_partnership(_system(partnership_id)) as actor:
        return email_later(reminders.share_expiring_reminders_record_many(grant_ids=grant_ids, actor=actor))


@shared_task(name="reminders.share_expiring_remind", **RELIABLE)
def share_expiring_remind(grant_id: int, partnership_id: int | None = None) -> int:
    return share_expiring_remind_many([grant_id], partnership_id)


@shared_task(name="reminders.share_expiry_sweep", **RELIABLE)
def share_expiry_sweep() -> int:
    return _each_partnership(reminders.share_expiry_sweep, share_expire_many)


@shared_task(name="reminders.share_expire_many", **RELIABLE)
def share_expire_many(grant_ids: list[int], partnership_id: int | None = None) -> int:
    """Remove expired (or revoked) grants' permission rows, each grant in a
    transaction of its own (a grant of another partnership than the one
    given is not found: nothing done). Returns how many were tidied."""
    with access.within_partnership(_system(partnership_id)):
        return sum(sharing.share_expire(grant_id=grant_id) for grant_id in grant_ids)


@shared_task(name="reminders.share_expire", **RELIABLE)
def share_expire(grant_id: int, partnership_id: int | None = None) -> bool:
    """``share_expire_many`` for one grant (queued before batches)."""
    return share_expire_many([grant_id], partnership_id) == 1


@shared_task(name="reminders.transfer_joint_sweep", **RELIABLE)
def transfer_joint_sweep() -> int:
    return _each_partnership(reminders.transfer_joint_sweep, transfer_joint_end_many)


@shared_task(name="reminders.transfer_joint_end_many", **RELIABLE)
def transfer_joint_end_many(transfer_ids: list[int], partnership_id: int | None = None) -> int:
    """Close the sending cases of transfers whose joint period is over, each
    in a transaction of its own (in the sending partnership; a transfer sent
    from another is not found). Returns how many were closed."""
    with access.within_partnership(_system(partnership_id)):
        return sum(transfers.transfer_end_joint_period(transfer_id=transfer_id) for transfer_id in transfer_ids)


@shared_task(name="reminders.retention_run", **RELIABLE)
def retention_run() -> int | None:
    """Retention goes through each partnership itself (``retention_run``)."""
    run = retention.retention_run()
    return run.pk if run else None


# ---------------------------------------------------------------------------
# The monitoring's reporting schema
# ---------------------------------------------------------------------------


@shared_task(name="reminders.monitoring_refresh", **RELIABLE)
def monitoring_refresh() -> dict[int, int]:
    """Refresh each partnership's reporting schema: only the young people
    whose records changed since the last run (``monitoring.refresh``).
    Then, where facts changed, work out the figures of the year under way
    and the last one (``figures.warm``) so that no reader waits for them.
    Returns how many young people were recomputed in each."""
    results = refresh.refresh_all()
    for pid, result in results.items():
        if result.wrote:
            with refresh.as_partnership(pid) as actor:
                figures.warm(actor)
    return {pid: result.young_people for pid, result in results.items()}
