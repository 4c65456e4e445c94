"""Row-level security for contexts and panels, as for case data
(``safeguarding/migrations/0008_partnership_row_security.py``): under the
app's role, with a partnership set, only that partnership's contexts,
links, interventions, chronology, panels, attendees, agendas, actions and
minutes (and their change history) are seen or written; with none set,
none at all."""

from django.db import migrations

# Tables that carry the partnership themselves.
OWN = ["contexts_context", "contexts_contextevent", "contexts_panel", "contexts_panelevent"]
# Tables that hang off another: visible when it is (the parent's own policy
# applies inside the EXISTS, so the partnership is checked there).
HANGING = {
    "contexts_contextlink": ("contexts_context", "context_id"),
    "contexts_contextlinkevent": ("contexts_context", "context_id"),
    "contexts_contextintervention": ("contexts_context", "context_id"),
    "contexts_contextinterventionevent": ("contexts_context", "context_id"),
    "contexts_contextnote": ("contexts_context", "context_id"),
    "contexts_context_restricted_to": ("contexts_context", "context_id"),
    "contexts_peerlink": ("referrals_case", "case_a_id"),
    "contexts_peerlinkevent": ("referrals_case", "case_a_id"),
    "contexts_panelattendee": ("contexts_panel", "panel_id"),
    "contexts_panelagendaitem": ("contexts_panel", "panel_id"),
    "contexts_panelaction": ("contexts_panel", "panel_id"),
    "contexts_panelactionevent": ("contexts_panel", "panel_id"),
    "contexts_panelminute": ("contexts_panel", "panel_id"),
}


def _policies() -> str:
    statements = []
    for table in OWN:
        statements.append(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY partnership_boundary ON {table} "
            f"USING (partnership_id = crossroads_partnership()) "
            f"WITH CHECK (partnership_id = crossroads_partnership());"
        )
    for table, (parent, column) in HANGING.items():
        visible = f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{column})"
        statements.append(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY partnership_boundary ON {table} USING ({visible}) WITH CHECK ({visible});"
        )
    return "\n".join(statements)


def _drop_policies() -> str:
    return "\n".join(
        f"DROP POLICY IF EXISTS partnership_boundary ON {table}; ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
        for table in [*OWN, *HANGING]
    )


class Migration(migrations.Migration):

    dependencies = [
        ("contexts", "0001_contexts"),
        ("safeguarding", "0008_partnership_row_security"),
    ]

    operations = [
        migrations.RunSQL(_policies(), reverse_sql=_drop_policies()),
    ]
