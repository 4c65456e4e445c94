"""Two-factor authentication required: a person who has signed in with a
password but not yet with a code reaches nothing but the two-factor pages,
sign-out, static files and the health check.

Deny by default: the exemptions are a short list of URL names, so a new page
is protected without anyone remembering to. Partner systems calling the API
with a bearer token have no session user, so they pass untouched; a session
user on the API is held back like anywhere else.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from agencies.two_factor import is_verified

# Reachable with a password alone: the steps that verify, and the way out.
EXEMPT_URL_NAMES = frozenset({
    "two-factor-verify", "two-factor-recovery", "two-factor-setup", "logout", "health",
})


def _exempt(request) -> bool:
    if request.path_info.startswith(settings.STATIC_URL):
        return True
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.url_name in EXEMPT_URL_NAMES


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and not is_verified(request) and not _exempt(request):
            target = reverse("two-factor-verify")
            if request.method == "GET":
                target += "?" + urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(target)
        return self.get_response(request)
