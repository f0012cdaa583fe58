"""Rating-spread findings written before this release carry the team's mean score in their
figures; with the spread (zero when everyone got the same score) it gives each member's score to
the finding's readers. Strip it: the finding keeps every other figure."""

from django.db import migrations


def strip_team_mean(apps, schema_editor):
    Finding = apps.get_model("audits", "Finding")
    for finding in Finding.objects.filter(fingerprint__endswith=":rating_spread").iterator():
        figures = (finding.details or {}).get("figures") or {}
        if "team_mean" in figures:
            del figures["team_mean"]
            finding.save(update_fields=["details"])


class Migration(migrations.Migration):
    dependencies = [("audits", "0002_job_heartbeat")]

    operations = [migrations.RunPython(strip_team_mean, migrations.RunPython.noop)]
