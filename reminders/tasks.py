"""Celery tasks: deadlines, reminders, shares expiring and retention (the rules:
``reminders.services``, ``safeguarding.services`` and ``safeguarding.retention``).

Sweeps run on the beat schedule (``CELERY_BEAT_SCHEDULE``) and queue one
task per due item, with its id only: brokers write messages to disk, so no
personal data goes in task arguments. Each per-item task fetches by id,
calls a service that records the reminder idempotently, then e-mails each
notification not yet sent (``notification_email_send`` claims it first).

Every task acknowledges late and is rejected back to the queue if its worker
is lost, and retries transient failures (database, network, mail server)
with exponential back-off: running any of them twice is harmless by design.

Partnerships: each task works under the row-level security of one
partnership (``access.within_partnership``), as the app does for a request.
A sweep runs once per active partnership, with a system actor carrying it,
and queues each item as (item id, partnership id); the per-item task enters
that partnership before it reads, so an item of another partnership is not
found and nothing is done. The tasks that read only notifications work
under the app's role in no partnership (they see no case data at all). On
the way out, whatever happened, the connection is back on its own role
(``within_partnership``; and ``config.celery`` resets it after every task).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from casework import transfers
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


def on_commit_delay(task, *args) -> None:
    """Queue ``task`` with ids once the surrounding transaction commits (at
    once outside one), never from inside an open transaction."""
    transaction.on_commit(lambda: task.delay(*args))


def email_all(notification_ids: list[int]) -> int:
    sent = 0
    for notification_id in notification_ids:
        sent += reminders.notification_email_send(notification_id=notification_id)
    return sent


def _system(partnership_id: int | None) -> access.Actor:
    return access.system_actor(label="reminders", partnership=partnership_id)


def _each_partnership(sweep, task) -> int:
    """Run a service's sweep once in each active partnership, inside it, as
    the system actor of that partnership; each item it hands on is queued
    to ``task`` as (item id, partnership id). Returns how many in all."""
    handed = 0
    for partnership_id in access.task_partnership_ids():
        actor = _system(partnership_id)
        with access.within_partnership(actor):
            handed += sweep(
                enqueue=lambda item_id, p=partnership_id: on_commit_delay(task, item_id, p), actor=actor,
            )
    return handed


# ---------------------------------------------------------------------------
# Sweeps (beat)
# ---------------------------------------------------------------------------


@shared_task(name="reminders.review_sweep", **RELIABLE)
def review_sweep() -> int:
    return _each_partnership(reminders.review_sweep, review_remind)


@shared_task(name="reminders.screening_sweep", **RELIABLE)
def screening_sweep() -> int:
    return _each_partnership(reminders.screening_sweep, screening_remind)


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
    with access.within_partnership(_system(None)):
        return reminders.notifications_unsent_sweep(
            enqueue=lambda notification_id: on_commit_delay(notification_email, notification_id)
        )


@shared_task(name="reminders.panel_action_sweep", **RELIABLE)
def panel_action_sweep() -> int:
    return _each_partnership(reminders.panel_action_sweep, panel_action_remind)


@shared_task(name="reminders.panel_carry_sweep", **RELIABLE)
def panel_carry_sweep() -> int:
    return _each_partnership(reminders.panel_carry_sweep, panel_carry)


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
# Per item: (item id, partnership id). With no partnership (a message queued
# before partnerships) the task sees no case data and does nothing; the next
# sweep queues the item again with its partnership.
# ---------------------------------------------------------------------------


@shared_task(name="reminders.review_remind", **RELIABLE)
def review_remind(case_id: int, partnership_id: int | None = None) -> int:
    with access.within_partnership(_system(partnership_id)) as actor:
        return email_all(reminders.review_reminders_record(case_id=case_id, actor=actor))


@shared_task(name="reminders.screening_remind", **RELIABLE)
def screening_remind(referral_id: int, partnership_id: int | None = None) -> int:
    with access.within_partnership(_system(partnership_id)) as actor:
        return email_all(reminders.screening_reminders_record(referral_id=referral_id, actor=actor))


@shared_task(name="reminders.digest_send", **RELIABLE)
def digest_send(user_id: int, agency_id: int, partnership_id: int | None = None) -> int:
    with access.within_partnership(_system(partnership_id)):
        return email_all(
            reminders.manager_digest_record(user_id=user_id, agency_id=agency_id, partnership_id=partnership_id)
        )


@shared_task(name="reminders.panel_action_remind", **RELIABLE)
def panel_action_remind(action_id: int, partnership_id: int | None = None) -> int:
    with access.within_partnership(_system(partnership_id)) as actor:
        return email_all(reminders.panel_action_reminders_record(action_id=action_id, actor=actor))


@shared_task(name="reminders.panel_carry", **RELIABLE)
def panel_carry(panel_id: int, partnership_id: int | None = None) -> int:
    """Carry overdue actions onto the next panel's agenda (a panel of
    another partnership than the one given is not found: nothing done)."""
    with access.within_partnership(_system(partnership_id)) as actor:
        return reminders.panel_carry(panel_id=panel_id, actor=actor)


@shared_task(name="reminders.notification_email", **RELIABLE)
def notification_email(notification_id: int) -> int:
    with access.within_partnership(_system(None)):
        return email_all([notification_id])


# ---------------------------------------------------------------------------
# Share grants and retention
# ---------------------------------------------------------------------------


@shared_task(name="reminders.share_expiring_sweep", **RELIABLE)
def share_expiring_sweep() -> int:
    return _each_partnership(reminders.share_expiring_sweep, share_expiring_remind)


@shared_task(name="reminders.share_expiring_remind", **RELIABLE)
def share_expiring_remind(grant_id: int, partnership_id: int | None = None) -> int:
    with access.within_partnership(_system(partnership_id)) as actor:
        return email_all(reminders.share_expiring_reminders_record(grant_id=grant_id, actor=actor))


@shared_task(name="reminders.share_expiry_sweep", **RELIABLE)
def share_expiry_sweep() -> int:
    return _each_partnership(reminders.share_expiry_sweep, share_expire)


@shared_task(name="reminders.share_expire", **RELIABLE)
def share_expire(grant_id: int, partnership_id: int | None = None) -> bool:
    """Remove an expired (or revoked) grant's permission rows (a grant of
    another partnership than the one given is not found: nothing done)."""
    with access.within_partnership(_system(partnership_id)):
        return sharing.share_expire(grant_id=grant_id)


@shared_task(name="reminders.transfer_joint_sweep", **RELIABLE)
def transfer_joint_sweep() -> int:
    return _each_partnership(reminders.transfer_joint_sweep, transfer_joint_end)


@shared_task(name="reminders.transfer_joint_end", **RELIABLE)
def transfer_joint_end(transfer_id: int, partnership_id: int | None = None) -> bool:
    """Close the sending case of a transfer whose joint period is over (in
    the sending partnership; a transfer sent from another is not found)."""
    with access.within_partnership(_system(partnership_id)):
        return transfers.transfer_end_joint_period(transfer_id=transfer_id)


@shared_task(name="reminders.retention_run", **RELIABLE)
def retention_run() -> int | None:
    """Retention goes through each partnership itself (``retention_run``)."""
    run = retention.retention_run()
    return run.pk if run else None
