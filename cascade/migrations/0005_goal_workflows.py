# Goal cancellation as a workflow: a goal once approved is cancelled by its approver or HR
# (the owner asks, with a reason), and a cancelled goal is never "approved" beside "cancelled".
import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Q, Sum

LIVE_APPROVALS = ["approved", "submitted"]


def settle_cancelled_goals(apps, schema_editor):
    """Before the constraint: earlier versions let an owner cancel an approved goal and left it
    "approved", and its set approved with weights short of 100. Such a goal goes back to draft,
    and so does the rest of its set when what is left no longer totals 100 (to be re-weighted
    and approved again). Goals approved today keep their approval, dated by their last change."""
    Goal = apps.get_model("cascade", "Goal")
    Goal.objects.filter(approval="approved").update(approved_at=models.F("updated_at"))
    stuck = Goal.objects.filter(status="cancelled", approval__in=LIVE_APPROVALS)
    sets = set(stuck.values_list("level", "owner_id", "department_id", "period_id"))
    stuck.update(approval="draft")
    for level, owner_id, department_id, period_id in sets:
        same = Goal.objects.filter(level=level, period_id=period_id).exclude(status="cancelled")
        same = same.filter(owner_id=owner_id) if level == "individual" else same.filter(department_id=department_id)
        total = same.aggregate(total=Sum("weight"))["total"] or 0
        if total != 100:
            same.filter(approval__in=LIVE_APPROVALS).update(approval="draft", version=models.F("version") + 1)


class Migration(migrations.Migration):
    dependencies = [("cascade", "0004_goalperiod_is_default")]

    operations = [
        migrations.AddField(
            model_name="goal",
            name="approved_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="goal",
            name="cancel_reason",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="goal",
            name="cancel_requested_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="goal",
            name="cancel_requested_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="people.employee",
            ),
        ),
        migrations.AlterField(
            model_name="goalsetevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("submitted", "Submitted"),
                    ("approved", "Approved"),
                    ("returned", "Returned"),
                    ("reopened", "Reopened"),
                    ("cancel_ask", "Asked to cancel a goal"),
                    ("cancelled", "Cancelled a goal"),
                    ("kept", "Kept a goal (cancellation declined)"),
                ],
                max_length=10,
            ),
        ),
        migrations.RunPython(settle_cancelled_goals, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="goal",
            constraint=models.CheckConstraint(
                condition=~Q(status="cancelled", approval__in=LIVE_APPROVALS),
                name="goal_cancelled_not_approved",
                violation_error_message="A cancelled goal cannot be approved or waiting for approval.",
            ),
        ),
        migrations.AddConstraint(
            model_name="goal",
            constraint=models.CheckConstraint(
                condition=Q(cancel_requested_at__isnull=True) | ~Q(status="cancelled"),
                name="goal_cancel_request_on_live_goal",
            ),
        ),
    ]
