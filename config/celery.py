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

app = Celery("crossroads")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
