"""A mail backend for the fault drills: each message goes to a file of its
own in ``BENCH_MAIL_DIR`` (the "mail server" the drills count, to find a
reminder lost or sent twice), optionally ``BENCH_MAIL_DELAY`` seconds
apiece, so a drill can strike while a batch is being sent."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class FilePerMessageBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["BENCH_MAIL_DIR"])
        delay = float(os.environ.get("BENCH_MAIL_DELAY", "0"))
        for message in email_messages:
            time.sleep(delay)
            name = folder / f"{uuid.uuid4().hex}.eml"
            name.with_suffix(".tmp").write_bytes(message.message().as_bytes())
            name.with_suffix(".tmp").rename(name)  # whole, or not at all
        return len(email_messages)
