"""Two-factor authentication in a real browser, as a person meets it: the
first sign-in sets up an authenticator app (the QR code's scan is skipped:
the person types the key shown beside it into their app, here
django-otp's own TOTP), the recovery codes are shown once, and a later
sign-in uses one of them. Every page is scanned with axe-core."""

from __future__ import annotations

import re
from base64 import b32decode

from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from playwright.sync_api import expect

from tests.e2e.test_journey import PASSWORD, sign_out


def app_code(key_text: str) -> str:
    """What an authenticator app shows for the key typed into it."""
    return f"{TOTP(b32decode(key_text.replace(' ', ''))).token():06d}"


def test_first_sign_in_sets_up_two_factor_and_a_recovery_code_works(live_server, context, scan, cast):
    person = cast.user("owner", "manager")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/two-factor/set-up/**")
    scan(page, "two-factor-set-up")
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    key = page.locator("#setup-key").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})+", key)

    # A mistyped code: the error summary and the field's message.
    code = page.get_by_label("Enter the 6-digit code your app shows")
    code.fill("12345")
    page.get_by_role("button", name="Continue").click()
    page.locator(".govuk-error-summary").wait_for()
    assert "The code must be 6 numbers" in page.locator(".govuk-error-message").inner_text()
    scan(page, "two-factor-set-up-error")

    page.get_by_label("Enter the 6-digit code your app shows").fill(app_code(key))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Save your recovery codes").wait_for()
    scan(page, "two-factor-recovery-codes")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    page.get_by_role("button", name="I have saved my recovery codes").click()
    page.wait_for_url(f"{live_server.url}/")
    scan(page, "home-after-set-up")
    sign_out(page)

    # Next time: password, then (no phone to hand) a recovery code.
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/two-factor/**")
    scan(page, "two-factor-code")
    page.get_by_role("link", name="use a recovery code").click()
    page.wait_for_url("**/accounts/two-factor/recovery/**")
    scan(page, "two-factor-recovery")
    page.get_by_label("Enter a recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "You have 9 recovery codes left." in page.locator(".govuk-notification-banner--success").inner_text()
    scan(page, "home-after-recovery-code")

    page.get_by_role("link", name="recovery codes and authenticator app").click()
    page.get_by_role("heading", name="Get new recovery codes").wait_for()
    scan(page, "two-factor-new-recovery-codes")

    assert not errors, errors
    assert not scan.problems, "axe-core found serious or critical violations:\n" + "\n".join(scan.problems)


def test_five_wrong_passwords_show_the_lockout_page(live_server, context, scan, cast):
    person = cast.user("owner", "practitioner")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(5):
        page.get_by_label("Username").fill(person.username)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        if page.get_by_role("heading", name="You cannot sign in for 30 minutes").count():
            break
    page.get_by_role("heading", name="You cannot sign in for 30 minutes").wait_for()
    scan(page, "locked-out")
    assert not scan.problems, "axe-core found serious or critical violations:\n" + "\n".join(scan.problems)
