"""How a record's details become the reporting schema's coarser ones: a
date of birth an age band, an ethnicity its ONS 2021 high-level group, a
gender one of three groups, a postcode the form the lookup holds. Each is
written once in Python (for loading and for tests) and once as SQL (for
the refresh, which works in the database), side by side here so the two
cannot drift apart unnoticed (``tests/monitoring/test_figures.py`` counts
the bands again from the records).

And a context's ward (``WardFinder``), from the ward its recorder wrote or
its map point, in Python only: the refresh reads the partnership's few
contexts into Python to place them."""

from __future__ import annotations

import datetime as dt
import re

from collections.abc import Iterable

from monitoring.models import AGE_BAND_FLOORS, EthnicGroup, Sex, Ward

_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


def normalise_postcode(text: str) -> str:
    """Upper case without spaces ("se15 4ab" -> "SE154AB"); "" if it is not
    the shape of a UK postcode."""
    compact = re.sub(r"\s+", "", text or "").upper()
    return compact if _POSTCODE.match(compact) else ""


def age_band(date_of_birth: dt.date, on: dt.date) -> str:
    age = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    return next(band for floor, band in AGE_BAND_FLOORS if age >= floor)


def ethnic_group(ethnicity: str) -> str:
    """``referrals.models.Ethnicity`` codes start with their group's name."""
    group = ethnicity.split("_", 1)[0]
    return group if group in EthnicGroup.values else EthnicGroup.NOT_STATED


def sex(gender: str) -> str:
    return gender if gender in (Sex.FEMALE, Sex.MALE) else Sex.OTHER


# -- the same in SQL ---------------------------------------------------------


def age_band_sql(dob: str, on: str) -> str:
    """SQL for the age band of date-of-birth column ``dob`` on date column
    ``on`` (columns, not parameters: the age is written once per band)."""
    age = f"date_part('year', age({on}, {dob}))"
    whens = " ".join(f"WHEN {age} >= {floor} THEN '{band.value}'" for floor, band in AGE_BAND_FLOORS)
    return f"(CASE {whens} END)"


def ethnic_group_sql(ethnicity: str) -> str:
    groups = ", ".join(f"'{g}'" for g in EthnicGroup.values if g != EthnicGroup.NOT_STATED)
    first = f"split_part({ethnicity}, '_', 1)"
    return f"(CASE WHEN {first} IN ({groups}) THEN {first} ELSE '{EthnicGroup.NOT_STATED.value}' END)"


def sex_sql(gender: str) -> str:
    return f"(CASE WHEN {gender} IN ('{Sex.FEMALE.value}', '{Sex.MALE.value}') THEN {gender} ELSE '{Sex.OTHER.value}' END)"


def postcode_sql(postcode: str) -> str:
    return f"upper(regexp_replace({postcode}, '\\s', '', 'g'))"


# -- a context's ward ------------------------------------------------------


class WardFinder:
    """The ward of a context, among the partnership's wards. Its written ward
    (free text) matched to a ward's name or ONS code, whatever the case and
    the spaces around it; else, for a place with a map point, the ward whose
    boundary holds the point; else None, "ward not known". Never guessed: a
    written ward that names two wards, or a point in no ward or in two, is
    not known."""

    def __init__(self, wards: Iterable[Ward]) -> None:
        self.wards = list(wards)
        named: dict[str, set[int]] = {}
        for ward in self.wards:
            for text in (ward.name, ward.code):
                named.setdefault(_written(text), set()).add(ward.pk)
        self.named = {text: ids.pop() for text, ids in named.items() if len(ids) == 1 and text}

    def ward_of(self, written: str, latitude, longitude) -> int | None:
        ward = self.named.get(_written(written))
        if ward is not None or latitude is None or longitude is None:
            return ward
        holding = [w.pk for w in self.wards if point_in_boundary(float(longitude), float(latitude), w.boundary)]
        return holding[0] if len(holding) == 1 else None


def _written(text: str) -> str:
    return (text or "").strip().casefold()


def point_in_boundary(lon: float, lat: float, geometry: dict) -> bool:
    """Whether a point lies in a GeoJSON Polygon or MultiPolygon (longitude
    and latitude, as loaded): inside a polygon's outer ring and in none of
    its holes. A point exactly on an edge may fall on either side of it."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    return any(
        _in_ring(lon, lat, outer) and not any(_in_ring(lon, lat, hole) for hole in holes)
        for outer, *holes in polygons
    )


def _in_ring(lon: float, lat: float, ring: list) -> bool:
    """The even-odd rule: a line east from the point crosses the ring's
    edges an odd number of times when the point is inside. A ring need not
    repeat its first point at its end."""
    inside = False
    for (x1, y1, *_), (x2, y2, *_) in zip(ring, [*ring[1:], ring[0]]):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside
