"""Production settings: the base settings made strict.

Refuses to start without a real SECRET_KEY, DEBUG off and every transport
secured. ``manage.py check --deploy`` is clean under these settings (a test).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import env, env_bool, env_secret

if not env_secret("SECRET_KEY"):
    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set in production")
SECRET_KEY = env_secret("SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY is too short or too simple for production")

DEBUG = env_bool("DEBUG", False)
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 63072000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True

# Reminders must reach people: no console, memory or dummy mail in production.
if EMAIL_PROVIDER == "url" and EMAIL_BACKEND.rsplit(".", 2)[-2] in {"console", "locmem", "dummy", "filebased"}:  # noqa: F405
    raise ImproperlyConfigured(
        "Production needs real mail: set EMAIL_URL (e.g. smtp+tls://user:password@host:587) "
        "or EMAIL_PROVIDER=notify with GOVUK_NOTIFY_API_KEY and GOVUK_NOTIFY_TEMPLATE_ID"
    )
CSRF_COOKIE_SECURE = True
