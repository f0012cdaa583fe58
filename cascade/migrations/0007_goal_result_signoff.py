# Closing a goal needs its approver's sign-off (or its measure's result); payouts count only
# signed-off results.
#
# Existing achieved / not-achieved goals are deliberately left NOT signed off. Until now the owner
# could close their own goal, and nothing recorded who did: the action log has a "goal.updated"
# entry for changes made on the pages and API, but none for goals closed by an import, the admin or
# the demo data, and a log entry by the approver may only have edited another field after the owner
# closed it. Inferring sign-offs from it would certify some self-certified results. So each such
# goal shows "awaiting sign-off" on its page (and in the plan page's count before computing) and the
# approver or HR signs it off in one step (cascade.workflow.sign_off accepts a closed, unsigned
# goal). Payouts already computed are stored and do not change until HR recomputes the plan.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cascade", "0006_job_heartbeat"),
        ("people", "0003_job_heartbeat"),
    ]

    operations = [
        migrations.AddField(
            model_name="goal",
            name="close_comment",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="goal",
            name="close_proposed_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("open", "Open"),
                    ("achieved", "Achieved"),
                    ("not_achieved", "Not achieved"),
                    ("cancelled", "Cancelled"),
                ],
                editable=False,
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="goal",
            name="close_requested_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="goal",
            name="close_requested_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="people.employee",
            ),
        ),
        migrations.AddField(
            model_name="goal",
            name="result_by_measure",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="goal",
            name="result_signed_off_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="goal",
            name="result_signed_off_by",
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
                    ("close_ask", "Asked to close a goal"),
                    ("signed_off", "Signed off a goal's result"),
                    ("close_no", "Declined to close a goal"),
                    ("result_rep", "Reopened a goal's result"),
                ],
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="goal",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("result_signed_off_at__isnull", True),
                    ("status__in", ("achieved", "not_achieved")),
                    _connector="OR",
                ),
                name="goal_signoff_on_closed_result",
                violation_error_message="Only an achieved or not-achieved result is signed off.",
            ),
        ),
        migrations.AddConstraint(
            model_name="goal",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("result_by_measure", False),
                    models.Q(("result_signed_off_at__isnull", False), ("result_signed_off_by__isnull", True)),
                    _connector="OR",
                ),
                name="goal_measure_signoff_has_no_person",
            ),
        ),
        migrations.AddConstraint(
            model_name="goal",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("close_requested_at__isnull", True),
                    models.Q(("close_proposed_status__in", ("achieved", "not_achieved")), ("status", "open")),
                    _connector="OR",
                ),
                name="goal_close_request_on_open_goal",
            ),
        ),
    ]
