"""``manage.py issue_api_client <agency-slug> "<name>" --scope cases:read ... --by <admin-username> [--partnership <slug>]``

Issues an API client to a partner system of an agency, on the authority of
one of that agency's administrators (``--by``), through ``api_client_issue``,
to work in one of the agency's partnerships (``--partnership``, required
when the agency works in several; otherwise its only one).
Prints the client id and the secret: the secret is stored only hashed and is
never shown again, so hand it to the partner's developer now, by a secure
route.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agencies.models import Agency, ApiScope
from api.services import api_client_issue
from lib.errors import DomainError
from safeguarding import access
from safeguarding.models import Channel


def acting_admin(username: str, agency: Agency) -> access.Actor:
    user = get_user_model().objects.filter(username__iexact=username).first()
    if user is None:
        raise CommandError(f"No account {username!r}")
    actor = access.actor_for_user(user, agency=agency, channel=Channel.COMMAND)
    if actor.agency is None:
        raise CommandError(f"{username!r} is not an active member of {agency.name}")
    return actor


class Command(BaseCommand):
    help = "Issue an API client (OAuth 2.0 client credentials) to a partner system of an agency."

    def add_arguments(self, parser):
        parser.add_argument("agency", metavar="agency-slug")
        parser.add_argument("name", help='The partner system, e.g. "Riverside Academy SIMS"')
        parser.add_argument(
            "--scope", dest="scopes", action="append", required=True, choices=ApiScope.values,
            help="A scope to grant; repeat for several",
        )
        parser.add_argument("--by", required=True, metavar="USERNAME", help="The agency administrator issuing it")
        parser.add_argument(
            "--partnership", metavar="SLUG", default=None,
            help="The partnership it will work in; required when the agency works in several",
        )

    def handle(self, *args, agency, name, scopes, by, partnership=None, **options):
        agency_obj = Agency.objects.filter(slug=agency).first()
        if agency_obj is None:
            raise CommandError(f"No agency with the slug {agency!r}")
        actor = acting_admin(by, agency_obj)
        try:
            client, secret = api_client_issue(actor=actor, name=name, scopes=scopes, partnership=partnership)
        except access.NotAllowed as exc:
            raise CommandError(str(exc)) from None
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}" if exc.field else exc.message) from None
        self.stdout.write(self.style.SUCCESS(
            f"Issued {client.name!r} to {agency_obj.name}, working in {client.partnership.name}, "
            f"with scopes {' '.join(client.scopes)}"
        ))
        self.stdout.write(f"client_id:     {client.application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write("The secret is shown only now: it is stored hashed and cannot be recovered.")
