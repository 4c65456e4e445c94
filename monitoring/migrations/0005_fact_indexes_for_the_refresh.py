"""The young people's fact tables keep one index besides their key (the
partnership and the month): the person key's and the foreign keys' own
indexes go, each of them paid on every fact a refresh writes
(``monitoring/models.py``)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agencies', '0011_reporting_role'),
        ('monitoring', '0004_context_and_panel_facts'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='casefact',
            name='monitoring__person__337f0a_idx',
        ),
        migrations.RemoveIndex(
            model_name='interventionfact',
            name='monitoring__person__3f2954_idx',
        ),
        migrations.RemoveIndex(
            model_name='referralfact',
            name='monitoring__person__63030e_idx',
        ),
        migrations.RemoveIndex(
            model_name='reviewfact',
            name='monitoring__person__dbc5b8_idx',
        ),
        migrations.AlterField(
            model_name='casefact',
            name='partnership',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agencies.partnership'),
        ),
        migrations.AlterField(
            model_name='casefact',
            name='ward',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='monitoring.ward'),
        ),
        migrations.AlterField(
            model_name='interventionfact',
            name='partnership',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agencies.partnership'),
        ),
        migrations.AlterField(
            model_name='interventionfact',
            name='ward',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='monitoring.ward'),
        ),
        migrations.AlterField(
            model_name='referralfact',
            name='partnership',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agencies.partnership'),
        ),
        migrations.AlterField(
            model_name='referralfact',
            name='ward',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='monitoring.ward'),
        ),
        migrations.AlterField(
            model_name='reviewfact',
            name='partnership',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='agencies.partnership'),
        ),
        migrations.AlterField(
            model_name='reviewfact',
            name='ward',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='monitoring.ward'),
        ),
    ]
