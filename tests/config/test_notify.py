"""The GOV.UK Notify e-mail backend (config/notify.py) against a fake Notify
server on loopback, and the EMAIL_PROVIDER settings that choose it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.test import override_settings

from config import notify
from config.celery import app as celery_app
from reminders import tasks

ROOT = Path(__file__).resolve().parents[2]
SERVICE_ID = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
API_KEY = f"crossroads_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = str(uuid.uuid4())


class FakeNotify:
    """POST /v2/notifications/email as Notify answers it: 201 and the
    notification's JSON, or the error status set in ``fail_with``. Requests
    without a valid bearer JWT for the test key get 403, as from Notify."""

    def __init__(self):
        self.received: list[dict] = []
        self.fail_with: int | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                auth = self.headers.get("Authorization", "")
                try:
                    assert auth.startswith("Bearer ")
                    claims = jwt.decode(auth.removeprefix("Bearer "), SECRET, algorithms=["HS256"])
                    assert claims["iss"] == SERVICE_ID and "iat" in claims
                except Exception:
                    return self._answer(403, {"status_code": 403, "errors": [
                        {"error": "AuthError", "message": "Invalid token: signature, api token not found"}]})
                if self.path != "/v2/notifications/email":
                    return self._answer(404, {"status_code": 404, "errors": [
                        {"error": "NotFound", "message": "Not found"}]})
                fake.received.append({"auth": auth, **body})
                if fake.fail_with:
                    return self._answer(fake.fail_with, {"status_code": fake.fail_with, "errors": [
                        {"error": "BadRequestError" if fake.fail_with < 500 else "Exception",
                         "message": "fake Notify says no"}]})
                notification_id = str(uuid.uuid4())
                personalisation = body.get("personalisation") or {}
                self._answer(201, {
                    "id": notification_id,
                    "reference": body.get("reference"),
                    "content": {"subject": personalisation.get("subject"), "body": personalisation.get("body"),
                                "from_email": "crossroads@notifications.service.gov.uk"},
                    "uri": f"{fake.url}/v2/notifications/{notification_id}",
                    "template": {"id": body.get("template_id"), "version": 1,
                                 "uri": f"{fake.url}/services/{SERVICE_ID}/templates/{body.get('template_id')}"},
                })

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.timeout = 5
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def fake_notify():
    fake = FakeNotify()
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with override_settings(
            EMAIL_BACKEND="config.notify.NotifyEmailBackend",
            GOVUK_NOTIFY_API_KEY=API_KEY,
            GOVUK_NOTIFY_TEMPLATE_ID=TEMPLATE_ID,
            GOVUK_NOTIFY_BASE_URL=fake.url,
        ):
            yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        thread.join(timeout=5)
        assert not thread.is_alive()


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------


def test_a_django_message_goes_to_notify_through_the_generic_template(fake_notify):
    message = EmailMessage(subject="Review due", body="Case C-1 is due a review.\n\nhttp://x/cases/1/",
                           from_email="crossroads@localhost", to=["Pat Worker <pat@example.org>"])
    assert message.send() == 1
    assert mail.outbox == []  # not Django's outbox: the backend is Notify
    [sent] = fake_notify.received
    assert sent["email_address"] == "pat@example.org"
    assert sent["template_id"] == TEMPLATE_ID
    assert sent["personalisation"] == {"subject": "Review due", "body": "Case C-1 is due a review.\n\nhttp://x/cases/1/"}
    assert sent["auth"].startswith("Bearer ")


def test_send_mail_and_every_recipient_get_their_own_notification(fake_notify):
    assert mail.send_mail("Digest", "Overdue reviews (1)", None, ["a@example.org", "b@example.org"]) == 1
    message = EmailMessage("Hidden", "copy", to=["c@example.org"], bcc=["d@example.org"])
    assert message.send() == 1
    assert [r["email_address"] for r in fake_notify.received] == [
        "a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    assert {r["personalisation"]["subject"] for r in fake_notify.received} == {"Digest", "Hidden"}


@pytest.mark.parametrize("status, error, transient", [
    (400, notify.NotifyRejected, False),
    (403, notify.NotifyRejected, False),
    (429, notify.NotifyUnavailable, True),
    (500, notify.NotifyUnavailable, True),
])
def test_a_notify_error_is_raised_and_only_server_trouble_is_transient(fake_notify, status, error, transient):
    fake_notify.fail_with = status
    with pytest.raises(error, match=str(status)) as raised:
        EmailMessage("Subject", "Body", to=["pat@example.org"]).send()
    # reminders.tasks retries OSErrors (like smtplib's); a refusal is not retried.
    assert isinstance(raised.value, tasks.TRANSIENT) is transient
    assert len(fake_notify.received) == 1


def test_a_bad_key_is_refused_by_notify(fake_notify):
    other = f"crossroads_test-{SERVICE_ID}-{uuid.uuid4()}"
    backend = notify.NotifyEmailBackend(api_key=other)
    with pytest.raises(notify.NotifyRejected, match="403"):
        backend.send_messages([EmailMessage("Subject", "Body", to=["pat@example.org"])])
    assert fake_notify.received == []


def test_fail_silently_swallows_the_error_and_counts_nothing_sent(fake_notify):
    fake_notify.fail_with = 500
    assert mail.send_mail("Subject", "Body", None, ["pat@example.org"], fail_silently=True) == 0
    assert len(fake_notify.received) == 1


def test_notify_unreachable_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = notify.NotifyEmailBackend(api_key=API_KEY, template_id=TEMPLATE_ID, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(notify.NotifyUnavailable) as raised:
        backend.send_messages([EmailMessage("Subject", "Body", to=["pat@example.org"])])
    assert isinstance(raised.value, OSError)


def test_attachments_are_refused(fake_notify):
    message = EmailMessage("Subject", "Body", to=["pat@example.org"])
    message.attach("a.txt", "text", "text/plain")
    with pytest.raises(ValueError, match="attachments"):
        message.send()
    assert fake_notify.received == []


@pytest.mark.django_db
def test_a_reminder_e_mail_is_retried_after_a_notify_outage_and_sent_once(fake_notify):
    from reminders.models import Notification, NotificationKind
    from tests import factories as f

    person = f.UserFactory(email="worker@example.org")
    notification = Notification.objects.create(
        recipient=person, kind=NotificationKind.REVIEW_DUE_SOON, subject="Review due soon",
        body="Case C-1 is due a review on 20 November.", link="/cases/1/", dedup_key="review:1:soon")
    before = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = True
    try:
        fake_notify.fail_with = 500
        with pytest.raises(Retry):
            tasks.notification_email.apply(args=(notification.pk,)).get()
        notification.refresh_from_db()
        assert notification.emailed_at is None  # the claim went back with the failed send
        fake_notify.fail_with = None
        assert tasks.notification_email.apply(args=(notification.pk,)).get() == 1
        assert tasks.notification_email.apply(args=(notification.pk,)).get() == 0
    finally:
        celery_app.conf.task_eager_propagates = before
    assert [r["email_address"] for r in fake_notify.received] == ["worker@example.org"] * 2
    assert fake_notify.received[-1]["personalisation"]["subject"] == "Review due soon"
    assert fake_notify.received[-1]["personalisation"]["body"].startswith("Case C-1 is due a review")
    assert mail.outbox == []


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def test_check_notify_settings_accepts_a_key_and_template():
    notify.check_notify_settings(API_KEY, TEMPLATE_ID)


@pytest.mark.parametrize("key, template, message", [
    (None, TEMPLATE_ID, "needs GOVUK_NOTIFY_API_KEY"),
    ("", TEMPLATE_ID, "needs GOVUK_NOTIFY_API_KEY"),
    ("not-a-key", TEMPLATE_ID, "not a Notify API key"),
    (f"name-{SERVICE_ID}-not-a-uuid-at-all-not-a-uuid-at-all", TEMPLATE_ID, "not a Notify API key"),
    (f"{SERVICE_ID}-{SECRET}", TEMPLATE_ID, "not a Notify API key"),  # the key name is missing
    (API_KEY, None, "needs GOVUK_NOTIFY_TEMPLATE_ID"),
    (API_KEY, "welcome-email", "must be a template's UUID"),
], ids=["no key", "empty key", "not a key", "name and bad ids", "no key name", "no template", "template not a uuid"])
def test_check_notify_settings_refuses(key, template, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        notify.check_notify_settings(key, template)


CLEARED = {"DJANGO_SETTINGS_MODULE", "EMAIL_URL", "EMAIL_PROVIDER", "GOVUK_NOTIFY_API_KEY",
           "GOVUK_NOTIFY_API_KEY_FILE", "GOVUK_NOTIFY_TEMPLATE_ID", "GOVUK_NOTIFY_BASE_URL"}


def settings_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/crossroads_notify",
        **env,
    }
    code = ("from django.conf import settings; "
            "print(settings.EMAIL_BACKEND, getattr(settings, 'GOVUK_NOTIFY_BASE_URL', '-'))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_by_default_mail_goes_by_email_url():
    result = settings_in_a_fresh_process(EMAIL_URL="smtp+tls://user:pw@smtp.example:587")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.core.mail.backends.smtp.EmailBackend"
    result = settings_in_a_fresh_process(EMAIL_PROVIDER="url")
    assert result.stdout.split()[0] == "django.core.mail.backends.console.EmailBackend"


def test_notify_is_chosen_with_its_key_from_a_file(tmp_path):
    key_file = tmp_path / "notify_key"
    key_file.write_text(API_KEY + "\n")
    result = settings_in_a_fresh_process(EMAIL_PROVIDER="notify", GOVUK_NOTIFY_API_KEY_FILE=str(key_file),
                                         GOVUK_NOTIFY_TEMPLATE_ID=TEMPLATE_ID)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.notify.NotifyEmailBackend", notify.DEFAULT_BASE_URL]


@pytest.mark.parametrize("env, message", [
    ({"EMAIL_PROVIDER": "sendgrid"}, "EMAIL_PROVIDER must be url or notify, not 'sendgrid'"),
    ({"EMAIL_PROVIDER": "notify", "GOVUK_NOTIFY_TEMPLATE_ID": TEMPLATE_ID}, "needs GOVUK_NOTIFY_API_KEY"),
    ({"EMAIL_PROVIDER": "notify", "GOVUK_NOTIFY_API_KEY": API_KEY}, "needs GOVUK_NOTIFY_TEMPLATE_ID"),
    ({"EMAIL_PROVIDER": "notify", "GOVUK_NOTIFY_API_KEY": "abc", "GOVUK_NOTIFY_TEMPLATE_ID": TEMPLATE_ID},
     "not a Notify API key"),
])
def test_a_bad_provider_or_incomplete_notify_settings_stop_start_up(env, message):
    result = settings_in_a_fresh_process(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
