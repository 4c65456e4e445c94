"""``manage.py create_agency "Name" --kind school [--slug SLUG] [--email ADDRESS]``

Creates a partner agency and its Django group, through ``agency_create``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from agencies.models import AgencyKind, Partnership
from agencies.services import agency_create
from lib.errors import DomainError


class Command(BaseCommand):
    help = "Create a partner agency and its permission group (a system administrator's task)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The agency's full name, e.g. \"Riverside Youth Service\"")
        parser.add_argument("--kind", required=True, choices=AgencyKind.values, help="What kind of agency it is")
        parser.add_argument("--slug", default=None, help="Short identifier; derived from the name if omitted")
        parser.add_argument("--email", default="", help="The agency's shared mailbox for reminders")
        parser.add_argument(
            "--partnership", action="append", default=None, dest="partnerships", metavar="SLUG",
            help="A partnership it works in (repeat for several); the only one if the deployment has one",
        )

    def handle(self, *args, name, kind, slug, email, partnerships, **options):
        chosen = None
        if partnerships:
            chosen = list(Partnership.objects.filter(slug__in=partnerships))
            missing = set(partnerships) - {p.slug for p in chosen}
            if missing:
                raise CommandError(f"No partnership {sorted(missing)[0]!r}")
        try:
            agency = agency_create(name=name, kind=kind, slug=slug, email=email, partnerships=chosen)
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}" if exc.field else exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Created {agency.name} ({agency.get_kind_display()}), slug {agency.slug}"))
