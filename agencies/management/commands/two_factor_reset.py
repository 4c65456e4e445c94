"""``manage.py two_factor_reset <username>``: for someone who has lost both
their authenticator app and their recovery codes. Removes their app and
codes; at their next sign-in, after the password, they set up an app again.

Check who is asking before running it: it is the second factor's way back.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agencies import two_factor


class Command(BaseCommand):
    help = "Remove a person's authenticator app and recovery codes, so they set up two-factor again."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}")
        removed = two_factor.devices_remove(user=user)
        self.stdout.write(self.style.SUCCESS(
            f"Removed {removed} two-factor device(s) of {username}; they set up an app at their next sign-in"
        ))
