"""Writing the caseload index (``safeguarding.models.CaseAccess``).

The index holds one row for each agency that may see a case: the lead agency
(no end) and every agency with an active share grant (until its latest
expiry), with the case's status and next review date copied in as sort keys.
Its rows are derived from ``Case`` and ``ShareGrant`` by one SELECT
(``_WANTED``), used both to rebuild the whole index after a bulk load and
to resync a few cases inside the transaction that changed them.

Only ``safeguarding.access`` (``sync_case_permissions``) and bulk loaders
call this module; reads go through ``access.caseload_rows`` and friends.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from django.db import connection, transaction
from django.utils import timezone

from safeguarding.models import CaseAccess, ShareGrant
from referrals.models import Case

_INDEX = CaseAccess._meta.db_table
_CASE = Case._meta.db_table
_GRANT = ShareGrant._meta.db_table

# Every row the index should hold, for the cases the WHERE clause picks
# ({where} is either "TRUE" or a filter on case ids, %(at)s the moment).
# A lead agency that also holds a grant is in once, as lead.
_WANTED = f"""
    SELECT c.lead_agency_id AS agency_id, c.id AS case_id, 'lead' AS relation,
           NULL::timestamptz AS valid_until, c.status, c.next_review_due
      FROM {_CASE} c
     WHERE {{where}}
    UNION ALL
    SELECT g.agency_id, c.id, 'shared', max(g.expires_at), c.status, c.next_review_due
      FROM {_GRANT} g JOIN {_CASE} c ON c.id = g.case_id
     WHERE g.revoked_at IS NULL AND g.expires_at > %(at)s AND g.agency_id <> c.lead_agency_id
       AND {{where}}
     GROUP BY g.agency_id, c.id, c.status, c.next_review_due
"""
_COLUMNS = "agency_id, case_id, relation, valid_until, status, next_review_due"


def rebuild_case_access_index(*, at: dt.datetime | None = None, using=None) -> int:
    """Rebuild the whole caseload index from the cases and share grants, in one
    INSERT ... SELECT after emptying it, and refresh the planner's statistics.
    Returns the number of rows.

    For bulk loaders (the benchmark's data generator after its COPY, a
    restore): everything else keeps the index in step case by case. Runs in
    one transaction, so readers see the old index or the new one.
    """
    at = at or timezone.now()
    conn = connection if using is None else using
    with transaction.atomic(using=getattr(conn, "alias", None)), conn.cursor() as cursor:
        cursor.execute(f"TRUNCATE {_INDEX}")
        cursor.execute(
            f"INSERT INTO {_INDEX} ({_COLUMNS}) {_WANTED.format(where='TRUE')}", {"at": at},
        )
        rows = cursor.rowcount
    with conn.cursor() as cursor:
        cursor.execute(f"ANALYZE {_INDEX}")
    return rows


def sync_cases(case_ids: Iterable[int], *, at: dt.datetime) -> None:
    """Make the index rows of these cases what ``_WANTED`` says they should
    be. Must run inside the transaction that changed the cases or grants."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    where = "c.id = ANY(%(ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH wanted AS ({_WANTED.format(where=where)}),
            dropped AS (
                DELETE FROM {_INDEX} i
                 WHERE i.case_id = ANY(%(ids)s)
                   AND NOT EXISTS (SELECT FROM wanted w WHERE w.agency_id = i.agency_id AND w.case_id = i.case_id)
            )
            INSERT INTO {_INDEX} ({_COLUMNS})
            SELECT {_COLUMNS} FROM wanted
            ON CONFLICT (agency_id, case_id) DO UPDATE
               SET relation = EXCLUDED.relation, valid_until = EXCLUDED.valid_until,
                   status = EXCLUDED.status, next_review_due = EXCLUDED.next_review_due
             WHERE ({_INDEX}.relation, {_INDEX}.valid_until, {_INDEX}.status, {_INDEX}.next_review_due)
                   IS DISTINCT FROM
                   (EXCLUDED.relation, EXCLUDED.valid_until, EXCLUDED.status, EXCLUDED.next_review_due)
            """,
            {"ids": ids, "at": at},
        )
