"""Row-level security for the monitoring, as for case data
(``safeguarding/migrations/0008_partnership_row_security.py``): under the
app's role, with a partnership set, only that partnership's reference data,
reporting keys and facts are seen or written; with none set, none at all.

And the indexes the refresh's "what changed since the last run" needs:
the change history of the casework records by the time each change was
recorded, so a refresh with nothing new reads a short range of an index
instead of every change ever made.
"""

from django.db import migrations

TABLES = [
    "monitoring_ward", "monitoring_postcodeward", "monitoring_youngpopulation", "monitoring_reportingkey",
    "monitoring_referralfact", "monitoring_casefact", "monitoring_reviewfact", "monitoring_interventionfact",
    "monitoring_refreshstate",
]
HISTORY = [
    "referrals_youngpersonevent", "referrals_referralevent", "referrals_caseevent",
    "referrals_interventionevent", "referrals_reviewevent",
]


def policies(tables: list[str], history: list[str]) -> str:
    """Row-level security on ``tables`` (each with a partnership) and an
    index by the time each change was recorded on the ``history`` tables
    (also for the later migrations' tables: one rule for all)."""
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
        f"CREATE POLICY partnership_boundary ON {table} "
        f"USING (partnership_id = crossroads_partnership()) "
        f"WITH CHECK (partnership_id = crossroads_partnership());"
        for table in tables
    ]
    statements += [
        f"CREATE INDEX IF NOT EXISTS {table}_recorded ON {table} (pgh_created_at);" for table in history
    ]
    return "\n".join(statements)


def drop_policies(tables: list[str], history: list[str]) -> str:
    statements = [
        f"DROP POLICY IF EXISTS partnership_boundary ON {table}; ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
        for table in tables
    ]
    statements += [f"DROP INDEX IF EXISTS {table}_recorded;" for table in history]
    return "\n".join(statements)


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0001_reporting_schema"),
        ("safeguarding", "0010_cross_border_row_security"),
    ]

    operations = [
        migrations.RunSQL(policies(TABLES, HISTORY), reverse_sql=drop_policies(TABLES, HISTORY)),
    ]
