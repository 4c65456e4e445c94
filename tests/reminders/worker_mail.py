"""A mail backend for the real-worker tests: one file per message, written
after an optional delay (REMINDER_TEST_MAIL_DELAY seconds), with a marker
file written before the delay so a test knows a send is under way."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class FilePerMessageBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["REMINDER_TEST_MAIL_DIR"])
        delay = float(os.environ.get("REMINDER_TEST_MAIL_DELAY", "0"))
        for message in email_messages:
            name = uuid.uuid4().hex
            (folder / f"{name}.sending").write_text("")
            time.sleep(delay)
            (folder / f"{name}.eml").write_bytes(message.message().as_bytes())
        return len(email_messages)
