"""Keeping the caseload index (``safeguarding.models.CaseAccess``) in step.

The index holds one row for each agency that may see a case: the lead agency
(no end) and every agency holding a share grant that is neither revoked nor
tidied away after expiry (until its latest expiry; readers filter on it, so
expiry takes access away at once), with the case's status and next review
date copied in as sort keys.

PostgreSQL keeps it, not Python: statement-level triggers on the case and
share-grant tables (with transition tables, so one UPDATE of a thousand rows,
a COPY of a million or the one-row write of a service each run the sync once)
resync the cases a statement touched, in the same transaction, whichever path
wrote: the services, the admin, a data fix in psql, a test's raw UPDATE. The
SQL functions ``safeguarding_case_access_wanted(case_ids)`` (the rows the
index should hold for those cases: the one rule), ``safeguarding_case_access_sync(case_ids)``
and the triggers are installed by migration ``safeguarding.0004_case_access_index``;
change them with a new migration.

The index's size per agency (``CaseloadSize``) is kept the same way, by
triggers on the index itself (migration ``safeguarding.0007_caseload_size``).

Readers go through ``safeguarding.access`` (``caseload_rows``,
``listed_cases``, ``caseload_count``); bulk loaders call
``rebuild_case_access_index``.
"""

from __future__ import annotations

from django.db import connection as default_connection
from django.db import transaction

# Every row, for every case: the rebuild's one statement.
REBUILD = """
INSERT INTO safeguarding_caseaccess (agency_id, case_id, relation, valid_until, status, next_review_due)
SELECT * FROM safeguarding_case_access_wanted(ARRAY(SELECT id FROM referrals_case))
"""


RECOUNT = """
DELETE FROM safeguarding_caseloadsize;
INSERT INTO safeguarding_caseloadsize (agency_id, rows)
SELECT agency_id, count(*) FROM safeguarding_caseaccess GROUP BY agency_id
"""


def rebuild_case_access_index(*, using=None) -> int:
    """Rebuild the whole caseload index from the cases and share grants: empty
    it, refill it in one INSERT ... SELECT, refresh the planner's statistics.
    Returns the number of rows.

    For bulk loaders (the benchmark's data generator after its COPY, a
    restore) that ran with the triggers disabled; the triggers keep it in
    step otherwise. One transaction: readers see the old index or the new.
    ``using`` is a Django connection (default: the default database).
    """
    conn = using or default_connection
    # TRUNCATE is refused inside a transaction with pending deferred checks
    # on the table (an outer atomic block, a test): DELETE there.
    empty = "DELETE FROM" if conn.in_atomic_block else "TRUNCATE"
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        cursor.execute(f"{empty} safeguarding_caseaccess")
        cursor.execute(REBUILD)
        rows = cursor.rowcount
        # The per-agency counts, recounted: TRUNCATE fires no trigger, and a
        # bulk loader may have run with the triggers off.
        cursor.execute(RECOUNT)
    with conn.cursor() as cursor:
        cursor.execute("ANALYZE safeguarding_caseaccess")
    return rows
