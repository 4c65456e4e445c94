"""Celery tasks for sharing and retention (see ``referrals.tasks`` for the
conventions: ids only, late acknowledgement, retries with back-off)."""

from __future__ import annotations

from celery import shared_task

from referrals import reminders
from referrals.tasks import RELIABLE, _email_all, on_commit_delay
from safeguarding import retention, services


@shared_task(name="safeguarding.share_expiring_sweep", **RELIABLE)
def share_expiring_sweep() -> int:
    return reminders.share_expiring_sweep(enqueue=lambda grant_id: on_commit_delay(share_expiring_remind, grant_id))


@shared_task(name="safeguarding.share_expiring_remind", **RELIABLE)
def share_expiring_remind(grant_id: int) -> int:
    return _email_all(reminders.share_expiring_reminders_record(grant_id=grant_id))


@shared_task(name="safeguarding.share_expiry_sweep", **RELIABLE)
def share_expiry_sweep() -> int:
    return reminders.share_expiry_sweep(enqueue=lambda grant_id: on_commit_delay(share_expire, grant_id))


@shared_task(name="safeguarding.share_expire", **RELIABLE)
def share_expire(grant_id: int) -> bool:
    """Remove an expired (or revoked) grant's permission rows."""
    return services.share_expire(grant_id=grant_id)


@shared_task(name="safeguarding.retention_run", **RELIABLE)
def retention_run() -> int | None:
    run = retention.retention_run()
    return run.pk if run else None
