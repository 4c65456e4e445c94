"""A review's ward (its young person's, as for the case), so that the
reviews of each ward add up to the borough's and the suppression can treat
them as one table; and the version of the facts under which the protected
figures are kept. The next refresh rewrites every fact (the reviews written
before have no ward)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0002_reporting_row_security")]

    operations = [
        migrations.AddField(
            model_name="reviewfact",
            name="ward",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                                    to="monitoring.ward"),
        ),
        migrations.AddField(model_name="refreshstate", name="facts_version", field=models.UUIDField(null=True)),
        migrations.RunSQL("UPDATE monitoring_refreshstate SET needs_full = true", migrations.RunSQL.noop),
    ]
