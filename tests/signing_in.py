"""Signing in, in tests.

``client.force_login(user)`` (and ``client.login(...)``) sign in a person
who has done both steps, password and two-factor code: ``tests/conftest.py``
makes them so for every test, giving the person a confirmed authenticator
app if they have none. That is what almost every test wants.

Tests about the second step itself sign in with the password only, through
the real sign-in page: ``password_only_login``.
"""

from __future__ import annotations

import time

from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from agencies import two_factor

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def password_only_login(client: Client, user, password: str = PASSWORD):
    """Signs in through the sign-in page with the password alone, so the
    session is signed in but not verified by a code. Returns the response."""
    response = client.post(reverse("login"), {"username": user.get_username(), "password": password})
    assert response.status_code == 302, "the password step did not sign in"
    return response


def verify_session(client: Client, user) -> None:
    """Marks the client's session as verified by the person's authenticator
    app, as entering a code would."""
    device = two_factor.confirmed_app_ensure(user=user)
    session = client.session
    session[two_factor.DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def usable_code(device) -> str:
    """The code a person would type now. A code is accepted once (django-otp
    records the time step it was for), so straight after one was used this
    is the app's next code, which is accepted a step early."""
    device.refresh_from_db()
    now = time.time()
    step_now = int((now - device.t0) // device.step) + device.drift
    if device.last_t >= step_now:
        now = device.t0 + (device.last_t + 1 - device.drift) * device.step
    return two_factor.current_code(device, at=now)


def a_request() -> HttpRequest:
    """A bare request from the test client's address: django-axes needs one
    to decide whether a sign-in is locked out."""
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    return request
