"""The job heartbeat (core.jobs) on the cycle's launch, and when each to-do's email went (so a
redelivered email task sends nothing twice)."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("appraisals", "0004_default_period_data")]

    operations = [
        migrations.AddField(
            model_name="reviewcycle",
            name="progress_at",
            field=models.DateTimeField(
                blank=True,
                default=django.utils.timezone.now,
                editable=False,
                help_text="When the job last recorded progress (or was queued).",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="todo",
            name="emailed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
