"""Row-level security across a border: a case shared with an agency of a
neighbouring partnership (a cross-border share grant, active) is visible to
that agency's connections too, with its young person, the referrals behind
it and everything that hangs off it, and nothing else of that partnership.

The app sets ``crossroads.agency`` beside ``crossroads.partnership``
(``safeguarding.access.enter_partnership``). Which cases the agency holds
across a border is answered by a function that runs as the tables' owner
(``SECURITY DEFINER``), so the share-grant table's own policy (which asks
for the case) is not asked in turn. The app may read (and lock) such a
case; it may not write the case, the young person or the referral rows it
holds across the border, not even to move them into its own partnership
(``WITH CHECK``: its own partnership's rows, and not one held across), only
add to what hangs off the case (chronology, interventions), as a shared
agency does.

The young-person tables that only the partnership's hub works with (match
keys, merges, subject-access requests) stay strictly inside it.
"""

from django.db import migrations

ROLE = "crossroads_app"
MINE = "partnership_id = crossroads_partnership()"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION crossroads_agency() RETURNS bigint
    LANGUAGE sql STABLE
    AS $f$ SELECT NULLIF(current_setting('crossroads.agency', true), '')::bigint $f$;

CREATE OR REPLACE FUNCTION crossroads_cross_border_cases() RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $f$
        SELECT g.case_id FROM safeguarding_sharegrant g
        WHERE g.agency_id = crossroads_agency() AND g.cross_border
          AND g.revoked_at IS NULL AND g.expires_at > statement_timestamp()
    $f$;

CREATE OR REPLACE FUNCTION crossroads_cross_border_young_people() RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $f$
        SELECT c.young_person_id FROM referrals_case c WHERE c.id IN (SELECT crossroads_cross_border_cases())
    $f$;

REVOKE ALL ON FUNCTION crossroads_cross_border_cases() FROM PUBLIC;
REVOKE ALL ON FUNCTION crossroads_cross_border_young_people() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crossroads_cross_border_cases() TO {ROLE};
GRANT EXECUTE ON FUNCTION crossroads_cross_border_young_people() TO {ROLE};
"""

CASES = "(SELECT crossroads_cross_border_cases())"
YOUNG_PEOPLE = "(SELECT crossroads_cross_border_young_people())"
# Table: (the column that names the case or young person, the set it must be in).
ACROSS = {
    "referrals_case": ("id", CASES),
    "referrals_caseevent": ("pgh_obj_id", CASES),
    "referrals_referral": ("case_id", CASES),
    "referrals_referralevent": ("case_id", CASES),
    "referrals_youngperson": ("id", YOUNG_PEOPLE),
    "referrals_youngpersonevent": ("pgh_obj_id", YOUNG_PEOPLE),
}
HUB_ONLY = {
    "referrals_youngpersonmatchkey": "young_person_id",
    "referrals_youngpersonmerge": "kept_id",
    "safeguarding_subjectaccessrequest": "young_person_id",
}


def _replace(table: str, using: str, check: str) -> str:
    return (
        f"DROP POLICY IF EXISTS partnership_boundary ON {table};"
        f"CREATE POLICY partnership_boundary ON {table} USING ({using}) WITH CHECK ({check});"
    )


def _forward() -> str:
    statements = [FUNCTIONS]
    for table, (column, allowed) in ACROSS.items():
        held_across = f"{column} IN {allowed}"
        not_held_across = f"({column} IS NULL OR NOT {held_across})"
        statements.append(_replace(table, f"{MINE} OR {held_across}", f"{MINE} AND {not_held_across}"))
    for table, column in HUB_ONLY.items():
        own = f"EXISTS (SELECT 1 FROM referrals_youngperson p WHERE p.id = {table}.{column} AND p.{MINE})"
        statements.append(_replace(table, own, own))
    return "\n".join(statements)


def _backward() -> str:
    statements = []
    for table in ACROSS:
        statements.append(_replace(table, MINE, MINE))
    for table, column in HUB_ONLY.items():
        visible = f"EXISTS (SELECT 1 FROM referrals_youngperson p WHERE p.id = {table}.{column})"
        statements.append(_replace(table, visible, visible))
    statements.append(
        "DROP FUNCTION IF EXISTS crossroads_cross_border_young_people();"
        "DROP FUNCTION IF EXISTS crossroads_cross_border_cases();"
        "DROP FUNCTION IF EXISTS crossroads_agency();"
    )
    return "\n".join(statements)


class Migration(migrations.Migration):

    dependencies = [
        ("safeguarding", "0009_cross_border_shares"),
    ]

    operations = [migrations.RunSQL(_forward(), reverse_sql=_backward())]
