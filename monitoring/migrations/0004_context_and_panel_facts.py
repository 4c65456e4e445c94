"""The facts of the partnership's places, peer groups and online spaces and
of its panels' actions, for the "Contexts and panels" report.

Under the partnership's row-level security as the other facts are
(``0002_reporting_row_security``), and with the same index on the change
history the refresh reads to know whether any context or panel action
changed since its last run (so a run with nothing new reads a short range
of an index). The next refresh is a full one, so that the facts of the
contexts and actions recorded before this migration are written.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

reporting_row_security = importlib.import_module("monitoring.migrations.0002_reporting_row_security")
TABLES = ["monitoring_contextfact", "monitoring_panelactionfact"]
HISTORY = ["contexts_contextevent", "contexts_panelactionevent"]


class Migration(migrations.Migration):

    dependencies = [
        ("agencies", "0011_reporting_role"),
        ("contexts", "0002_contexts_row_security"),
        ("monitoring", "0003_review_ward_and_facts_version"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContextFact",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("place", "Place"), ("peer_group", "Peer group or gang"),
                                                   ("online_space", "Online space")], max_length=24)),
                ("recorded_month", models.DateField()),
                ("risk_level", models.CharField(max_length=8)),
                ("partnership", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                  to="agencies.partnership")),
                ("ward", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                                           to="monitoring.ward")),
            ],
            options={
                "indexes": [models.Index(fields=["partnership", "recorded_month"],
                                         name="monitoring__partner_4c6dd6_idx")],
                "constraints": [models.CheckConstraint(
                    condition=models.Q(("kind__in", ["place", "peer_group", "online_space"])),
                    name="context_fact_kind_counted")],
            },
        ),
        migrations.CreateModel(
            name="PanelActionFact",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("due_month", models.DateField()),
                ("due_on", models.DateField()),
                ("status", models.CharField(max_length=12)),
                ("completed_on", models.DateField(null=True)),
                ("owner_agency_kind", models.CharField(max_length=32)),
                ("partnership", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                  to="agencies.partnership")),
            ],
            options={
                "indexes": [models.Index(fields=["partnership", "due_month"], name="monitoring__partner_7e69a4_idx")],
            },
        ),
        migrations.RunSQL(reporting_row_security.policies(TABLES, HISTORY),
                          reverse_sql=reporting_row_security.drop_policies(TABLES, HISTORY)),
        migrations.RunSQL("UPDATE monitoring_refreshstate SET needs_full = true", migrations.RunSQL.noop),
    ]
