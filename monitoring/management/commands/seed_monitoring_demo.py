"""Load the demo boroughs' synthetic monitoring reference data (run by
``seed_demo``): invented wards, a postcode lookup for the demo's postcodes
(a few left out on purpose, to show "ward not known") and a young
population, from ``monitoring/demo/<partnership slug>/``; then a first
refresh of the reporting schema. Safe to run twice."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from agencies.models import Partnership
from monitoring.management.commands.load_reference_data import load_files
from monitoring.models import Ward
from monitoring.refresh import refresh_all

DEMO = Path(__file__).resolve().parents[2] / "demo"


class Command(BaseCommand):
    help = "Load the demo boroughs' monitoring reference data and refresh the reporting schema."

    def handle(self, *args, **options):
        for folder in sorted(p for p in DEMO.iterdir() if p.is_dir()):
            partnership = Partnership.objects.filter(slug=folder.name).first()
            if partnership is None or Ward.objects.filter(partnership=partnership).exists():
                continue
            done = load_files(
                partnership, wards=str(folder / "wards.geojson"), postcodes=str(folder / "postcodes.csv"),
                population=str(folder / "population.csv"),
            )
            self.stdout.write(f"Monitoring, {partnership.name}: " + ", ".join(done))
        counts = refresh_all()
        self.stdout.write(f"Monitoring refreshed: {counts}")
