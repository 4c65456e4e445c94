"""Each API client works in one partnership: existing clients get their
agency's partnership when it works in exactly one, else the first by name
(an agency's administrator can issue a client for another and revoke this
one). Runs after referrals' move of an existing database into "The
partnership", which every agency then works in; a client of an agency in no
partnership at all is put in that one, and so reaches nothing until its
agency works there (``access.actor_for_api_client``)."""

import django.db.models.deletion
from django.db import migrations, models


def place_existing_clients(apps, schema_editor):
    ApiClient = apps.get_model("agencies", "ApiClient")
    Partnership = apps.get_model("agencies", "Partnership")
    for client in ApiClient.objects.filter(partnership__isnull=True).select_related("agency"):
        first = Partnership.objects.filter(agencies=client.agency_id).order_by("name", "pk").first()
        if first is None:
            first, _ = Partnership.objects.get_or_create(slug="the-partnership", defaults={"name": "The partnership"})
        ApiClient.objects.filter(pk=client.pk).update(partnership=first)


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0006_partnerships'),
        ('referrals', '0005_partnership_required'),
    ]

    operations = [
        migrations.AddField(
            model_name='apiclient',
            name='partnership',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='api_clients', to='agencies.partnership'),
        ),
        migrations.RunPython(place_existing_clients, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='apiclient',
            name='partnership',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='api_clients', to='agencies.partnership'),
        ),
    ]
