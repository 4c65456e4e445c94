"""Row-level security: one partnership's case data is invisible in another's,
whatever query asks.

The app works as the role ``crossroads_app`` while it serves a person or a
partner system, with ``crossroads.partnership`` set to the partnership the
actor is working in (``safeguarding.access.enter_partnership``). Under that
role PostgreSQL shows and accepts only rows of that partnership: the young
people, referrals and cases themselves, and every table that hangs off them
(chronology, interventions, reviews, share grants and sharing decisions,
match keys, merges, subject-access requests, and the change history of
each). With no partnership set it shows nothing at all. Migrations and the
owner of the tables are not subject to it (the policy filters the app, not
the schema's maintenance).
"""

from django.db import migrations

ROLE = "crossroads_app"

# Tables that carry the partnership themselves.
OWN = [
    "referrals_youngperson", "referrals_youngpersonevent",
    "referrals_referral", "referrals_referralevent",
    "referrals_case", "referrals_caseevent",
]
# Tables that hang off a case, or off a young person: visible when it is.
BY_CASE = [
    "referrals_casenote",
    "referrals_intervention", "referrals_interventionevent",
    "referrals_review", "referrals_reviewevent",
    "safeguarding_sharegrant", "safeguarding_sharegrantevent",
    "safeguarding_sharingdecision",
]
BY_YOUNG_PERSON = {
    "referrals_youngpersonmatchkey": "young_person_id",
    "referrals_youngpersonmerge": "kept_id",
    "safeguarding_subjectaccessrequest": "young_person_id",
}

SETUP = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
        CREATE ROLE {ROLE} NOLOGIN;
    END IF;
END $$;
GRANT {ROLE} TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO {ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {ROLE};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {ROLE};
DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO {ROLE}', current_database());
END $$;

CREATE OR REPLACE FUNCTION crossroads_partnership() RETURNS bigint
    LANGUAGE sql STABLE
    AS $f$ SELECT NULLIF(current_setting('crossroads.partnership', true), '')::bigint $f$;
"""


def _policies() -> str:
    statements = []
    for table in OWN:
        statements.append(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY partnership_boundary ON {table} "
            f"USING (partnership_id = crossroads_partnership()) "
            f"WITH CHECK (partnership_id = crossroads_partnership());"
        )
    for table in BY_CASE:
        visible = f"EXISTS (SELECT 1 FROM referrals_case c WHERE c.id = {table}.case_id)"
        statements.append(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY partnership_boundary ON {table} USING ({visible}) WITH CHECK ({visible});"
        )
    for table, column in BY_YOUNG_PERSON.items():
        visible = f"EXISTS (SELECT 1 FROM referrals_youngperson p WHERE p.id = {table}.{column})"
        statements.append(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY partnership_boundary ON {table} USING ({visible}) WITH CHECK ({visible});"
        )
    return "\n".join(statements)


def _drop_policies() -> str:
    return "\n".join(
        f"DROP POLICY IF EXISTS partnership_boundary ON {table}; ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
        for table in [*OWN, *BY_CASE, *BY_YOUNG_PERSON]
    )


class Migration(migrations.Migration):

    dependencies = [
        ("safeguarding", "0007_caseload_size"),
        ("referrals", "0005_partnership_required"),
    ]

    operations = [
        migrations.RunSQL(SETUP, reverse_sql="DROP FUNCTION IF EXISTS crossroads_partnership();"),
        migrations.RunSQL(_policies(), reverse_sql=_drop_policies()),
    ]
