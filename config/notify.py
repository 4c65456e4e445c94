"""A Django e-mail backend that sends through GOV.UK Notify.

Chosen by ``EMAIL_PROVIDER=notify`` (see ``config/settings/base.py``).
Notify sends only from templates made in its web interface, so the service
has one generic template whose subject is ``((subject))`` and whose body is
``((body))``; every Django message goes out through it, one API call per
recipient (Notify has no cc or bcc: each address gets its own e-mail, so
bcc recipients stay hidden). The sender and reply-to are the Notify
service's own; ``from_email`` is ignored. Attachments are refused.

Errors: a Notify 5xx or 429 answer, or no answer at all, raises
``NotifyUnavailable``, an ``OSError`` like smtplib's errors, so the reminder
tasks' retry on transient failures (``reminders.tasks.TRANSIENT``) covers
it. Any other refusal (400 bad request, 403 bad key) raises
``NotifyRejected``: retrying would not help. With ``fail_silently`` neither
is raised and the message is not counted as sent.
"""

from __future__ import annotations

import logging
import threading
import uuid
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import sanitize_address

DEFAULT_BASE_URL = "https://api.notifications.service.gov.uk"

logger = logging.getLogger(__name__)


class NotifyError(Exception):
    """GOV.UK Notify did not accept a message."""


class NotifyUnavailable(NotifyError, OSError):
    """Notify failed or could not be reached: worth another try later."""


class NotifyRejected(NotifyError):
    """Notify refused the request (bad key, template or address): a retry
    would be refused again."""


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def check_notify_settings(api_key: str | None, template_id: str | None) -> None:
    """Refuse, at start-up, a Notify configuration that could never send.

    A Notify API key is ``<key name>-<service id>-<secret>``, both ids UUIDs
    (the client reads them from the last 73 characters).
    """
    if not api_key:
        raise ImproperlyConfigured(
            "EMAIL_PROVIDER=notify needs GOVUK_NOTIFY_API_KEY (or GOVUK_NOTIFY_API_KEY_FILE)"
        )
    if len(api_key) < 74 or api_key[-74] != "-" or not (_is_uuid(api_key[-73:-37]) and _is_uuid(api_key[-36:])):
        raise ImproperlyConfigured(
            "GOVUK_NOTIFY_API_KEY is not a Notify API key (<name>-<service id>-<secret id>)"
        )
    if not template_id:
        raise ImproperlyConfigured("EMAIL_PROVIDER=notify needs GOVUK_NOTIFY_TEMPLATE_ID")
    if not _is_uuid(template_id):
        raise ImproperlyConfigured("GOVUK_NOTIFY_TEMPLATE_ID must be a template's UUID")


class NotifyEmailBackend(BaseEmailBackend):
    """Send Django ``EmailMessage``\\ s as Notify e-mail notifications."""

    def __init__(self, fail_silently=False, *, api_key=None, template_id=None, base_url=None, **kwargs):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.api_key = api_key or getattr(settings, "GOVUK_NOTIFY_API_KEY", None)
        self.template_id = template_id or getattr(settings, "GOVUK_NOTIFY_TEMPLATE_ID", None)
        self.base_url = base_url or getattr(settings, "GOVUK_NOTIFY_BASE_URL", None) or DEFAULT_BASE_URL
        check_notify_settings(self.api_key, self.template_id)
        self.client = None
        self._lock = threading.RLock()

    def open(self):
        if self.client is not None:
            return False
        from notifications_python_client.notifications import NotificationsAPIClient

        self.client = NotificationsAPIClient(self.api_key, base_url=self.base_url)
        return True

    def close(self):
        self.client = None

    def send_messages(self, email_messages):
        if not email_messages:
            return 0
        sent = 0
        with self._lock:
            new_client = self.open()
            try:
                for message in email_messages:
                    if self._send(message):
                        sent += 1
            finally:
                if new_client:
                    self.close()
        return sent

    def _send(self, message) -> bool:
        recipients = message.recipients()
        if not recipients:
            return False
        try:
            if message.attachments:
                raise ValueError("GOV.UK Notify e-mail through this backend cannot carry attachments")
            encoding = message.encoding or settings.DEFAULT_CHARSET
            personalisation = {"subject": str(message.subject), "body": str(message.body)}
            for recipient in recipients:
                # Notify wants the bare address, not "Name <address>".
                self._post(parseaddr(sanitize_address(recipient, encoding))[1], personalisation)
        except Exception:
            if not self.fail_silently:
                raise
            logger.exception("GOV.UK Notify: message not sent (fail_silently)")
            return False
        return True

    def _post(self, address: str, personalisation: dict) -> None:
        from notifications_python_client.errors import APIError

        try:
            self.client.send_email_notification(
                email_address=address, template_id=self.template_id, personalisation=personalisation
            )
        except APIError as error:
            # The client reports a request that got no answer as a 503.
            status = error.status_code
            kind = NotifyUnavailable if status >= 500 or status == 429 else NotifyRejected
            raise kind(f"GOV.UK Notify answered {status}: {error.message}") from error
