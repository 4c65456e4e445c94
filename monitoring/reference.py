"""Loading the reference data a partnership supplies: its wards' boundaries
(GeoJSON), a postcode to ward lookup (an ONS postcode directory extract,
CSV) and its young population by ward, age band and ethnic group (CSV).

Each loader replaces what the partnership had, in one transaction, after
checking the whole file: a file with one bad line changes nothing and says
which line. Loading marks the reporting schema for a full refresh, since
wards and the lookup decide where every fact falls.

Who may call them: the management commands (``load_wards``,
``load_postcodes``, ``load_population``), run by the people who run the
deployment, and the demo seed. They read no case data.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from django.db import connection, transaction

from agencies.models import Partnership
from lib.errors import DomainError
from monitoring.bands import normalise_postcode
from monitoring.models import AgeBand, EthnicGroup, PostcodeWard, RefreshState, Ward, YoungPopulation

# The column names the ONS's products use, and plain ones.
WARD_CODE_PROPERTIES = ("code", "WD22CD", "WD23CD", "WD24CD", "WD21CD")
WARD_NAME_PROPERTIES = ("name", "WD22NM", "WD23NM", "WD24NM", "WD21NM")
POSTCODE_COLUMNS = ("pcds", "pcd", "postcode")
WARD_COLUMNS = ("osward", "ward_code", "wd22cd", "wd23cd", "wd24cd")


def _first(mapping: dict, names: Iterable[str]) -> str:
    for name in names:
        value = mapping.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _coordinates_ok(coords, depth: int) -> bool:
    if depth == 0:
        return (
            isinstance(coords, list) and len(coords) >= 2
            and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords[:2])
        )
    return isinstance(coords, list) and len(coords) > 0 and all(_coordinates_ok(c, depth - 1) for c in coords)


def _geometry(feature: dict, number: int) -> dict:
    geometry = feature.get("geometry") or {}
    depth = {"Polygon": 2, "MultiPolygon": 3}.get(geometry.get("type"))
    if depth is None or not _coordinates_ok(geometry.get("coordinates"), depth):
        raise DomainError(f"Feature {number}: the boundary must be a Polygon or MultiPolygon", field="file")
    return {"type": geometry["type"], "coordinates": geometry["coordinates"]}


def _mark_for_full_refresh(partnership: Partnership) -> None:
    RefreshState.objects.update_or_create(partnership=partnership, defaults={"needs_full": True})


def _analyse(model) -> None:
    """Give the planner the table's new size as it is loaded, not when
    autovacuum comes by (late, or on some servers never). Believing the
    postcode lookup empty, the refresh after a load looked each young
    person's postcode up by reading all of the partnership's lookup: 58 s
    for 2,000 young people against 27,000 postcodes. Where the app's role
    does not own the table, PostgreSQL skips it with a warning."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {model._meta.db_table}")


def wards_load(*, partnership: Partnership, text: str) -> int:
    """Replace the partnership's wards with the features of a GeoJSON
    FeatureCollection (each with a ward code and name, and a Polygon or
    MultiPolygon boundary). A ward kept by code keeps its lookup rows and
    population; a ward no longer in the file goes, with them. Returns how
    many wards."""
    try:
        collection = json.loads(text)
    except ValueError as error:
        raise DomainError(f"The file is not JSON: {error}", field="file") from error
    if not isinstance(collection, dict):
        collection = {}
    features = collection.get("features")
    if collection.get("type") != "FeatureCollection" or not isinstance(features, list) or not features:
        raise DomainError("The file must be a GeoJSON FeatureCollection with at least one ward", field="file")
    wards: dict[str, tuple[str, dict]] = {}
    for number, feature in enumerate(features, start=1):
        properties = (feature.get("properties") or {}) if isinstance(feature, dict) else {}
        code, name = _first(properties, WARD_CODE_PROPERTIES), _first(properties, WARD_NAME_PROPERTIES)
        if not code or not name or len(code) > 12 or len(name) > 100:
            raise DomainError(f"Feature {number}: a ward code and a name are needed", field="file")
        if code in wards:
            raise DomainError(f"Feature {number}: ward {code} is in the file twice", field="file")
        wards[code] = (name, _geometry(feature, number))
    with transaction.atomic():
        Ward.objects.filter(partnership=partnership).exclude(code__in=wards).delete()
        for code, (name, boundary) in wards.items():
            Ward.objects.update_or_create(
                partnership=partnership, code=code, defaults={"name": name, "boundary": boundary},
            )
        _mark_for_full_refresh(partnership)
        _analyse(Ward)
    return len(wards)


