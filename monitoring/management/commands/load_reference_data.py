"""Load a partnership's monitoring reference data from files.

    manage.py load_reference_data riverside --wards wards.geojson \\
        --postcodes postcodes.csv --population population.csv

Any of the three; wards before the others (they refer to the wards)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agencies.models import Partnership
from lib.errors import DomainError
from monitoring import reference


def load_files(partnership: Partnership, *, wards: str | None, postcodes: str | None, population: str | None) -> list[str]:
    """Load whichever files are given, in the order they depend on; what
    was loaded, in words."""
    done = []
    for path, loader, noun in (
        (wards, reference.wards_load, "wards"),
        (postcodes, reference.postcodes_load, "postcodes"),
        (population, reference.population_load, "population rows"),
    ):
        if path:
            count = loader(partnership=partnership, text=Path(path).read_text(encoding="utf-8"))
            done.append(f"{count} {noun}")
    return done


class Command(BaseCommand):
    help = "Load a partnership's wards (GeoJSON), postcode lookup and young population (CSV) for the monitoring."

    def add_arguments(self, parser):
        parser.add_argument("partnership", help="The partnership's slug")
        parser.add_argument("--wards", help="GeoJSON FeatureCollection of the wards' boundaries")
        parser.add_argument("--postcodes", help="CSV extract of the ONS postcode directory (pcds, osward)")
        parser.add_argument("--population", help="CSV of ward_code, age_band, ethnic_group, people")

    def handle(self, *args, **options):
        partnership = Partnership.objects.filter(slug=options["partnership"]).first()
        if partnership is None:
            raise CommandError(f"No partnership {options['partnership']!r}")
        if not any(options[k] for k in ("wards", "postcodes", "population")):
            raise CommandError("Give at least one of --wards, --postcodes, --population")
        try:
            done = load_files(partnership, wards=options["wards"], postcodes=options["postcodes"],
                              population=options["population"])
        except (DomainError, OSError) as error:
            raise CommandError(str(getattr(error, "message", error))) from error
        self.stdout.write(f"{partnership.name}: loaded " + ", ".join(done))
