"""Sessions end after 30 minutes without a request, and when the browser
closes (the cookie has no expiry of its own). Passwords are hashed with
Argon2 and must pass the validators (12 characters at least)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests.signing_in import password_only_login

pytestmark = pytest.mark.django_db


def test_the_session_cookie_lasts_until_the_browser_closes(cast):
    response = password_only_login(Client(), cast.user("owner", "practitioner"))
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    assert cookie["httponly"] is True


def test_thirty_idle_minutes_sign_the_person_out(cast):
    client = Client()
    start = dt.datetime.now(dt.timezone.utc)
    with time_machine.travel(start, tick=False):
        client.force_login(cast.user("owner", "practitioner"))
        assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=29), tick=False):
        assert client.get(reverse("home")).status_code == 200  # a request resets the clock
    with time_machine.travel(start + dt.timedelta(minutes=58), tick=False):
        assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=88, seconds=1), tick=False):
        response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_signed_in_page_says_when_the_session_ends(cast, client):
    client.force_login(cast.user("owner", "practitioner"))
    body = client.get(reverse("home")).content.decode()
    assert 'data-session-seconds="1800"' in body
    assert "signed out after 30 minutes without activity" in body


def test_passwords_are_hashed_with_argon2_outside_tests():
    from config.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert Argon2PasswordHasher().encode("a long enough passphrase", "saltsaltsalt").startswith("argon2$")


@pytest.mark.parametrize(("password", "fault"), [
    ("short-pass1", "at least 12 characters"),
    ("123456789012", "entirely numeric"),
    ("password1234", "too common"),
])
def test_weak_passwords_are_refused(cast, password, fault):
    with pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password, cast.user("owner", "practitioner"))
    assert any(fault in message for message in refused.value.messages)
    password_validation.validate_password("walnut ferry lantern 42", cast.user("owner", "practitioner"))
