"""How a record's details become the reporting schema's coarser ones: a
date of birth an age band, an ethnicity its ONS 2021 high-level group, a
gender one of three groups, a postcode the form the lookup holds. Each is
written once in Python (for loading and for tests) and once as SQL (for
the refresh, which works in the database), side by side here so the two
cannot drift apart unnoticed (``tests/monitoring/test_figures.py`` counts
the bands again from the records)."""

from __future__ import annotations

import datetime as dt
import re

from monitoring.models import AGE_BAND_FLOORS, EthnicGroup, Sex

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
