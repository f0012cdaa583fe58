"""The job heartbeat (core.jobs): when the job last recorded progress, for the stall rule."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audits", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="auditrun",
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
