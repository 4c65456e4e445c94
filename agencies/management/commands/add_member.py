"""``manage.py add_member <username> <agency-slug> <role> [options]``

Gives a person a role in an agency, creating their account first if it does
not exist. A new account needs ``--email``, ``--first-name`` and
``--last-name``, and a password: prompted for by default, ``--password`` to
give it on the command line (it is then visible in the process list and shell
history, so prefer the prompt), or ``--no-password`` for an account that
cannot sign in until a password is set through a reset.
"""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from agencies.models import Agency, Role
from agencies.services import membership_add, user_create
from lib.errors import DomainError


def _message(exc: DomainError) -> str:
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


class Command(BaseCommand):
    help = "Give a person a role in an agency, creating their account if needed."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("agency", metavar="agency-slug", help="The agency's slug")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--job-title", default="")
        parser.add_argument("--email", help="For a new account")
        parser.add_argument("--first-name", help="For a new account")
        parser.add_argument("--last-name", help="For a new account")
        password = parser.add_mutually_exclusive_group()
        password.add_argument("--password", help="For a new account (visible to other users of the machine)")
        password.add_argument(
            "--no-password", action="store_true", help="Create the account with no usable password",
        )

    def handle(self, *args, username, agency, role, job_title, email, first_name, last_name, password,
               no_password, **options):
        try:
            agency_obj = Agency.objects.get(slug=agency)
        except Agency.DoesNotExist:
            raise CommandError(f"No agency with the slug {agency!r}; see `manage.py create_agency`") from None

        User = get_user_model()
        user = User.objects.filter(username__iexact=username).first()
        created = user is None
        if created:
            missing = [
                flag for flag, value in
                (("--email", email), ("--first-name", first_name), ("--last-name", last_name))
                if not value
            ]
            if missing:
                raise CommandError(f"{username!r} has no account yet; to create one give {', '.join(missing)}")
            if not no_password and password is None:
                password = self._prompt_password()
        elif any(v is not None for v in (email, first_name, last_name, password)) or no_password:
            self.stderr.write(
                self.style.WARNING(f"{user.get_username()!r} already has an account; its details are left unchanged")
            )

        try:
            with transaction.atomic():
                if created:
                    user = user_create(
                        username=username, email=email, first_name=first_name, last_name=last_name,
                        password=None if no_password else password,
                    )
                membership = membership_add(agency=agency_obj, user=user, role=role, job_title=job_title)
        except DomainError as exc:
            raise CommandError(_message(exc)) from None

        if created:
            self.stdout.write(f"Created the account {user.get_username()!r}")
        self.stdout.write(self.style.SUCCESS(
            f"{user.get_username()} is {membership.get_role_display().lower()} at {agency_obj.name}"
        ))

    def _prompt_password(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask for a password: give --password or --no-password")
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
        if first != second:
            raise CommandError("The passwords did not match")
        return first
