"""Settings, read from the environment (12-factor).

Every variable is listed in the README. Parsers are strict: a boolean that is
neither true nor false, or a malformed URL, stops the app at start-up rather
than falling back to a guess. A secret may also be given as ``<NAME>_FILE``,
the path of a file holding it (Docker and Kubernetes secrets).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from urllib.parse import unquote

import environ
import structlog
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config import embedded

BASE_DIR = embedded.PROJECT_DIR
LOCAL_DIR = embedded.LOCAL_DIR

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_secret(name: str) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE."""
    value = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE")
    if value and path:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both")
    if path:
        return Path(path).read_text().strip()
    return value or None


def development_secret_key() -> str:
    """A key generated once into the local data folder, for development only."""
    LOCAL_DIR.mkdir(exist_ok=True)
    key_file = LOCAL_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_secret("SECRET_KEY") or development_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "guardian",
    "pgtrigger",
    "pghistory",
    "django_structlog",
    "health_check",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "agencies",
    "partnerships",
    "referrals",
    "contexts",
    "safeguarding",
    "casework",
    "contextwork",
    "monitoring",
    "reminders",
    "api",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The partnership boundary a request's actor enters ends with the request.
    "web.middleware.PartnershipBoundaryMiddleware",
    # A request id for every request (X-Request-ID in and out), then the
    # change history's context (user, path, request id) for every write.
    "lib.request_ids.RequestIdMiddleware",
    "lib.request_ids.HistoryMiddleware",
    # Two-factor (agencies/two_factor.py): which device, if any, verified
    # this session; then no page but the two-factor ones until one has.
    "django_otp.middleware.OTPMiddleware",
    "agencies.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.unread_notifications",
                "web.context_processors.working_partnership",
            ],
        },
    },
]


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL") or env_secret("DATABASE_URL")
    if url:
        return url
    url = embedded.running_url()
    if url:
        return url
    raise ImproperlyConfigured(
        "DATABASE_URL is not set and the embedded PostgreSQL server is not "
        "running: start the app with `make run`, or set DATABASE_URL."
    )


DATABASES = {"default": env.db_url_config(_database_url())}
# A Unix-socket folder is given percent-encoded in the host part of the URL.
DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST") or "")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# No just-in-time compilation: every query here is short, and compiling one
# cost more than it saved (measured: 37-117 ms added to dashboard aggregates
# of 100-300 ms at a million cases).
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds the API's per-client throttle counts; production shares
# one Redis between web replicas (CACHE_URL=redis://...), or a replica would
# count alone and the limit would multiply with the replicas.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out sign-in is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user would be a user with no agency; we have no use
# for it, and fewer users means fewer ways in.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
GUARDIAN_MONKEY_PATCH_USER = False
GUARDIAN_USER_OBJ_PERMS_MODEL = "guardian.UserObjectPermission"
GUARDIAN_GROUP_OBJ_PERMS_MODEL = "guardian.GroupObjectPermission"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in lockout (django-axes). Five wrong passwords for one username from
# one address lock that pair for 30 minutes. Not the username alone: anyone
# could then lock a hub screener out during an emergency by typing her name
# five times. Not the address alone: a school or police station signs in
# from behind one address, and one mistyping colleague would lock them all.
# Guessing from many addresses is what the 12-character password rules and
# the second factor are for. The attempt log is in the database.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "agencies.views.locked_out"  # a GOV.UK page, as a 429
AXES_ENABLE_ADMIN = False  # `manage.py axes_reset_username <name>` lifts a lockout early
# The address that counts: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse
# proxies the one the outermost saw (lib/client_address.py), the same for
# lockouts, the access log and the request logs.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "lib.client_address.client_address"

# Two-factor authentication (django-otp): an authenticator app (TOTP) for
# every signed-in person, with single-use recovery codes. Wrong codes back
# off exponentially per device (1, 2, 4, 8... seconds).
OTP_TOTP_ISSUER = "Crossroads"
OTP_LOGIN_URL = "two-factor-verify"
TWO_FACTOR_RECOVERY_CODES = 10

SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Content security policy (django-csp 4): nothing inline, nothing from
# elsewhere. Pages load their scripts, styles and fonts from this origin
# only; GOV.UK Frontend's js-enabled class is set from a file (js/init.js).
# data: images only for the icons the API documentation's stylesheet embeds.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en-gb")
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [d for d in [BASE_DIR / "static"] if d.exists()]
# GOV.UK Frontend from npm (`npm ci`, run by `make`): its CSS and JS as
# /static/govuk/..., and its fonts and images at /assets/..., the absolute
# path its compiled CSS asks for. Nothing from it is copied into git.
GOVUK_FRONTEND_DIR = BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"
if GOVUK_FRONTEND_DIR.exists():
    STATICFILES_DIRS.append(("govuk", GOVUK_FRONTEND_DIR))
# Cytoscape.js (npm, pinned by package-lock.json) draws the network picture
# of contexts and panels, served as /static/cytoscape/cytoscape.min.js.
CYTOSCAPE_DIR = BASE_DIR / "node_modules" / "cytoscape" / "dist"
if CYTOSCAPE_DIR.exists():
    STATICFILES_DIRS.append(("cytoscape", CYTOSCAPE_DIR))
WHITENOISE_ROOT = GOVUK_FRONTEND_DIR
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# An empty EMAIL_URL counts as unset (docker-compose passes it through empty
# when mail goes by GOV.UK Notify).
EMAIL_CONFIG = env.email_url_config(os.environ.get("EMAIL_URL") or "consolemail://")
vars().update(EMAIL_CONFIG)
# Production mail goes by SMTP (EMAIL_URL=smtp+tls://...) or, for public
# bodies, by GOV.UK Notify (EMAIL_PROVIDER=notify; config/notify.py).
EMAIL_PROVIDER = env.str("EMAIL_PROVIDER", default="url")
if EMAIL_PROVIDER == "notify":
    from config import notify as _notify

    EMAIL_BACKEND = "config.notify.NotifyEmailBackend"
    GOVUK_NOTIFY_API_KEY = env_secret("GOVUK_NOTIFY_API_KEY")
    GOVUK_NOTIFY_TEMPLATE_ID = env.str("GOVUK_NOTIFY_TEMPLATE_ID", default="")
    GOVUK_NOTIFY_BASE_URL = env.str("GOVUK_NOTIFY_BASE_URL", default=_notify.DEFAULT_BASE_URL)
    _notify.check_notify_settings(GOVUK_NOTIFY_API_KEY, GOVUK_NOTIFY_TEMPLATE_ID)
elif EMAIL_PROVIDER != "url":
    raise ImproperlyConfigured(f"EMAIL_PROVIDER must be url or notify, not {EMAIL_PROVIDER!r}")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crossroads@localhost")

