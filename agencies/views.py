"""The two-factor pages (``/accounts/two-factor/...``): the code after the
password, a recovery code instead, first-time set-up of an authenticator
app, and new recovery codes.

Only the verify, recovery and set-up pages are open to a session that has a
password but no code yet (``agencies.middleware``). Set-up is for someone
without an app, or for someone already verified who is replacing theirs: a
password alone never changes the second factor. Pages that show a secret
or recovery codes are not cached.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from agencies import two_factor
from agencies.forms import AppCodeForm, RecoveryCodeForm

FEW_RECOVERY_CODES = 3


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return None


def _next_url(request) -> str:
    return _safe_next(request) or reverse("home")


def _with_next(name: str, request) -> str:
    """Another two-factor page, carrying on to the same page afterwards."""
    target = _safe_next(request)
    return reverse(name) + ("?" + urlencode({"next": target}) if target else "")


def _posted(request):
    return request.POST if request.method == "POST" else None


def _second_step(request, form_class, check, template: str, context: dict):
    """The page after the password: ``check(code)`` returns the device that
    accepted the code or raises CodeRefused. Someone already verified goes
    on; someone with no app yet goes to set one up."""
    if two_factor.is_verified(request):
        return redirect(_next_url(request))
    if two_factor.confirmed_app(request.user) is None:
        return redirect(_with_next("two-factor-setup", request))
    form = form_class(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            device = check(form.cleaned_data["code"])
        except two_factor.CodeRefused as refusal:
            form.add_error("code", refusal.message)
        else:
            two_factor.mark_verified(request, device)
            return None
    return render(request, template, {"form": form, "next": _next_url(request), **context})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The code from the person's authenticator app, after their password."""

    def check(code):
        device = two_factor.confirmed_app(request.user)
        two_factor.app_code_check(device=device, code=code)
        return device

    return _second_step(request, AppCodeForm, check, "registration/two_factor_verify.html", {
        "recovery_url": _with_next("two-factor-recovery", request),
    }) or redirect(_next_url(request))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def recovery(request):
    """A recovery code instead of the app's code (each works once)."""
    response = _second_step(
        request, RecoveryCodeForm, lambda code: two_factor.recovery_code_check(user=request.user, code=code),
        "registration/two_factor_recovery.html", {"verify_url": _with_next("two-factor-verify", request)},
    )
    if response is not None:
        return response
    left = two_factor.recovery_codes_left(request.user)
    note = f"You signed in with a recovery code. You have {left} recovery code{'s' if left != 1 else ''} left."
    if left <= FEW_RECOVERY_CODES:
        note += " Get new recovery codes from the link at the bottom of the page."
    messages.success(request, note)
    return redirect(_next_url(request))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """Set up an authenticator app: scan the QR code or type the secret,
    then confirm with a code; the recovery codes are shown once, in the
    response to that POST, and kept nowhere the person can see them again."""
    verified = two_factor.is_verified(request)
    if two_factor.confirmed_app(request.user) is not None and not verified:
        return redirect(_with_next("two-factor-verify", request))
    device = two_factor.app_setup_start(user=request.user)
    form = AppCodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.app_setup_confirm(user=request.user, device=device, code=form.cleaned_data["code"])
        except two_factor.CodeRefused as refusal:
            form.add_error("code", refusal.message)
        else:
            two_factor.mark_verified(request, device)
            return render(request, "registration/two_factor_recovery_codes.html", {
                "codes": codes, "next": _next_url(request), "first_time": not verified,
            })
    return render(request, "registration/two_factor_setup.html", {
        "form": form, "next": _next_url(request), "qr_code": two_factor.qr_code_svg(device),
        "secret": two_factor.secret_text(device), "replacing": verified,
    })


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes_new(request):
    """New recovery codes for a verified person (the middleware sees to
    that); the old ones stop working."""
    if request.method == "POST":
        codes = two_factor.recovery_codes_issue(user=request.user)
        return render(request, "registration/two_factor_recovery_codes.html", {
            "codes": codes, "next": reverse("home"), "first_time": False,
        })
    return render(request, "registration/two_factor_recovery_codes_new.html", {
        "left": two_factor.recovery_codes_left(request.user),
    })


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE):
    what happened and what to do, as a 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {
        "failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes,
    }, status=429)
