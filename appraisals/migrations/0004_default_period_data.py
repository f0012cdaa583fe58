# Existing data: mark a default goal period; keep cycles that created their own period working.
#
# Before this, setting up a review cycle created a goal period named and dated like the cycle
# (closed until launch, opened by the launch), and everyone's "current" period jumped to it.
# Now a cycle reviews a period HR chooses and people see their own cycle's period, else the
# organisation's default. This migration:
#
# 1. Repoints a cycle at the organisation's period when the period it created holds no goals at
#    all (nothing was set in it, so nothing is lost) and an open period of the organisation
#    holds its Plan window: its appraisals then rate the goals people really have. The empty
#    period is closed so that it is nobody's fallback.
# 2. Opens the period of every launched cycle that still reviews its own period (one in which
#    goals were set), so that those cycles keep working exactly as before.
# 3. Marks a default period when none is: the open period containing today, else the latest
#    open one, preferring the organisation's own periods over ones a cycle created.
import datetime

from django.db import migrations

LAUNCHED = ("launching", "active", "closed")


def _created_by(cycle, period) -> bool:
    """Whether ``period`` is the one the old set-up created for ``cycle`` (named and dated like it)."""
    return period.name == cycle.name and period.start == cycle.start and period.end == cycle.end


def forwards(apps, schema_editor):
    GoalPeriod = apps.get_model("cascade", "GoalPeriod")
    Goal = apps.get_model("cascade", "Goal")
    ReviewCycle = apps.get_model("appraisals", "ReviewCycle")

    cycle_made: set[int] = set()
    for cycle in ReviewCycle.objects.select_related("period").order_by("start", "pk"):
        if _created_by(cycle, cycle.period):
            cycle_made.add(cycle.period_id)
    organisation = GoalPeriod.objects.filter(is_open=True).exclude(pk__in=cycle_made)

    for cycle in ReviewCycle.objects.select_related("period").filter(period_id__in=cycle_made).order_by("pk"):
        own = cycle.period
        if not Goal.objects.filter(period_id=own.pk).exists():
            chosen = (
                organisation.filter(start__lte=cycle.plan_start, end__gte=cycle.plan_end)
                .order_by("-start", "-pk")
                .first()
            )
            if chosen is not None:
                ReviewCycle.objects.filter(pk=cycle.pk).update(period_id=chosen.pk)
                if not ReviewCycle.objects.filter(period_id=own.pk).exists():
                    GoalPeriod.objects.filter(pk=own.pk).update(is_open=False)
                continue
        if cycle.state in LAUNCHED:
            GoalPeriod.objects.filter(pk=own.pk).update(is_open=True)

    if GoalPeriod.objects.filter(is_default=True).exists():
        return
    today = datetime.date.today()
    for candidates in (organisation, GoalPeriod.objects.filter(is_open=True)):
        chosen = (
            candidates.filter(start__lte=today, end__gte=today).order_by("-start", "-pk").first()
            or candidates.order_by("-start", "-pk").first()
        )
        if chosen is not None:
            GoalPeriod.objects.filter(pk=chosen.pk).update(is_default=True)
            return


class Migration(migrations.Migration):
    dependencies = [("appraisals", "0003_cycle_reviews_chosen_period"), ("cascade", "0004_goalperiod_is_default")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
