# Reserved for: goal cancel requests and sign-off (workflows). Fill in operations; keep the name and dependencies so the graph stays linear.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cascade", "0004_goalperiod_is_default")]

    operations = []
