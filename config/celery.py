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
from celery.signals import task_postrun, worker_ready
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


@task_postrun.connect
def _leave_partnership_after_every_task(task=None, **_kwargs) -> None:
    """No worker connection carries a partnership (and the app's role) into
    the next task, whatever the task did or failed to do: back to the
    connection's own role (closed, if it cannot be reset). The tasks leave
    it themselves (``access.within_partnership``); this is the backstop.
    Not for a task run eagerly inside another, whose caller is still in
    its partnership."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    # Not at the top: this module loads with config, before Django's app
    # registry is ready to import models.
    from safeguarding import access

    access.leave_partnership()
