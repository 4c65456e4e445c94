"""Every young person, referral and case belongs to a partnership.

A database that already holds case data was one partnership's: its rows,
their change history and every agency join one partnership made here (named
"The partnership", to be renamed in the admin). A new database has nothing
to move and gets no partnership until one is made."""

import django.db.models.deletion
from django.db import migrations, models


def into_one_partnership(apps, schema_editor):
    Partnership = apps.get_model("agencies", "Partnership")
    Agency = apps.get_model("agencies", "Agency")
    models_with_rows = [apps.get_model("referrals", name) for name in ("YoungPerson", "Referral", "Case")]
    if not Agency.objects.exists() and not any(m.objects.exists() for m in models_with_rows):
        return
    partnership, _ = Partnership.objects.get_or_create(slug="the-partnership", defaults={"name": "The partnership"})
    for agency in Agency.objects.all():
        agency.partnerships.add(partnership)
    for name in ("YoungPerson", "Referral", "Case", "YoungPersonEvent", "ReferralEvent", "CaseEvent"):
        apps.get_model("referrals", name).objects.filter(partnership__isnull=True).update(partnership=partnership)


class Migration(migrations.Migration):

    dependencies = [
        ("referrals", "0004_partnership_of_case_data"),
    ]

    operations = [
        migrations.RunPython(into_one_partnership, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="youngperson",
            name="partnership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="young_people", to="agencies.partnership",
            ),
        ),
        migrations.AlterField(
            model_name="referral",
            name="partnership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="referrals", to="agencies.partnership",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="partnership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="cases", to="agencies.partnership",
            ),
        ),
        migrations.AlterField(
            model_name="youngpersonevent",
            name="partnership",
            field=models.ForeignKey(
                db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                related_query_name="+", to="agencies.partnership",
            ),
        ),
        migrations.AlterField(
            model_name="referralevent",
            name="partnership",
            field=models.ForeignKey(
                db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                related_query_name="+", to="agencies.partnership",
            ),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="partnership",
            field=models.ForeignKey(
                db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                related_query_name="+", to="agencies.partnership",
            ),
        ),
    ]
