"""Two-factor authentication for everyone who signs in to the pages: the code
after the password, recovery codes, first-time set-up, the middleware that
holds back a session with a password alone, and what it leaves alone (sign
out, health, the partner API)."""

from __future__ import annotations

import datetime as dt
import re
from base64 import b32decode
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies import two_factor
from tests import factories as f
from tests.api.conftest import bearer, http, issue
from tests.signing_in import password_only_login, usable_code

pytestmark = pytest.mark.django_db

VERIFY = reverse("two-factor-verify")
RECOVERY = reverse("two-factor-recovery")
SETUP = reverse("two-factor-setup")


@pytest.fixture
def person(cast):
    """A practitioner with a confirmed authenticator app."""
    user = cast.user("owner", "practitioner")
    two_factor.confirmed_app_ensure(user=user)
    return user


@pytest.fixture
def half_signed_in(person):
    """A browser session past the password, not yet past the code."""
    client = Client()
    password_only_login(client, person)
    return client


def redirected_to(response) -> tuple[str, dict]:
    assert response.status_code == 302, response.status_code
    parts = urlsplit(response["Location"])
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def error_text(response) -> str:
    body = response.content.decode()
    assert 'class="govuk-error-summary"' in body
    match = re.search(r'<p id="id_code-error" class="govuk-error-message">(.*?)</p>', body, re.S)
    assert match, "no error message on the code field"
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("Error:", "").strip()


