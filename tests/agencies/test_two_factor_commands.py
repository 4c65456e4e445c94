"""``demo_otp_code`` (development settings only) and ``two_factor_reset``."""

from __future__ import annotations

import time
from io import StringIO
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies import two_factor
from tests import factories as f
from tests.config.test_settings import manage, production_env
from tests.signing_in import password_only_login

DEVELOPMENT = {"DEBUG": True, "SETTINGS_MODULE": "config.settings.base"}


def demo_otp_code(username: str) -> str:
    out = StringIO()
    call_command("demo_otp_code", username, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.mark.django_db
def test_it_prints_the_code_the_app_shows_now_and_that_code_signs_in():
    user = f.UserFactory(username="demo-worker")
    device = two_factor.confirmed_app_ensure(user=user)
    with override_settings(**DEVELOPMENT):
        code = demo_otp_code("demo-worker")
    assert code == two_factor.current_code(device) and len(code) == 6
    client = Client()
    password_only_login(client, user)
    assert client.post(reverse("two-factor-verify"), {"code": code})["Location"] == reverse("home")


@pytest.mark.django_db
@pytest.mark.parametrize("overrides", [
    {"DEBUG": False, "SETTINGS_MODULE": "config.settings.base"},
    {"DEBUG": True, "SETTINGS_MODULE": "config.settings.production"},
    {"DEBUG": True, "SETTINGS_MODULE": "config.settings.test"},
    {"DEBUG": True, "SETTINGS_MODULE": "config.settings.staging"},
    {"DEBUG": True, "SETTINGS_MODULE": None},
], ids=["debug-off", "production", "test", "unknown-module", "configured-in-code"])
def test_it_refuses_outside_the_development_settings(overrides):
    two_factor.confirmed_app_ensure(user=f.UserFactory(username="demo-worker"))
    with override_settings(**overrides), pytest.raises(CommandError, match="only"):
        demo_otp_code("demo-worker")


def test_it_refuses_under_the_settings_pytest_runs_with():
    with pytest.raises(CommandError, match="only"):
        demo_otp_code("anyone")


@pytest.mark.django_db
def test_unknown_people_and_people_without_an_app_are_errors():
    f.UserFactory(username="no-app-yet")
    with override_settings(**DEVELOPMENT):
        with pytest.raises(CommandError, match="No user 'nobody'"):
            demo_otp_code("nobody")
        with pytest.raises(CommandError, match="has no authenticator app"):
            demo_otp_code("no-app-yet")


@pytest.mark.parametrize(("settings_module", "env", "expected"), [
    ("config.settings.production", production_env(), "development settings"),
    ("config.settings.base", {"DEBUG": "false"}, "DEBUG on"),
], ids=["production", "base-with-debug-off"])
def test_a_fresh_process_exits_non_zero_outside_development(settings_module, env, expected):
    result = manage("demo_otp_code", "youthworker", settings=settings_module, **env)
    assert result.returncode != 0
    assert expected in result.stderr
    assert not result.stdout.strip()


@pytest.mark.django_db(transaction=True)
def test_a_fresh_process_prints_the_code_under_the_development_settings():
    user = f.UserFactory(username="demo-worker")
    device = two_factor.confirmed_app_ensure(user=user)
    database = connection.settings_dict
    # The test database, as a URL the settings parse: a Unix-socket folder
    # (the embedded server) goes percent-encoded in the host part.
    host = quote(database["HOST"] or "127.0.0.1", safe="")
    port = f":{database['PORT']}" if database["PORT"] else ""
    url = f"postgres://{database['USER']}@{host}{port}/{database['NAME']}"
    result = manage("demo_otp_code", "demo-worker", settings="config.settings.base", DEBUG="true", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    # The code of the step the process ran in, or the next if it crossed one.
    device.refresh_from_db()
    now = time.time()
    assert result.stdout.strip() in {two_factor.current_code(device, at=now - 30), two_factor.current_code(device)}


@pytest.mark.django_db
def test_two_factor_reset_sends_the_person_back_to_set_up():
    user = f.UserFactory(username="lost-phone")
    two_factor.confirmed_app_ensure(user=user)
    two_factor.recovery_codes_issue(user=user)
    out = StringIO()
    call_command("two_factor_reset", "lost-phone", stdout=out)
    assert "Removed 2 two-factor device(s) of lost-phone" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    client = Client()
    password_only_login(client, user)
    assert client.get(reverse("two-factor-verify"))["Location"].startswith(reverse("two-factor-setup"))
    with pytest.raises(CommandError, match="No user"):
        call_command("two_factor_reset", "nobody")

