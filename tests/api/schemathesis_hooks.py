"""Loaded by the schemathesis command line in test_schemathesis.py
(``SCHEMATHESIS_HOOKS``): its ``positive_data_acceptance`` check, exact
except for the rules no OpenAPI schema can state.

The schema states every rule about a request's own shape and values: types,
lengths, patterns, enums, ranges, required fields, no unknown fields, and
the rules between fields that JSON Schema can say (``oneOf``, ``anyOf``).
A schema-valid request refused with a 400 for any of those fails the run.
What a schema cannot state, and the server still refuses with a 400 naming
the field, is listed here by the problem's error code, with why:
"""

from __future__ import annotations

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

UNSTATABLE = {
    # Relative to the clock: a moment in the future beyond the clock skew, a
    # planned start beyond a year, a date of birth 26 or more years ago.
    "future": "relative to now",
    "implausible": "relative to today (a date of birth 26 or more years ago)",
    # Relative to a stored record: before the young person's date of birth.
    "before_birth": "relative to the young person's stored date of birth",
    # Comparing two values of the request (or of the request and the stored
    # record, for a change): an end before a start, more sessions attended
    # than offered. JSON Schema compares a value with constants only.
    "out_of_order": "compares two values",
    # Existence of a referenced record: an agency id that is no active
    # partner agency of the partnership.
    "unknown_agency": "depends on stored agencies",
    "unknown_concern": "depends on the partnership's stored concern vocabulary",
    "unknown_indicator": "depends on the stored indicators of the concerns chosen",
    "unknown_context": "depends on stored contexts the agency may see",
    "map_point": "compares two values (a latitude with a longitude, a map point with the kind of context)",
    # A cursor is opaque; which strings decode to a position of the list
    # is not something a pattern can say.
    "not_a_cursor": "opaque by design",
    # The state of the record changed: a correction identical to the entry
    # it corrects; an identifier already recorded for someone else.
    "unchanged": "depends on the stored entry",
    "duplicate": "depends on stored young people",
    # A finished intervention cannot be reopened; a closed case takes no
    # entries (the state of the stored record).
    "case_closed": "depends on the stored case",
    "reopened": "depends on the stored intervention",
    # Which characters of a name count as letters for matching is the
    # matcher's fold table (casework.matching.fold), not kept as a pattern.
    "unsearchable": "the matcher's own reading of names",
}


# Rules stated in the schema of one operation but not of another.
UNSTATABLE_IN = {
    # A change gives only some fields: whether a completed intervention has
    # its end date, or an active one its start, depends on the stored ones
    # too (a new intervention's schema states it).
    "PATCH /api/v1/cases/{case_id}/interventions/{intervention_id}/": {"status_dates"},
}


@schemathesis.check
def positive_data_accepted_unless_unstatable(ctx, response, case):
    """Schemathesis' own ``positive_data_acceptance``, and a 400 it flags
    passes only if every error the problem names has a code above."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 400:
            try:
                errors = response.json().get("errors") or []
            except ValueError:
                errors = []
            allowed = set(UNSTATABLE) | UNSTATABLE_IN.get(case.operation.label, set())
            if errors and all(error.get("code") in allowed for error in errors):
                return None
        raise
