"""The settings modules, exercised as a deployment would: in a fresh process
with only the environment to go on.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Variables the settings read, cleared so the developer's shell cannot leak in.
READ_BY_SETTINGS = [
    "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS", "SECURE_SSL_REDIRECT", "EMAIL_URL", "CELERY_BROKER_URL",
]


def database_url() -> str:
    # check does not connect; makemigrations --check reads the migration history.
    return os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/crossroads_cfg"


def manage(*args: str, settings: str = "config.settings.production", **env: str) -> subprocess.CompletedProcess:
    # The browser tests allow Django's async-unsafe calls for themselves; a
    # deploy check must never inherit that.
    environment = {
        k: v for k, v in os.environ.items() if k not in READ_BY_SETTINGS and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    environment |= {"DJANGO_SETTINGS_MODULE": settings, "DATABASE_URL": database_url(), **env}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )


def production_env(**overrides: str) -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "crossroads.example.gov.uk",
        "EMAIL_URL": "smtp+tls://crossroads:secret@smtp.example.gov.uk:587", **overrides,
    }


def test_deploy_checks_are_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.parametrize("email_url", ["", "consolemail://"])
def test_production_refuses_to_start_without_real_mail(email_url):
    result = manage("check", **production_env(EMAIL_URL=email_url))
    assert result.returncode != 0
    assert "Production needs real mail" in result.stderr


def test_production_accepts_gov_uk_notify_instead_of_smtp():
    env = production_env(
        EMAIL_URL="", EMAIL_PROVIDER="notify",
        GOVUK_NOTIFY_API_KEY=f"crossroads_live-{uuid.uuid4()}-{uuid.uuid4()}",
        GOVUK_NOTIFY_TEMPLATE_ID=str(uuid.uuid4()),
    )
    result = manage("check", **env)
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = manage("check", **production_env(SECRET_KEY="x" * 60))
    assert result.returncode != 0
    assert "too short or too simple" in result.stderr


@pytest.mark.parametrize("value", ["true", "1", "on"])
def test_production_refuses_to_start_with_debug_on(value):
    result = manage("check", **production_env(DEBUG=value))
    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


@pytest.mark.parametrize("settings", ["config.settings.base", "config.settings.production"])
def test_a_debug_value_that_is_neither_true_nor_false_is_an_error(settings):
    result = manage("check", settings=settings, **production_env(DEBUG="maybe"))
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'" in result.stderr


def test_production_requires_allowed_hosts():
    env = production_env()
    del env["ALLOWED_HOSTS"]
    result = manage("check", **env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(64) + "\n")
    env = production_env(SECRET_KEY_FILE=str(key_file))
    del env["SECRET_KEY"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_and_secret_key_file_together_is_an_error(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(64))
    result = manage("check", **production_env(SECRET_KEY_FILE=str(key_file)))
    assert result.returncode != 0
    assert "Set SECRET_KEY or SECRET_KEY_FILE, not both" in result.stderr


def test_checks_are_clean_under_base_settings():
    result = manage("check", "--fail-level", "WARNING", settings="config.settings.base")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_models_and_migrations_agree():
    result = manage("makemigrations", "--check", "--dry-run", settings="config.settings.base")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_the_celery_app_takes_its_configuration_from_the_settings(settings):
    from config import celery_app

    assert celery_app.main == "crossroads"
    assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.worker_prefetch_multiplier == 1
    assert celery_app.conf.accept_content == ["json"]


def test_cache_url_selects_a_shared_redis_cache_for_throttling():
    script = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = manage("shell", "-c", script, settings="config.settings.base", CACHE_URL="redis://127.0.0.1:6379/1")
    assert result.returncode == 0, result.stderr
    assert "RedisCache" in result.stdout
    default = manage("shell", "-c", script, settings="config.settings.base")
    assert "LocMemCache" in default.stdout
