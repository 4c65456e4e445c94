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
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from reminders import services as reminders
from safeguarding import retention
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


# ---------------------------------------------------------------------------
# Sweeps (beat)
# ---------------------------------------------------------------------------


@shared_task(name="reminders.review_sweep", **RELIABLE)
def review_sweep() -> int:
    return reminders.review_sweep(enqueue=lambda case_id: on_commit_delay(review_remind, case_id))


@shared_task(name="reminders.screening_sweep", **RELIABLE)
def screening_sweep() -> int:
    return reminders.screening_sweep(enqueue=lambda referral_id: on_commit_delay(screening_remind, referral_id))


@shared_task(name="reminders.digest_sweep", **RELIABLE)
def digest_sweep() -> int:
    return reminders.digest_sweep(enqueue=lambda user_id, agency_id: on_commit_delay(digest_send, user_id, agency_id))


@shared_task(name="reminders.notifications_unsent_sweep", **RELIABLE)
def notifications_unsent_sweep() -> int:
    return reminders.notifications_unsent_sweep(
        enqueue=lambda notification_id: on_commit_delay(notification_email, notification_id)
    )


@shared_task(name="reminders.reminders_sweep", **RELIABLE)
def reminders_sweep() -> dict[str, int]:
    """Every frequent sweep at once: what a worker fires when it starts, and
    what the integration tests trigger."""
    return {
        "reviews": review_sweep(),
        "screening": screening_sweep(),
        "shares_expiring": share_expiring_sweep(),
        "shares_expired": share_expiry_sweep(),
        "unsent": notifications_unsent_sweep(),
    }


# ---------------------------------------------------------------------------
# Per item
# ---------------------------------------------------------------------------


@shared_task(name="reminders.review_remind", **RELIABLE)
def review_remind(case_id: int) -> int:
    return email_all(reminders.review_reminders_record(case_id=case_id))


@shared_task(name="reminders.screening_remind", **RELIABLE)
def screening_remind(referral_id: int) -> int:
    return email_all(reminders.screening_reminders_record(referral_id=referral_id))


@shared_task(name="reminders.digest_send", **RELIABLE)
def digest_send(user_id: int, agency_id: int) -> int:
    return email_all(reminders.manager_digest_record(user_id=user_id, agency_id=agency_id))


@shared_task(name="reminders.notification_email", **RELIABLE)
def notification_email(notification_id: int) -> int:
    return email_all([notification_id])


# ---------------------------------------------------------------------------
# Share grants and retention
# ---------------------------------------------------------------------------


@shared_task(name="reminders.share_expiring_sweep", **RELIABLE)
def share_expiring_sweep() -> int:
    return reminders.share_expiring_sweep(enqueue=lambda grant_id: on_commit_delay(share_expiring_remind, grant_id))


@shared_task(name="reminders.share_expiring_remind", **RELIABLE)
def share_expiring_remind(grant_id: int) -> int:
    return email_all(reminders.share_expiring_reminders_record(grant_id=grant_id))


@shared_task(name="reminders.share_expiry_sweep", **RELIABLE)
def share_expiry_sweep() -> int:
    return reminders.share_expiry_sweep(enqueue=lambda grant_id: on_commit_delay(share_expire, grant_id))


@shared_task(name="reminders.share_expire", **RELIABLE)
def share_expire(grant_id: int) -> bool:
    """Remove an expired (or revoked) grant's permission rows."""
    return sharing.share_expire(grant_id=grant_id)


@shared_task(name="reminders.retention_run", **RELIABLE)
def retention_run() -> int | None:
    run = retention.retention_run()
    return run.pk if run else None