def protected_urls(cast) -> list[str]:
    case = f.CaseFactory(lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"))
    return [
        reverse("home"), reverse("referral-start"), reverse("notifications"), reverse("api-clients"),
        reverse("case-detail", args=[case.pk]), reverse("caseload-export"), reverse("admin:index"),
        reverse("api-docs"), reverse("api-schema"), "/api/v1/cases/", "/no-such-page/",
        reverse("two-factor-recovery-codes-new"), reverse("password_change"),
    ]


# -- enforcement ---------------------------------------------------------------


def test_a_password_alone_reaches_no_page_but_the_code_step(cast, half_signed_in):
    for url in protected_urls(cast):
        path, query = redirected_to(half_signed_in.get(url))
        assert path == VERIFY, url
        assert query["next"] == url
    # Posting is held back too (and no next page is carried for it).
    path, query = redirected_to(half_signed_in.post(reverse("referral-start"), {}))
    assert path == VERIFY and query == {}


def test_the_code_page_is_a_govuk_form_for_a_one_time_code(half_signed_in):
    response = half_signed_in.get(VERIFY, {"next": "/notifications/"})
    assert response.status_code == 200
    body = response.content.decode()
    field = re.search(r'<input class="govuk-input[^>]*id="id_code"[^>]*>', body).group(0)
    assert 'autocomplete="one-time-code"' in field and 'inputmode="numeric"' in field
    assert '<label class="govuk-label govuk-label--l" for="id_code">' in body
    assert 'name="next" value="/notifications/"' in body
    assert "<script>" not in body and " style=" not in body
    # The casework menu is not offered yet; signing out is.
    assert "Make a referral" not in body and "Sign out" in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_right_code_lets_the_person_in_under_a_new_session_key(person, half_signed_in):
    before = half_signed_in.cookies["sessionid"].value
    device = two_factor.confirmed_app(person)
    response = half_signed_in.post(VERIFY, {"code": usable_code(device), "next": "/notifications/"})
    assert redirected_to(response)[0] == "/notifications/"
    assert half_signed_in.cookies["sessionid"].value != before
    assert half_signed_in.get(reverse("home")).status_code == 200
    assert half_signed_in.get(VERIFY).status_code == 302  # nothing more to do there


def test_next_cannot_send_the_person_to_another_site(person, half_signed_in):
    device = two_factor.confirmed_app(person)
    response = half_signed_in.post(VERIFY, {"code": usable_code(device), "next": "https://evil.example/"})
    assert redirected_to(response)[0] == reverse("home")


@pytest.mark.parametrize(("code", "message"), [
    ("", "Enter the 6-digit code from your authenticator app"),
    ("12ab56", "The code must be 6 numbers"),
    ("1234567", "The code must be 6 numbers"),
])
def test_a_missing_or_malformed_code_is_a_field_error(half_signed_in, code, message):
    response = half_signed_in.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert error_text(response) == message
    assert redirected_to(half_signed_in.get(reverse("home")))[0] == VERIFY


def test_a_wrong_code_is_refused_and_then_throttled(person, half_signed_in):
    device = two_factor.confirmed_app(person)
    with time_machine.travel(dt.datetime.now(dt.timezone.utc), tick=False) as clock:
        right = usable_code(device)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        response = half_signed_in.post(VERIFY, {"code": wrong})
        assert error_text(response) == "The code is not correct or has expired. Enter the code your app shows now"
        # django-otp's back-off: straight after a wrong code even the right
        # one is not checked, and the page says how long to wait.
        response = half_signed_in.post(VERIFY, {"code": right})
        assert error_text(response) == "You entered a wrong code 1 time. Wait 1 second and try again."
        device.refresh_from_db()
        assert device.throttling_failure_count == 1
        clock.shift(2)
        response = half_signed_in.post(VERIFY, {"code": usable_code(device)})
    assert redirected_to(response)[0] == reverse("home")
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_the_back_off_doubles_with_each_wrong_code(person, half_signed_in):
    device = two_factor.confirmed_app(person)
    with time_machine.travel(dt.datetime.now(dt.timezone.utc), tick=False) as clock:
        for _ in range(4):
            half_signed_in.post(VERIFY, {"code": "000000" if usable_code(device) != "000000" else "111111"})
            clock.shift(60)
        response = half_signed_in.post(VERIFY, {"code": "000000" if usable_code(device) != "000000" else "111111"})
        clock.shift(10)  # the fifth failure asks for 16 seconds
        response = half_signed_in.post(VERIFY, {"code": usable_code(device)})
        assert "Wait 6 seconds" in error_text(response)
        clock.shift(7)
        response = half_signed_in.post(VERIFY, {"code": usable_code(device)})
    assert redirected_to(response)[0] == reverse("home")


def test_a_code_works_only_once(person, half_signed_in):
    device = two_factor.confirmed_app(person)
    code = usable_code(device)
    assert redirected_to(half_signed_in.post(VERIFY, {"code": code}))[0] == reverse("home")
    other = Client()
    password_only_login(other, person)
    assert error_text(other.post(VERIFY, {"code": code})).startswith("The code is not correct")


def test_another_persons_device_in_the_session_does_not_count(cast, person, half_signed_in):
    stranger = cast.user("outsider", "practitioner")
    theirs = two_factor.confirmed_app_ensure(user=stranger)
    session = half_signed_in.session
    session[two_factor.DEVICE_ID_SESSION_KEY] = theirs.persistent_id
    session.save()
    assert redirected_to(half_signed_in.get(reverse("home")))[0] == VERIFY


# -- recovery codes ------------------------------------------------------------


def test_a_recovery_code_works_once_and_says_how_many_are_left(person, half_signed_in):
    codes = two_factor.recovery_codes_issue(user=person)
    assert len(codes) == 10 and len(set(codes)) == 10
    page = half_signed_in.get(VERIFY)
    assert f'href="{RECOVERY}"' in page.content.decode()
    form = half_signed_in.get(RECOVERY).content.decode()
    assert 'autocomplete="off"' in form and 'inputmode="numeric"' not in form
    response = half_signed_in.post(RECOVERY, {"code": codes[0].upper()}, follow=True)
    assert response.redirect_chain[0][0] == reverse("home")
    assert "You have 9 recovery codes left." in response.content.decode()
    again = Client()
    password_only_login(again, person)
    assert error_text(again.post(RECOVERY, {"code": codes[0]})) == (
        "The recovery code is not correct or has already been used"
    )
    assert redirected_to(again.get(reverse("home")))[0] == VERIFY


def test_without_recovery_codes_the_page_says_so(half_signed_in):
    response = half_signed_in.post(RECOVERY, {"code": "abcdefgh"})
    assert error_text(response).startswith("You have no recovery codes")


def test_new_recovery_codes_replace_the_old_ones(person, client):
    old = two_factor.recovery_codes_issue(user=person)
    client.force_login(person)
    page = client.get(reverse("two-factor-recovery-codes-new"))
    assert page.status_code == 200 and "You have 10 unused recovery codes" in page.content.decode()
    response = client.post(reverse("two-factor-recovery-codes-new"))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    shown = re.findall(r"<li><code>(\w+)</code></li>", response.content.decode())
    assert len(shown) == 10 and not set(shown) & set(old)
    assert set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True)) == set(shown)
    stale = Client()
    password_only_login(stale, person)
    assert error_text(stale.post(RECOVERY, {"code": old[1]})).startswith("The recovery code is not correct")
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)):
        # (after django-otp's one-second back-off for the wrong code)
        assert redirected_to(stale.post(RECOVERY, {"code": shown[1]}))[0] == reverse("home")


