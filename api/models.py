"""What the partner API keeps of its own: the first answer to each
idempotent POST."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from agencies.models import ApiClient


class IdempotencyRecord(models.Model):
    """The first successful response to a POST carrying an ``Idempotency-Key``,
    kept so a retry with the same key and body returns it unchanged."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "agencies_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_unique_per_client"),
        ]
