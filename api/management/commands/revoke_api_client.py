"""``manage.py revoke_api_client <client-id> --by <admin-username>``

Revokes an API client through ``api_client_revoke``: its tokens stop working
at once. ``--by`` names an administrator of the client's agency.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from agencies.models import ApiClient
from api.management.commands.issue_api_client import acting_admin
from api.services import api_client_revoke
from lib.errors import DomainError
from safeguarding import access


class Command(BaseCommand):
    help = "Revoke a partner system's API client."

    def add_arguments(self, parser):
        parser.add_argument("client_id", metavar="client-id", help="The OAuth client id printed when it was issued")
        parser.add_argument("--by", required=True, metavar="USERNAME", help="An administrator of the client's agency")

    def handle(self, *args, client_id, by, **options):
        client = ApiClient.objects.select_related("agency").filter(application__client_id=client_id).first()
        if client is None:
            raise CommandError(f"No API client {client_id!r}")
        actor = acting_admin(by, client.agency)
        try:
            client = api_client_revoke(actor=actor, client=client)
        except access.NotAllowed as exc:
            raise CommandError(str(exc)) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Revoked {client.name!r} of {client.agency.name}"))