def _csv_rows(text: str) -> tuple[list[str], Iterable[tuple[int, dict]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    return header, ((number, row) for number, row in enumerate(reader, start=2))


def _ward_codes(partnership: Partnership) -> dict[str, int]:
    return dict(Ward.objects.filter(partnership=partnership).values_list("code", "id"))


def postcodes_load(*, partnership: Partnership, text: str) -> int:
    """Replace the partnership's postcode lookup with a CSV extract of the
    ONS postcode directory (a postcode column, ``pcds``, ``pcd`` or
    ``postcode``, and a ward code column, ``osward`` or ``ward_code``),
    keeping only rows of the partnership's own wards: a postcode of another
    borough is "ward not known" here, as is any postcode not in the file.
    Returns how many postcodes."""
    header, rows = _csv_rows(text)
    postcode_column = next((c for c in POSTCODE_COLUMNS if c in header), None)
    ward_column = next((c for c in WARD_COLUMNS if c in header), None)
    if postcode_column is None or ward_column is None:
        raise DomainError("The file needs a postcode column (pcds) and a ward code column (osward)", field="file")
    wards = _ward_codes(partnership)
    if not wards:
        raise DomainError("Load the partnership's wards first", field="file")
    lookup: dict[str, int] = {}
    for number, row in rows:
        postcode = normalise_postcode(row.get(postcode_column) or "")
        if not postcode:
            raise DomainError(f"Line {number}: not a postcode", field="file")
        ward_id = wards.get((row.get(ward_column) or "").strip())
        if ward_id is not None:
            if lookup.get(postcode, ward_id) != ward_id:
                raise DomainError(f"Line {number}: {postcode} is given two wards", field="file")
            lookup[postcode] = ward_id
    with transaction.atomic():
        PostcodeWard.objects.filter(partnership=partnership).delete()
        PostcodeWard.objects.bulk_create(
            PostcodeWard(partnership=partnership, postcode=postcode, ward_id=ward_id)
            for postcode, ward_id in lookup.items()
        )
        _mark_for_full_refresh(partnership)
        _analyse(PostcodeWard)
    return len(lookup)


def population_load(*, partnership: Partnership, text: str) -> int:
    """Replace the partnership's young population with a CSV of
    ``ward_code,age_band,ethnic_group,people`` (age bands and groups as in
    ``monitoring.models``). Returns how many rows."""
    header, rows = _csv_rows(text)
    wanted = ("ward_code", "age_band", "ethnic_group", "people")
    if any(column not in header for column in wanted):
        raise DomainError("The file needs the columns " + ", ".join(wanted), field="file")
    wards = _ward_codes(partnership)
    counts: dict[tuple[int, str, str], int] = {}
    for number, row in rows:
        ward_id = wards.get((row["ward_code"] or "").strip())
        band, group = (row["age_band"] or "").strip(), (row["ethnic_group"] or "").strip()
        if ward_id is None:
            raise DomainError(f"Line {number}: no such ward of this partnership", field="file")
        if band not in AgeBand.values or group not in EthnicGroup.values:
            raise DomainError(f"Line {number}: unknown age band or ethnic group", field="file")
        people = (row["people"] or "").strip()
        if not people.isdigit():
            raise DomainError(f"Line {number}: people must be a whole number", field="file")
        if (ward_id, band, group) in counts:
            raise DomainError(f"Line {number}: the same ward, age band and group twice", field="file")
        counts[(ward_id, band, group)] = int(people)
    with transaction.atomic():
        YoungPopulation.objects.filter(partnership=partnership).delete()
        YoungPopulation.objects.bulk_create(
            YoungPopulation(partnership=partnership, ward_id=w, age_band=b, ethnic_group=g, people=n)
            for (w, b, g), n in counts.items()
        )
        _analyse(YoungPopulation)
    return len(counts)
