# Reserved for: existing data: mark a default goal period; keep cycles that created their own period working. Fill in operations; keep the name and dependencies so the graph stays linear.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("appraisals", "0003_cycle_reviews_chosen_period"), ("cascade", "0004_goalperiod_is_default")]

    operations = []
