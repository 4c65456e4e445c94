"""Loading the reference data: whole files or nothing, the demo's files
load, and a postcode not in the lookup is "ward not known", never guessed."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from lib.errors import DomainError
from monitoring import reference
from monitoring.bands import age_band, ethnic_group, normalise_postcode
from monitoring.management.commands.seed_monitoring_demo import DEMO
from monitoring.models import PostcodeWard, ReferralFact, Ward, YoungPopulation
from tests import factories as f
from tests.monitoring.conftest import POPULATION, POSTCODES, WARDS, load_reference, refresh_as_task

pytestmark = pytest.mark.django_db


def test_the_three_files_load_and_a_postcode_of_another_borough_is_left_out(db):
    partnership = f.default_partnership()
    load_reference(partnership)
    assert Ward.objects.filter(partnership=partnership).count() == 2
    # N1 1AA's ward is not one of this partnership's: not in its lookup.
    assert set(PostcodeWard.objects.values_list("postcode", flat=True)) == {"SE154QF", "SE155AA", "SE57BB"}
    assert YoungPopulation.objects.filter(partnership=partnership).count() == 8


@pytest.mark.django_db(transaction=True)
def test_each_load_gives_the_planner_the_table_as_loaded():
    """The planner learns a loaded table's size with the load, whether or
    not autovacuum comes by (it does not on the CI machine): believing the
    postcode lookup empty, a refresh read all of it for each young person."""
    from django.db import connection
    from django.utils import timezone

    before = timezone.now()
    load_reference(f.default_partnership())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                       [[model._meta.db_table for model in (Ward, PostcodeWard, YoungPopulation)]])
        analysed = dict(cursor.fetchall())
    assert len(analysed) == 3 and all(when and when >= before for when in analysed.values()), analysed


@pytest.mark.parametrize("loader, text, message", [
    ("wards", "not json", "not JSON"),
    ("wards", json.dumps({"type": "FeatureCollection", "features": [{"properties": {"code": "E1"}}]}),
     "a ward code and a name"),
    ("wards", json.dumps({"type": "FeatureCollection", "features": [
        {"properties": {"code": "E1", "name": "A"}, "geometry": {"type": "Point", "coordinates": [0, 0]}}]}),
     "Polygon"),
    ("postcodes", "postcode,ward\nSE15 4QF,E05000001\n", "ward code column"),
    ("postcodes", "pcds,osward\nnot a postcode,E05000001\n", "Line 2: not a postcode"),
    ("population", "ward_code,age_band,ethnic_group,people\nE05000001,14-15,white,lots\n", "whole number"),
    ("population", "ward_code,age_band,ethnic_group,people\nE05000001,99,white,1\n", "unknown age band"),
])
def test_a_bad_file_changes_nothing(db, loader, text, message):
    partnership = f.default_partnership()
    load_reference(partnership)
    before = (list(Ward.objects.values_list("code", "name")), PostcodeWard.objects.count(),
              YoungPopulation.objects.count())
    with pytest.raises(DomainError, match=message):
        getattr(reference, f"{loader}_load")(partnership=partnership, text=text)
    assert before == (list(Ward.objects.values_list("code", "name")), PostcodeWard.objects.count(),
                      YoungPopulation.objects.count())


def test_the_command_and_the_demo_files(db, tmp_path):
    partnership = f.PartnershipFactory(name="Riverside", slug="riverside")
    for name, text in (("w.geojson", json.dumps(WARDS)), ("p.csv", POSTCODES), ("y.csv", POPULATION)):
        (tmp_path / name).write_text(text)
    call_command("load_reference_data", "riverside", wards=str(tmp_path / "w.geojson"),
                 postcodes=str(tmp_path / "p.csv"), population=str(tmp_path / "y.csv"))
    assert Ward.objects.filter(partnership=partnership).count() == 2
    with pytest.raises(CommandError):
        call_command("load_reference_data", "nowhere", wards=str(tmp_path / "w.geojson"))
    # The demo's own files are well formed.
    for folder in DEMO.iterdir():
        demo = f.PartnershipFactory(name=f"Demo {folder.name}", slug=f"demo-{folder.name}")
        assert reference.wards_load(partnership=demo, text=(folder / "wards.geojson").read_text()) >= 5
        assert reference.postcodes_load(partnership=demo, text=(folder / "postcodes.csv").read_text()) > 5
        assert reference.population_load(partnership=demo, text=(folder / "population.csv").read_text()) > 5


def test_a_postcode_not_in_the_lookup_is_ward_not_known(db, cast):
    partnership = f.default_partnership()
    load_reference(partnership)
    for postcode in ("ZZ9 9ZZ", "", "SE15 4QG"):  # SE15 4QG is beside SE15 4QF: not guessed from it
        f.ReferralFactory(young_person=f.YoungPersonFactory(partnership=partnership, recorded_by=cast.owner,
                                                            postcode=postcode), referring_agency=cast.owner)
    f.ReferralFactory(young_person=f.YoungPersonFactory(partnership=partnership, recorded_by=cast.owner,
                                                        postcode="se15 4qf"), referring_agency=cast.owner)
    refresh_as_task(partnership.pk)
    wards = list(ReferralFact.objects.order_by("ward_id").values_list("ward__name", flat=True))
    assert wards == ["North Ward", None, None, None]


def test_the_bands():
    import datetime as dt

    assert normalise_postcode(" se15  4qf ") == "SE154QF" and normalise_postcode("hello") == ""
    assert age_band(dt.date(2010, 5, 2), dt.date(2024, 5, 1)) == "10-13"
    assert age_band(dt.date(2010, 5, 2), dt.date(2024, 5, 2)) == "14-15"
    assert ethnic_group("black_caribbean") == "black" and ethnic_group("not_stated") == "not_stated"
