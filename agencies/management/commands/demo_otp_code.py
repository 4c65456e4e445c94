"""``manage.py demo_otp_code <username>``: the code a demo account's
authenticator app would show now, so the demo can be tried without a phone.

Development only. It runs when DEBUG is on AND the settings module is the
development one (``config.settings.base``, what ``make run`` and
``manage.py`` use by default), and refuses otherwise: an allow-list, so a
production, staging or test settings module (or any new one) is refused
without anyone having to remember this command. Production settings cannot
have DEBUG on in any case.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agencies import two_factor

DEVELOPMENT_SETTINGS_MODULES = frozenset({"config.settings.base"})


def refusal() -> str | None:
    """Why the command may not run under these settings, or None."""
    module = settings.SETTINGS_MODULE
    if module not in DEVELOPMENT_SETTINGS_MODULES:
        return f"demo_otp_code runs only with the development settings (config.settings.base), not {module}"
    if not settings.DEBUG:
        return "demo_otp_code runs only in development, with DEBUG on"
    return None


class Command(BaseCommand):
    help = "Print a demo account's current two-factor code (development settings only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        reason = refusal()
        if reason:
            raise CommandError(reason)
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}")
        device = two_factor.confirmed_app(user)
        if device is None:
            raise CommandError(f"{username} has no authenticator app set up yet: sign in as them to set one up")
        left = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(two_factor.current_code(device))
        self.stderr.write(f"(the code for {username}, valid for about {left} more seconds)")
