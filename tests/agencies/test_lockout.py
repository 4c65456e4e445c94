"""Sign-in lockout (django-axes): five wrong passwords for one username from
one address lock that pair for 30 minutes, with a page that says what
happened and what to do. The admin's sign-in counts the same; the partner
API's token endpoint and the test client keep working."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.api.conftest import issue
from tests.signing_in import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


def attempt(client, user, password, *, address="127.0.0.1", url=LOGIN):
    return client.post(url, {"username": user.username, "password": password}, REMOTE_ADDR=address)


def fail(client, user, times, **kwargs):
    for _ in range(times):
        response = attempt(client, user, "not the password", **kwargs)
    return response


def test_five_wrong_passwords_lock_the_account_from_that_address(cast):
    user = cast.user("owner", "practitioner")
    client = Client()
    for _ in range(4):
        response = attempt(client, user, "not the password")
        assert response.status_code == 200
        assert "Enter a correct username and password." in response.content.decode()
    response = attempt(client, user, "not the password")
    assert response.status_code == 429
    # Locked: even the right password is refused, with the same page.
    response = attempt(client, user, PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "You cannot sign in for 30 minutes" in body
    assert "wrong 5 times in a row" in body
    assert "Wait 30 minutes" in body and "ask your agency" in body
    assert 'class="govuk-template"' in body and " style=" not in body
    assert "_auth_user_id" not in client.session


def test_the_lock_is_for_that_username_from_that_address_only(cast):
    user = cast.user("owner", "practitioner")
    fail(Client(), user, 5)
    # Another address (a colleague's office), or another person at the same
    # address, can still sign in.
    assert attempt(Client(), user, PASSWORD, address="10.1.2.3").status_code == 302
    assert attempt(Client(), cast.user("owner", "manager"), PASSWORD).status_code == 302


def test_the_lock_lifts_after_30_minutes(cast):
    user = cast.user("owner", "practitioner")
    start = dt.datetime.now(dt.timezone.utc)
    with time_machine.travel(start, tick=False):
        fail(Client(), user, 5)
    with time_machine.travel(start + dt.timedelta(minutes=30, seconds=1), tick=False):
        response = attempt(Client(), user, PASSWORD)
    assert response.status_code == 302


def test_trying_again_while_locked_starts_the_30_minutes_again(cast):
    user = cast.user("owner", "practitioner")
    start = dt.datetime.now(dt.timezone.utc)
    with time_machine.travel(start, tick=False):
        fail(Client(), user, 5)
    with time_machine.travel(start + dt.timedelta(minutes=29), tick=False):
        assert attempt(Client(), user, PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        assert attempt(Client(), user, PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=61, seconds=1), tick=False):  # 30 after the last try
        assert attempt(Client(), user, PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_count(cast):
    user = cast.user("owner", "practitioner")
    fail(Client(), user, 4)
    assert attempt(Client(), user, PASSWORD).status_code == 302
    assert fail(Client(), user, 4).status_code == 200
    assert attempt(Client(), user, PASSWORD).status_code == 302


def test_the_admin_sign_in_is_locked_the_same_way(cast):
    user = cast.superuser
    client = Client()
    fail(client, user, 5, url=reverse("admin:login"))
    response = attempt(client, user, PASSWORD, url=reverse("admin:login"))
    assert response.status_code == 429
    assert "You cannot sign in for 30 minutes" in response.content.decode()
    # The lock is the account's, whichever page the attempts came through.
    assert attempt(Client(), user, PASSWORD).status_code == 429


def test_the_token_endpoint_still_issues_tokens(cast):
    api_client, secret = issue(cast, "owner")
    basic = base64.b64encode(f"{api_client.application.client_id}:{secret}".encode()).decode()
    response = Client().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "Bearer"


def test_the_test_clients_login_works(cast):
    user = cast.user("owner", "practitioner")
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    assert not Client().login(username=user.username, password="wrong")


def test_behind_a_proxy_the_lock_is_for_the_address_the_proxy_saw(cast, settings):
    """Behind one trusted proxy every request comes from the proxy's address;
    the lock must follow the client's (the last X-Forwarded-For hop), or five
    wrong passwords from anywhere would lock the person out everywhere."""
    settings.TRUSTED_PROXY_COUNT = 1
    user = cast.user("owner", "practitioner")
    proxy = "10.0.0.2"

    def via_proxy(password, client_address, claimed=""):
        forwarded = f"{claimed}, {client_address}" if claimed else client_address
        return Client().post(LOGIN, {"username": user.username, "password": password},
                             REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded)

    for _ in range(5):
        response = via_proxy("not the password", "203.0.113.9")
    assert response.status_code == 429
    assert via_proxy(PASSWORD, "203.0.113.9").status_code == 429
    # Another client behind the same proxy signs in; a client claiming the
    # locked address in the header is judged by the address the proxy saw.
    assert via_proxy(PASSWORD, "198.51.100.4").status_code == 302
    assert via_proxy(PASSWORD, "198.51.100.5", claimed="203.0.113.9").status_code == 302