# Celery: a broker that needs no server (kombu's filesystem transport) when
# CELERY_BROKER_URL is unset; Redis or RabbitMQ in production.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue = LOCAL_DIR / "celery"
    for _sub in ("out", "processed", "control"):
        (_queue / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "out"),
        "data_folder_out": str(_queue / "out"),
        "processed_folder": str(_queue / "processed"),
        "control_folder": str(_queue / "control"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE

# Referral decisions: one working day by default; tighter limits by risk
# rating, in hours, e.g. REFERRAL_DECISION_HOURS=red=2,amber=6,green=24.
REFERRAL_DECISION_HOURS = {
    rating: int(hours)
    for rating, hours in env.dict("REFERRAL_DECISION_HOURS", default={}).items()
}
CASE_REVIEW_INTERVAL_DAYS = env.int("CASE_REVIEW_INTERVAL_DAYS", default=42)
# Retention of closed cases: until the young person's 25th birthday by default.
RETENTION_AGE_YEARS = env.int("RETENTION_AGE_YEARS", default=25)
# Sign-in records (django-axes: usernames and addresses of sign-ins and failed
# attempts) are removed by the same daily run after this many days.
SIGN_IN_RECORD_DAYS = env.int("SIGN_IN_RECORD_DAYS", default=90)
# The partner API's idempotency records (the first response to each POST
# with an Idempotency-Key, personal data included) are removed by the same
# run after this many days: a retry comes within minutes, not weeks.
API_IDEMPOTENCY_DAYS = env.int("API_IDEMPOTENCY_DAYS", default=7)

# Deadlines and reminders (reminders.services, issue 5). The beat schedule is
# static settings, not django-celery-beat: it is code-reviewed and the same
# in every environment, needs no table to seed or admin page to guard, and a
# beat process that restarts (or a second one by mistake) runs the same
# schedule; the reminders are idempotent, so a repeat run costs nothing.
# Frequent sweeps every REMINDER_SWEEP_SECONDS; a worker also fires one
# sweep as it starts (REMINDERS_SWEEP_ON_START), so `make run` shows the
# demo's overdue reviews within a minute.
REMINDER_SWEEP_SECONDS = env.int("REMINDER_SWEEP_SECONDS", default=120)
REMINDERS_SWEEP_ON_START = env_bool("REMINDERS_SWEEP_ON_START", True)
# Alert the hub this many minutes before a referral's deadline, by risk
# rating (default: red referrals 30 minutes early; others at the deadline).
REFERRAL_ALERT_LEAD_MINUTES = {
    rating: int(minutes)
    for rating, minutes in env.dict("REFERRAL_ALERT_LEAD_MINUTES", default={"red": "30"}).items()
}
# Local time (HH:MM) of the managers' daily digest and of the retention run.
DIGEST_TIME = env.str("DIGEST_TIME", default="07:00")
RETENTION_TIME = env.str("RETENTION_TIME", default="02:30")
# Absolute links in e-mails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")


def _crontab_at(hh_mm: str):
    from celery.schedules import crontab

    hour, _, minute = hh_mm.partition(":")
    return crontab(hour=int(hour), minute=int(minute or 0))


_SWEEP = float(REMINDER_SWEEP_SECONDS)
# How often beat refreshes the monitoring's reporting schema (only what
# changed since the last run is rewritten).
MONITORING_REFRESH_SECONDS = env.int("MONITORING_REFRESH_SECONDS", default=900)
# Partnerships refreshed side by side, each on a database connection of its
# own (the work is PostgreSQL's): one per core of the database server.
MONITORING_REFRESH_WORKERS = env.int("MONITORING_REFRESH_WORKERS", default=2)

CELERY_BEAT_SCHEDULE = {
    "review-reminders": {"task": "reminders.review_sweep", "schedule": _SWEEP},
    "screening-deadlines": {"task": "reminders.screening_sweep", "schedule": _SWEEP},
    "shares-expiring": {"task": "reminders.share_expiring_sweep", "schedule": _SWEEP},
    "shares-expired": {"task": "reminders.share_expiry_sweep", "schedule": _SWEEP},
    "transfers-joint-ended": {"task": "reminders.transfer_joint_sweep", "schedule": _SWEEP},
    "notifications-unsent": {"task": "reminders.notifications_unsent_sweep", "schedule": _SWEEP},
    "panel-actions": {"task": "reminders.panel_action_sweep", "schedule": _SWEEP},
    "panel-carry-forward": {"task": "reminders.panel_carry_sweep", "schedule": _SWEEP},
    "manager-digest": {"task": "reminders.digest_sweep", "schedule": _crontab_at(DIGEST_TIME)},
    "retention": {"task": "reminders.retention_run", "schedule": _crontab_at(RETENTION_TIME)},
    # A run still waiting when the next is due is dropped, not queued
    # behind it: each run does what changed since the last one.
    "monitoring-refresh": {"task": "reminders.monitoring_refresh", "schedule": MONITORING_REFRESH_SECONDS,
                           "options": {"expires": MONITORING_REFRESH_SECONDS}},
}

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"api_client": env.str("API_THROTTLE_RATE", default="600/minute")},
}

