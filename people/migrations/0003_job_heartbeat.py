"""The job heartbeat (core.jobs): when the job last recorded progress, for the stall rule."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("people", "0002_import_status_label")]

    operations = [
        migrations.AddField(
            model_name="orgchartimport",
            name="progress_at",
            field=models.DateTimeField(
                blank=True,
                default=django.utils.timezone.now,
                editable=False,
                help_text="When the job last recorded progress (or was queued).",
                null=True,
            ),
        ),
    ]
