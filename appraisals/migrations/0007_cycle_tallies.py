import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, Q

STATES = {
    "draft": "draft",
    "self_assessment": "self_assessment",
    "manager_review": "manager_review",
    "dialogue": "dialogue",
    "acknowledged": "acknowledged_state",
    "locked": "locked",
}


def count_existing_cycles(apps, schema_editor):
    """The summary rows of the cycles that exist already (appraisals.services.tallies counts the same)."""
    Participant = apps.get_model("appraisals", "Participant")
    CycleTally = apps.get_model("appraisals", "CycleTally")
    counts = {
        "participants": Count("pk"),
        "no_appraisal": Count("pk", filter=Q(appraisal__isnull=True)),
        **{name: Count("pk", filter=Q(appraisal__state=state)) for state, name in STATES.items()},
        "check_ins_held": Count("pk", filter=Q(check_in__completed_at__isnull=False)),
        "plans_agreed": Count("pk", filter=Q(development_plan__agreed_at__isnull=False)),
        "acknowledged": Count("pk", filter=Q(appraisal__acknowledged_at__isnull=False)),
    }
    rows = Participant.objects.values("cycle_id", "employee__department_id").annotate(**counts).order_by()
    CycleTally.objects.bulk_create(
        [
            CycleTally(cycle_id=row.pop("cycle_id"), department_id=row.pop("employee__department_id"), **row)
            for row in rows
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("appraisals", "0006_list_indexes"),
        ("people", "0003_job_heartbeat"),
    ]

    operations = [
        migrations.CreateModel(
            name="CycleTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("participants", models.IntegerField(default=0)),
                ("no_appraisal", models.IntegerField(default=0)),
                ("draft", models.IntegerField(default=0)),
                ("self_assessment", models.IntegerField(default=0)),
                ("manager_review", models.IntegerField(default=0)),
                ("dialogue", models.IntegerField(default=0)),
                ("acknowledged_state", models.IntegerField(default=0)),
                ("locked", models.IntegerField(default=0)),
                ("check_ins_held", models.IntegerField(default=0)),
                ("plans_agreed", models.IntegerField(default=0)),
                ("acknowledged", models.IntegerField(default=0)),
                (
                    "cycle",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="tallies", to="appraisals.reviewcycle"
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="people.department"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("cycle", "department"), name="one_tally_per_cycle_department")
                ],
            },
        ),
        migrations.RunPython(count_existing_cycles, migrations.RunPython.noop),
    ]
