# Reserved for: job progress heartbeat on org-chart imports. Fill in operations; keep the name and dependencies so the graph stays linear.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("people", "0002_import_status_label")]

    operations = []
