# Reserved for: job progress heartbeat on cycle launch. Fill in operations; keep the name and dependencies so the graph stays linear.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("appraisals", "0004_default_period_data")]

    operations = []
