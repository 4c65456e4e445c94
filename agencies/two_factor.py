"""Two-factor authentication: an authenticator app (django-otp's TOTP
device) for every person who signs in to the web pages, with single-use
recovery codes (django-otp's static device).

The pages are in ``agencies/views.py``; the middleware that keeps
a signed-in but unverified session out of everything else is in
``agencies/middleware.py``. Bearer-token API calls never have a session user,
so none of this touches them.

Recovery codes are kept as django-otp's static tokens (plain text in the
database, like the TOTP secrets: both must be readable to be checked).
"""

from __future__ import annotations

import math
import re
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device, VerifyNotAllowed
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


class CodeRefused(Exception):
    """A code that did not verify, with the message to show the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def confirmed_app(user) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if they have set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_codes_left(user) -> int:
    device = recovery_device(user)
    return device.token_set.count() if device else 0


def app_setup_start(*, user) -> TOTPDevice:
    """The unconfirmed device a person is setting up: the same one on every
    visit to the set-up page (so a reload does not change the QR code under
    them), new only the first time."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as people type it into an app: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` address as an inline SVG QR code (no
    style attribute or script in it: the pages run under a strict CSP)."""
    code = qrcode.QRCode(box_size=10, border=4)
    code.add_data(device.config_url)
    image = code.make_image(
        image_factory=qrcode.image.svg.SvgPathImage,
        **{"class": "crossroads-qr-code", "role": "img",
           "aria-label": "QR code to scan with your authenticator app"},
    )
    return image.to_string(encoding="unicode")


def _normalised(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _refuse_if_throttled(device: Device) -> None:
    allowed, extra = device.verify_is_allowed()
    if allowed:
        return
    if extra and extra.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
        failures = extra["failure_count"]
        seconds = max(1, math.ceil((extra["locked_until"] - timezone.now()).total_seconds()))
        raise CodeRefused(
            f"You entered a wrong code {failures} time{'s' if failures != 1 else ''}. "
            f"Wait {seconds} second{'s' if seconds != 1 else ''} and try again."
        )
    raise CodeRefused("Codes cannot be checked for this account at the moment. Try again later.")


def _verify(device: Device, code: str, wrong: str) -> None:
    # Locked, so two requests with the same code cannot both pass and the
    # failure count (django-otp's throttling) is kept exactly.
    # A refusal is raised after the transaction, so that the failure count
    # it recorded is kept.
    with transaction.atomic():
        device = type(device).objects.select_for_update().get(pk=device.pk)
        _refuse_if_throttled(device)
        accepted = device.verify_token(code)
    if not accepted:
        raise CodeRefused(wrong)


def app_code_check(*, device: TOTPDevice, code: str) -> None:
    """Checks a 6-digit code from the app; raises CodeRefused with the
    message to show. A code once accepted is not accepted again."""
    code = _normalised(code)
    if not code:
        raise CodeRefused("Enter the 6-digit code from your authenticator app")
    if not re.fullmatch(r"\d{6}", code):
        raise CodeRefused("The code must be 6 numbers")
    _verify(device, code, "The code is not correct or has expired. Enter the code your app shows now")


def recovery_code_check(*, user, code: str) -> StaticDevice:
    """Checks a recovery code and uses it up; raises CodeRefused."""
    code = _normalised(code)
    if not code:
        raise CodeRefused("Enter one of your recovery codes")
    device = recovery_device(user)
    if device is None:
        raise CodeRefused("You have no recovery codes. Ask your agency administrator to reset your two-factor set-up")
    _verify(device, code, "The recovery code is not correct or has already been used")
    return device


def recovery_codes_issue(*, user) -> list[str]:
    """New recovery codes for a person; any earlier ones stop working. The
    codes are returned to be shown once."""
    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().filter(user=user).order_by("pk").first()
        if device is None:
            device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def app_setup_confirm(*, user, device: TOTPDevice, code: str) -> list[str]:
    """Confirms the app being set up with a code from it, retires any other
    app the person had, and issues their recovery codes (returned, to be
    shown once). Raises CodeRefused if the code is wrong."""
    app_code_check(device=device, code=code)
    with transaction.atomic():
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = recovery_codes_issue(user=user)
    device.confirmed = True
    return codes


def devices_remove(*, user) -> int:
    """Removes the person's apps and recovery codes (``two_factor_reset``).
    Sessions they verified stop counting as verified at their next request
    (django-otp finds the device gone). Returns how many devices went."""
    with transaction.atomic():
        devices = [TOTPDevice.objects.filter(user=user), StaticDevice.objects.filter(user=user)]
        removed = sum(qs.count() for qs in devices)
        for qs in devices:
            qs.delete()
    return removed


def mark_verified(request, device: Device) -> None:
    """Records in the session that this device verified the person, under a
    new session key (the session has just gained a privilege)."""
    request.session.cycle_key()
    otp_login(request, device)


def is_verified(request) -> bool:
    user = request.user
    return bool(user.is_authenticated and getattr(user, "is_verified", None) and user.is_verified())


def current_code(device: TOTPDevice, *, at: float | None = None) -> str:
    """The code the person's app shows now: for the demo command and for
    tests that sign in as a person would. Never shown on a page."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if at is not None:
        totp.time = at
    return f"{totp.token():0{device.digits}d}"


def confirmed_app_ensure(*, user) -> TOTPDevice:
    """The person's confirmed authenticator app, made if they have none: for
    the demo accounts (seed_demo) and tests. A second call changes nothing."""
    return confirmed_app(user) or TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=True)


__all__ = [
    "DEVICE_ID_SESSION_KEY", "CodeRefused", "app_code_check", "app_setup_confirm", "app_setup_start",
    "confirmed_app", "current_code", "confirmed_app_ensure", "devices_remove", "is_verified", "mark_verified", "qr_code_svg",
    "recovery_code_check", "recovery_codes_issue", "recovery_codes_left", "secret_text",
]