# Partner systems: OAuth 2.0 client credentials (django-oauth-toolkit), with
# short-lived bearer tokens and the scopes each agencies.ApiClient holds.
OAUTH2_PROVIDER = {
    "SCOPES": {
        "referrals:read": "Follow the referrals the agency made",
        "referrals:write": "Make referrals",
        "cases:read": "Read cases the agency may see",
        "cases:write": "Add chronology entries and interventions to those cases",
        "contexts:read": "Read places, groups and persons of concern, and links to visible cases",
        "contexts:write": "Record contexts and link visible cases to them",
    },
    "SCOPES_BACKEND_CLASS": "agencies.oauth.ApiClientScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("API_TOKEN_SECONDS", default=900),
    # RFC 9700 (OAuth 2.0 Security BCP) in full: tokens only in the header and
    # stored hashed, no implicit or password grants, https redirects only.
    # Only client credentials are used, but nothing weaker is left enabled.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

# Named so that migrations can depend on the (unswapped) application model.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

SPECTACULAR_SETTINGS = {
    "TITLE": "Crossroads partner API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "DESCRIPTION": (
        "The Crossroads partner API lets a partner agency's system (a school's information system, a police "
        "records system) make referrals to the partnership's hub, follow their decisions, and work the cases "
        "its agency leads or has been granted a share of.\n\n"
        "**Getting a token.** Your agency's administrator issues your system a client id and secret (shown "
        "once) with scopes: `referrals:write`, `referrals:read`, `cases:read`, `cases:write`. Exchange them "
        "for a short-lived bearer token: `POST /o/token/` with `grant_type=client_credentials` and HTTP Basic "
        "authentication (client id and secret), then send `Authorization: Bearer <access_token>`. Ask for a "
        "new token when it expires.\n\n"
        "**What you see.** Exactly what your agency may see, narrowed by your scopes: your agency's referrals "
        "and their outcome; cases your agency leads or holds an active share of (expired or revoked shares "
        "end access at once). Anything else is a 404, the same as something that does not exist. Every call "
        "that reads or changes case data is recorded in the partnership's access log.\n\n"
        "**Errors** are `application/problem+json` (RFC 9457); a 400 lists each field at fault in `errors`. "
        "**Retries:** send an `Idempotency-Key` header on POST; a retry with the same key and body returns "
        f"the first response (keys are remembered for {API_IDEMPOTENCY_DAYS} days). **Lists** use cursor pagination (`next`/`previous` "
        "links). **Throttling:** over your client's budget you get a 429 with `Retry-After`.\n\n"
        "**Strict input.** Send only the query parameters and body fields this document declares, each of its "
        "type: nothing is coerced or ignored, and anything else is a 400 naming it. Dates are `YYYY-MM-DD`, "
        "date-times RFC 3339 with a time zone (1900 to 2099); date-times come back in UTC. Nothing may be dated "
        "before 1900, before the young person's birth, or in the future beyond a few minutes of clock skew."
    ),
    # The API's rules between fields go in after the enums are named
    # (api.serializers.add_rules_between_fields).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums", "api.serializers.add_rules_between_fields",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AgencyKindEnum": "agencies.models.AgencyKind",
        "InterventionKindEnum": "referrals.models.InterventionKind",
        "NoteKindEnum": "referrals.models.NoteKind",
        "ReferralStatusEnum": "referrals.models.ReferralStatus",
        "CaseStatusEnum": "referrals.models.CaseStatus",
        "InterventionStatusEnum": "referrals.models.InterventionStatus",
        "ContextKindEnum": "contexts.models.ContextKind",
        "SourceEvaluationEnum": "contexts.models.SourceEvaluation",
        "IntelligenceAssessmentEnum": "contexts.models.IntelligenceAssessment",
        "HandlingCodeEnum": "contexts.models.HandlingCode",
    },
}

# Structured logs on the console (django-structlog): JSON lines, or
# key=value lines with LOG_FORMAT=console; every line of a request or task
# carries its request_id.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True  # lib.request_ids checks it first
DJANGO_STRUCTLOG_CELERY_ENABLED = True
_LOG_RENDERER = {
    "json": structlog.processors.JSONRenderer,
    "console": lambda: structlog.dev.ConsoleRenderer(colors=False),
}
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in _LOG_RENDERER:
    raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(_LOG_RENDERER)}, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": "structlog.stdlib.ProcessorFormatter",
            "processor": _LOG_RENDERER[LOG_FORMAT](),
            "foreign_pre_chain": [
                structlog.contextvars.merge_contextvars,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.stdlib.add_logger_name,
                structlog.stdlib.add_log_level,
            ],
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.filter_by_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.processors.UnicodeDecoder(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
