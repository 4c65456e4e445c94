"""The caseload index (safeguarding.CaseAccess) and its backfill from the
cases and active share grants (the same rows as
``safeguarding.caseload_index``'s rebuild, written out here so the migration
does not change when that module does)."""

import django.db.models.deletion
from django.db import migrations, models


BACKFILL = """
INSERT INTO safeguarding_caseaccess (agency_id, case_id, relation, valid_until, status, next_review_due)
SELECT c.lead_agency_id, c.id, 'lead', NULL::timestamptz, c.status, c.next_review_due
  FROM referrals_case c
UNION ALL
SELECT g.agency_id, c.id, 'shared', max(g.expires_at), c.status, c.next_review_due
  FROM safeguarding_sharegrant g JOIN referrals_case c ON c.id = g.case_id
 WHERE g.revoked_at IS NULL AND g.expires_at > now() AND g.agency_id <> c.lead_agency_id
 GROUP BY g.agency_id, c.id, c.status, c.next_review_due
"""


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0003_notifications'),
        ('referrals', '0002_young_person_matching'),
        ('safeguarding', '0002_retention_runs'),
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
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
