"""Settings for serving the app under the benchmarks' load (gunicorn on loopback).

The base settings as production runs them (``DEBUG`` off, so no query log is
kept), with the differences a benchmark needs: the URLconf adds a bare JSON
view to compare against (``bench.urls``), the API's per-client request budget
is lifted (a load test is one client sending as fast as it can), mail is
dropped (a reminder sweep e-mails thousands of people; the fault drills
count it in files instead: ``BENCH_MAIL_DIR``), and database
connections persist, as docker-compose runs production.
"""

import os

from config.settings.base import *  # noqa: F401,F403
from config.settings.base import DATABASES, REST_FRAMEWORK

DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
DATABASES["default"]["CONN_MAX_AGE"] = 60
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_client": "1000000/second"}}
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
if os.environ.get("BENCH_MAIL_DIR"):  # the fault drills count what is sent (bench/mail.py)
    EMAIL_BACKEND = "bench.mail.FilePerMessageBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
