# Reserved for: job progress heartbeat on cascade imports. Fill in operations; keep the name and dependencies so the graph stays linear.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cascade", "0005_goal_workflows")]

    operations = []
