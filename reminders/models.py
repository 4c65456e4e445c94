"""Notifications (deadlines and reminders).

A notification belongs to a person. It is written by the reminder services
in ``reminders.services`` and read in the app through
``reminders.services.notifications_for``. Its text carries references (case
and referral references), never a young person's name: it is also e-mailed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NotificationKind(models.TextChoices):
    REVIEW_DUE_SOON = "review_due_soon", "Review due soon"
    REVIEW_OVERDUE = "review_overdue", "Review overdue"
    SCREENING_OVERDUE = "screening_overdue", "Screening decision late"
    SHARE_EXPIRING = "share_expiring", "Share about to expire"
    DIGEST = "digest", "Daily digest"
    PANEL_ACTION_DUE = "panel_action_due", "Panel action due"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn: access ended"
    BREAK_GLASS_OPENED = "break_glass_opened", "Break-glass access opened"
    BREAK_GLASS_ESCALATED = "break_glass_escalated", "Break-glass opening escalated"


class Notification(models.Model):
    """One reminder for one person, in the app and (once) by e-mail.

    ``dedup_key`` names the reminder's kind, object and deadline (or week,
    or day): unique per recipient, so a sweep run twice, two beat processes
    or a retried task find the row already there instead of writing another.
    ``emailed_at`` is set when the e-mail has been handed to the mail backend
    (or found to have nowhere to go: a person with no address); it is claimed
    with a conditional ``UPDATE ... WHERE emailed_at IS NULL`` in the same
    transaction as the send, so a failed or killed send leaves it unset.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=200, blank=True, help_text="Path in the app, e.g. /cases/12/")
    # Plain ids: agencies sits below referrals, and a notification must not
    # keep a case from being anonymised or removed.
    case_id = models.BigIntegerField(null=True, blank=True)
    referral_id = models.BigIntegerField(null=True, blank=True)
    dedup_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # When its last e-mail attempt failed: a batch sends the notifications
    # that never failed first, so one the mail server keeps refusing (a bad
    # address) cannot hold back the others of its batch.
    email_failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "agencies_notification"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedup_key"], name="notification_once_per_recipient"),
            models.CheckConstraint(condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["created_at"], condition=Q(emailed_at__isnull=True), name="notification_unsent"),
            # The sweeps skip what is already recorded by looking the key up.
            models.Index(fields=["dedup_key"], name="notification_dedup_key"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id}: {self.subject}"