# -- first-time set-up ---------------------------------------------------------


def test_first_sign_in_sets_up_an_app_end_to_end(cast):
    newcomer = cast.user("hub", "hub_screener")
    client = Client()
    password_only_login(client, newcomer)
    path, query = redirected_to(client.get("/notifications/"))
    assert path == VERIFY
    path, query = redirected_to(client.get(VERIFY, query))
    assert (path, query) == (SETUP, {"next": "/notifications/"})

    page = client.get(SETUP, query)
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    device = TOTPDevice.objects.get(user=newcomer)
    assert not device.confirmed
    assert re.search(r'<svg [^>]*role="img" aria-label="QR code to scan with your authenticator app"', body)
    key = re.search(r'<code id="setup-key"[^>]*>([A-Z2-7 ]+)</code>', body).group(1)
    assert b32decode(key.replace(" ", "")) == device.bin_key
    assert client.get(SETUP).content.decode().count(key) == 1, "a reload shows the same key"
    assert " style=" not in body and "<script>" not in body

    right = usable_code(device)
    wrong = f"{(int(right) + 5) % 1_000_000:06d}"
    assert error_text(client.post(SETUP, {"code": wrong, "next": "/notifications/"})).startswith(
        "The code is not correct"
    )
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2), tick=False):
        response = client.post(SETUP, {"code": usable_code(device), "next": "/notifications/"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Two-factor authentication is set up" in body
    codes = re.findall(r"<li><code>(\w+)</code></li>", body)
    assert len(codes) == 10
    assert 'href="/notifications/"' in body
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/notifications/").status_code == 200
    assert set(StaticToken.objects.filter(device__user=newcomer).values_list("token", flat=True)) == set(codes)


def test_a_password_alone_cannot_replace_the_app(person, half_signed_in):
    assert redirected_to(half_signed_in.get(SETUP))[0] == VERIFY
    assert redirected_to(half_signed_in.post(SETUP, {"code": "123456"}))[0] == VERIFY
    assert TOTPDevice.objects.filter(user=person).count() == 1


def test_a_verified_person_can_replace_their_app(person, client):
    client.force_login(person)
    old = two_factor.confirmed_app(person)
    client.get(SETUP)
    new = TOTPDevice.objects.get(user=person, confirmed=False)
    response = client.post(SETUP, {"code": usable_code(new)})
    assert response.status_code == 200 and "Save your recovery codes" in response.content.decode()
    assert list(TOTPDevice.objects.filter(user=person).values_list("pk", flat=True)) == [new.pk]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


# -- what stays open, and the admin ----------------------------------------------


def test_sign_out_and_health_are_open_to_a_half_signed_in_session(half_signed_in):
    assert half_signed_in.get(reverse("health")).status_code != 302
    response = half_signed_in.post(reverse("logout"))
    assert redirected_to(response)[0] == reverse("login")
    assert redirected_to(half_signed_in.get(reverse("home")))[0] == reverse("login")


def test_static_files_are_not_held_back(half_signed_in, settings):
    response = half_signed_in.get(settings.STATIC_URL + "css/crossroads.css")
    assert response.status_code != 302


def test_the_admin_needs_the_code_too(cast):
    client = Client()
    two_factor.confirmed_app_ensure(user=cast.superuser)
    response = client.post(reverse("admin:login"), {"username": cast.superuser.username,
                                                     "password": "correct horse battery staple"})
    assert response.status_code == 302
    for url in (reverse("admin:index"), reverse("admin:agencies_agency_changelist")):
        assert redirected_to(client.get(url))[0] == VERIFY
    client.post(VERIFY, {"code": usable_code(two_factor.confirmed_app(cast.superuser))})
    assert client.get(reverse("admin:index")).status_code == 200


def test_devices_are_not_in_the_admin():
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)


def test_partner_api_bearer_tokens_need_no_second_factor(cast):
    api_client, _secret = issue(cast, "owner")
    response = http(bearer(api_client)).get("/api/v1/cases/")
    assert response.status_code == 200
    assert http().get("/api/v1/cases/").status_code == 401


def test_force_login_in_tests_is_verified(cast, client):
    """What every other page test relies on (tests/conftest.py)."""
    user = cast.user("referrer", "practitioner")
    client.force_login(user)
    assert client.get(reverse("home")).status_code == 200
    assert client.login(username=user.username, password="correct horse battery staple")
    assert client.get(reverse("home")).status_code == 200
