"""The caseload index (safeguarding.CaseAccess), the triggers that keep it in
step with the cases and share grants, and its backfill.

The SQL lives here only (``safeguarding.caseload_index`` explains it and
rebuilds the index with ``safeguarding_case_access_wanted``); a later change to
the functions or triggers is a new migration with the new text."""

import django.db.models.deletion
from django.db import migrations, models

FUNCTIONS = """
CREATE OR REPLACE FUNCTION safeguarding_case_access_wanted(case_ids bigint[])
RETURNS TABLE (agency_id bigint, case_id bigint, relation varchar, valid_until timestamptz,
               status varchar, next_review_due date)
LANGUAGE sql STABLE AS $$
    SELECT c.lead_agency_id, c.id, 'lead', NULL::timestamptz, c.status, c.next_review_due
      FROM unnest(case_ids) AS ids(id) JOIN referrals_case c ON c.id = ids.id
    UNION ALL
    SELECT g.agency_id, c.id, 'shared', max(g.expires_at), c.status, c.next_review_due
      FROM unnest(case_ids) AS ids(id)
      JOIN referrals_case c ON c.id = ids.id
      JOIN safeguarding_sharegrant g ON g.case_id = c.id
     WHERE g.revoked_at IS NULL AND g.permissions_removed_at IS NULL AND g.agency_id <> c.lead_agency_id
     GROUP BY g.agency_id, c.id, c.status, c.next_review_due
$$;

CREATE OR REPLACE FUNCTION safeguarding_case_access_sync(case_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    WITH wanted AS (SELECT * FROM safeguarding_case_access_wanted(case_ids)),
    dropped AS (
        DELETE FROM safeguarding_caseaccess i
         USING unnest(case_ids) AS ids(id)
         WHERE i.case_id = ids.id
           AND NOT EXISTS (SELECT FROM wanted w WHERE w.agency_id = i.agency_id AND w.case_id = i.case_id)
    )
    INSERT INTO safeguarding_caseaccess AS i (agency_id, case_id, relation, valid_until, status, next_review_due)
    SELECT agency_id, case_id, relation, valid_until, status, next_review_due FROM wanted
    ON CONFLICT (agency_id, case_id) DO UPDATE
       SET relation = EXCLUDED.relation, valid_until = EXCLUDED.valid_until,
           status = EXCLUDED.status, next_review_due = EXCLUDED.next_review_due
     WHERE (i.relation, i.valid_until, i.status, i.next_review_due)
           IS DISTINCT FROM (EXCLUDED.relation, EXCLUDED.valid_until, EXCLUDED.status, EXCLUDED.next_review_due)
$$;
"""
TRIGGERS = """
CREATE OR REPLACE FUNCTION safeguarding_case_access_case_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM safeguarding_case_access_sync(ARRAY(SELECT id FROM new_rows));
    ELSE
        -- Only what the index copies: lead agency, status, review date.
        PERFORM safeguarding_case_access_sync(ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE (n.lead_agency_id, n.status, n.next_review_due)
                   IS DISTINCT FROM (o.lead_agency_id, o.status, o.next_review_due)));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION safeguarding_case_access_grant_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM safeguarding_case_access_sync(ARRAY(SELECT DISTINCT case_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM safeguarding_case_access_sync(ARRAY(SELECT DISTINCT case_id FROM old_rows));
    ELSE
        PERFORM safeguarding_case_access_sync(ARRAY(
            SELECT case_id FROM new_rows UNION SELECT case_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER case_access_case_insert AFTER INSERT ON referrals_case
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION safeguarding_case_access_case_changed();
CREATE TRIGGER case_access_case_update AFTER UPDATE ON referrals_case
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION safeguarding_case_access_case_changed();
CREATE TRIGGER case_access_grant_insert AFTER INSERT ON safeguarding_sharegrant
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION safeguarding_case_access_grant_changed();
CREATE TRIGGER case_access_grant_update AFTER UPDATE ON safeguarding_sharegrant
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION safeguarding_case_access_grant_changed();
CREATE TRIGGER case_access_grant_delete AFTER DELETE ON safeguarding_sharegrant
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION safeguarding_case_access_grant_changed();
"""
DROP = """
DROP TRIGGER IF EXISTS case_access_case_insert ON referrals_case;
DROP TRIGGER IF EXISTS case_access_case_update ON referrals_case;
DROP TRIGGER IF EXISTS case_access_grant_insert ON safeguarding_sharegrant;
DROP TRIGGER IF EXISTS case_access_grant_update ON safeguarding_sharegrant;
DROP TRIGGER IF EXISTS case_access_grant_delete ON safeguarding_sharegrant;
DROP FUNCTION IF EXISTS safeguarding_case_access_case_changed();
DROP FUNCTION IF EXISTS safeguarding_case_access_grant_changed();
DROP FUNCTION IF EXISTS safeguarding_case_access_sync(bigint[]);
DROP FUNCTION IF EXISTS safeguarding_case_access_wanted(bigint[]);
"""
BACKFILL = """
INSERT INTO safeguarding_caseaccess (agency_id, case_id, relation, valid_until, status, next_review_due)
SELECT * FROM safeguarding_case_access_wanted(ARRAY(SELECT id FROM referrals_case))
"""


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0003_notifications'),
        ('referrals', '0002_young_person_matching'),
        ('safeguarding', '0003_subject_access'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseAccess',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('relation', models.CharField(choices=[('lead', 'Lead agency'), ('shared', 'Active share')], max_length=8)),
                ('valid_until', models.DateTimeField(blank=True, null=True)),
                ('status', models.CharField(max_length=8)),
                ('next_review_due', models.DateField(blank=True, null=True)),
                ('agency', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agencies.agency')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='access_index', to='referrals.case')),
            ],
            options={
                'indexes': [models.Index(fields=['agency', 'status', 'next_review_due', 'case'], include=('valid_until',), name='case_access_caseload')],
                'constraints': [models.UniqueConstraint(fields=('agency', 'case'), include=('status', 'valid_until'), name='case_access_agency_case'), models.CheckConstraint(condition=models.Q(models.Q(('relation', 'lead'), ('valid_until__isnull', True)), models.Q(('relation', 'shared'), ('valid_until__isnull', False)), _connector='OR'), name='case_access_lead_has_no_end')],
            },
        ),
        migrations.RunSQL(FUNCTIONS + TRIGGERS + BACKFILL, reverse_sql=DROP),
    ]
