# Reserved for: job progress heartbeat on payout computation. Fill in operations; keep the name and dependencies so the graph stays linear.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("incentives", "0001_initial")]

    operations = []
