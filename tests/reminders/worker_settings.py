"""Settings for the real Celery worker the integration tests start: the
project's settings, plus a mail backend that writes each message to its own
file (and can be slowed down, to kill a worker mid-send), and a short
visibility timeout so Redis hands a killed worker's message back quickly.
Each test run sends to and consumes from a queue of its own
(``REMINDER_TEST_QUEUE``), so two runs on one machine never share tasks."""

import os

from config.settings.base import *  # noqa: F401,F403

EMAIL_BACKEND = "tests.reminders.worker_mail.FilePerMessageBackend"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 8}
CELERY_TASK_DEFAULT_QUEUE = os.environ["REMINDER_TEST_QUEUE"]
