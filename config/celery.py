"""The Celery app: configured from the Django settings (``CELERY_*``).

Tasks live in ``<app>/tasks.py`` and are found by autodiscovery. The beat
schedule is static and lives in the settings, so every beat process runs the
same schedule whatever machine it starts on.

DJANGO_SETTINGS_MODULE is deliberately not defaulted here: this module is
imported by ``config/__init__.py``, so a default set here would run before
``config/wsgi.py`` picks its own (production) default and silently win.
``make run`` and the Docker image both set the variable.
"""

from celery import Celery
from celery.signals import worker_ready
from django_structlog.celery.steps import DjangoStructLogInitStep

import lib.request_ids  # noqa: F401  (a task's id is its request id)

app = Celery("crossroads")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Structured logs for tasks, each with its task id as the request id.
app.steps["worker"].add(DjangoStructLogInitStep)


@worker_ready.connect
def _sweep_when_a_worker_starts(sender=None, **_kwargs) -> None:
    """Fire the frequent reminder sweeps once as a worker comes up, rather
    than waiting for beat's first interval (``REMINDERS_SWEEP_ON_START``).
    Harmless with several workers: the reminders are idempotent."""
    from django.conf import settings

    if getattr(settings, "REMINDERS_SWEEP_ON_START", False):
        sender.app.send_task("reminders.reminders_sweep")
