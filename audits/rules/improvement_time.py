"""Insufficient time for improvement work, per team (a manager and their direct reports in scope).

Three findings a team can have, each with a key of its own so they open and close apart:

- **Too little planned time** (``team:<id>:planned_time``): of the team's open goals in the
  current period (status open; cancelled and returned ones left out), those with fewer than
  min_hours planned improvement hours a month make up at least max_short_share % of them.
- **Overdue check-ins** (``team:<id>:checkins``): participants of running review cycles whose
  Do phase (the mid-cycle check-in) ended more than checkin_grace_days ago and whose
  check-in is not held. Grouped by the participant's reviewer, who holds the check-in
  (their manager when no reviewer was set).
- **No progress updates** (``team:<id>:progress_updates``): approved open goals whose last
  progress update is more than stale_update_days old — counted from the approval of the
  person's goal set (else the goal's creation) when never updated. Goals driven by a
  measure are left out: their progress comes from the measure's observations, not from
  updates by the person.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from appraisals.models import CycleState, Participant
from audits.models import Severity, SubjectType
from audits.rules.base import AuditContext, FindingDraft, Rule, Threshold, register
from audits.selectors import scope as s
from cascade.models import Approval, GoalSetEvent, GoalStatus, GoalUpdate, ProgressMode, ReviewAction
from core.formatting import day


@register
class ImprovementTime(Rule):
    key = "improvement_time"
    title = "Teams with no room for improvement work"
    pitfall = "Insufficient time for improvement work"
    description = (
        "Per team (a manager's direct reports): reported when goals with less than min_hours planned improvement "
        "hours a month make up at least max_short_share % of the team's open goals in the current period (high "
        "when all of them do); when check-ins of a running review cycle are still not held more than "
        "checkin_grace_days after its Do phase ended; and when approved open goals have had no progress update for "
        "more than stale_update_days days (counted from approval, or creation, when never updated). For the last "
        "two, severity is high when half the team's records or more are late, medium from a fifth, low below."
    )
    mitigation = (
        "Set aside dedicated improvement time in the team's work schedules, write it into each goal's planned "
        "hours, hold the check-ins, and make the time part of the performance plan."
    )
    thresholds = (
        Threshold(
            key="min_hours",
            label="Planned improvement hours a month a goal needs",
            default=Decimal("2"),
            minimum=Decimal("0"),
            maximum=Decimal("160"),
            unit="hours/month",
        ),
        Threshold(
            key="max_short_share",
            label="Share of a team's goals short of time that is reported",
            default=Decimal("50"),
            minimum=Decimal("1"),
            maximum=Decimal("100"),
            unit="%",
            help="A team is reported when at least this share of its open goals plan less than min_hours.",
        ),
        Threshold(
            key="checkin_grace_days",
            label="Days after the Do phase before a check-in is overdue",
            default=Decimal("7"),
            minimum=Decimal("0"),
            maximum=Decimal("180"),
            unit="days",
            whole=True,
        ),
        Threshold(
            key="stale_update_days",
            label="Days without a progress update",
            default=Decimal("45"),
            minimum=Decimal("1"),
            maximum=Decimal("365"),
            unit="days",
            whole=True,
        ),
    )

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        scope = s.scope_for(ctx)
        drafts: list[FindingDraft] = []
        if scope.periods:
            drafts += self._planned_time(scope, Decimal(limits["min_hours"]), Decimal(limits["max_short_share"]))
            drafts += self._progress_updates(scope, int(limits["stale_update_days"]))
        drafts += self._checkins(ctx.today, int(limits["checkin_grace_days"]))
        managers = s.employee_names({d.subject_id for d in drafts})
        return sorted((_named(d, managers) for d in drafts), key=lambda d: (d.subject_label, d.subject_id or 0, d.key))

    # ------------------------------------------------------------ planned time

    def _planned_time(self, scope: s.Scope, min_hours: Decimal, max_share: Decimal) -> list[FindingDraft]:
        goals = (
            scope.individual_goals()
            .filter(status=GoalStatus.OPEN, owner__manager__isnull=False)
            .exclude(approval=Approval.RETURNED)
        )
        short = Q(improvement_hours_per_month__lt=min_hours)
        flagged = {}
        for row in (
            goals.values("owner__manager_id")
            .annotate(
                total=Count("pk"),
                short=Count("pk", filter=short),
                none=Count("pk", filter=Q(improvement_hours_per_month=0)),
            )
            .filter(short__gt=0)
        ):
            share = s.percent(row["short"], row["total"])
            if share is not None and share >= max_share:
                flagged[row["owner__manager_id"]] = (share, row)
        if not flagged:
            return []
        ids: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for pk, owner_id, manager_id in goals.filter(short, owner__manager_id__in=list(flagged)).values_list(
            "pk", "owner_id", "owner__manager_id"
        ):
            ids[manager_id].append((pk, owner_id))
        drafts = []
        for manager_id, (share, row) in flagged.items():
            rows = ids.get(manager_id, [])
            drafts.append(
                FindingDraft(
                    key=f"team:{manager_id}:planned_time",
                    severity=Severity.HIGH if row["short"] == row["total"] else Severity.MEDIUM,
                    subject_type=SubjectType.TEAM,
                    subject_id=manager_id,
                    subject_label="{team}: too little planned improvement time",
                    department_id=None,
                    message=(
                        f"{{team}}: {row['short']:,} of {s.plural(row['total'], 'open goal')} ({s.shown(share)} %) "
                        f"in {scope.period_label} plan less than {s.as_set(min_hours)} hours of improvement work a "
                        f"month ({row['none']:,} with none at all); the limit is {s.as_set(max_share)} %."
                    ),
                    details={
                        "goals": s.capped(pk for pk, _ in rows),
                        "employees": s.capped(owner for _, owner in rows),
                        "figures": {
                            "open_goals": row["total"],
                            "short_goals": row["short"],
                            "goals_without_time": row["none"],
                            "short_share_percent": s.number(share),
                            "min_hours": s.number(min_hours),
                            "max_short_share": s.number(max_share),
                            "people": len({owner for _, owner in rows}),
                        },
                    },
                )
            )
        return drafts

    # ------------------------------------------------------------ progress updates

    def _progress_updates(self, scope: s.Scope, days: int) -> list[FindingDraft]:
        cutoff = s.start_of(scope.today - datetime.timedelta(days=days))
        last_update = (
            GoalUpdate.objects.filter(goal=OuterRef("pk"))
            .order_by()
            .values("goal")
            .annotate(at=Max("created_at"))
            .values("at")
        )
        approved = (
            GoalSetEvent.objects.filter(
                owner=OuterRef("owner_id"), period=OuterRef("period_id"), action=ReviewAction.APPROVED
            )
            .order_by()
            .values("owner")
            .annotate(at=Max("created_at"))
            .values("at")
        )
        goals = (
            scope.individual_goals()
            .filter(status=GoalStatus.OPEN, approval=Approval.APPROVED, owner__manager__isnull=False)
            .exclude(progress_mode=ProgressMode.MEASURE)
            .annotate(
                last_activity=Greatest(
                    Coalesce(Subquery(last_update), F("created_at")),
                    Coalesce(Subquery(approved), F("created_at")),
                )
            )
        )
        stale = Q(last_activity__lt=cutoff)
        flagged = {
            row["owner__manager_id"]: row
            for row in goals.values("owner__manager_id")
            .annotate(total=Count("pk"), stale=Count("pk", filter=stale))
            .filter(stale__gt=0)
        }
        if not flagged:
            return []
        ids: dict[int, list[tuple[int, int, datetime.datetime]]] = defaultdict(list)
        for pk, owner_id, manager_id, last in goals.filter(stale, owner__manager_id__in=list(flagged)).values_list(
            "pk", "owner_id", "owner__manager_id", "last_activity"
        ):
            ids[manager_id].append((pk, owner_id, last))
        drafts = []
        for manager_id, row in flagged.items():
            rows = ids.get(manager_id, [])
            share = s.percent(row["stale"], row["total"])
            oldest = min((last for _, _, last in rows), default=None)
            quiet = (scope.today - timezone.localtime(oldest).date()).days if oldest else days
            drafts.append(
                FindingDraft(
                    key=f"team:{manager_id}:progress_updates",
                    severity=s.share_severity(share),
                    subject_type=SubjectType.TEAM,
                    subject_id=manager_id,
                    subject_label="{team}: progress not updated",
                    department_id=None,
                    message=(
                        f"{{team}}: {row['stale']:,} of {s.plural(row['total'], 'approved open goal')} "
                        f"({s.shown(share or 0)} %) have had no progress update for more than "
                        f"{s.plural(days, 'day')} (the quietest for {s.plural(quiet, 'day')})."
                    ),
                    details={
                        "goals": s.capped(pk for pk, _, _ in rows),
                        "employees": s.capped(owner for _, owner, _ in rows),
                        "figures": {
                            "approved_open_goals": row["total"],
                            "goals_without_updates": row["stale"],
                            "share_percent": s.number(share or 0),
                            "stale_update_days": days,
                            "longest_days_without_update": quiet,
                            "people": len({owner for _, owner, _ in rows}),
                        },
                    },
                )
            )
        return drafts

    # ------------------------------------------------------------ check-ins

    def _checkins(self, today: datetime.date, grace: int) -> list[FindingDraft]:
        participants = (
            Participant.objects.filter(
                cycle__state=CycleState.ACTIVE,
                cycle__do_end__lt=today - datetime.timedelta(days=grace),
                employee__is_active=True,
            )
            .annotate(team=Coalesce("reviewer_id", "employee__manager_id"))
            .filter(team__isnull=False)
            .order_by()
        )
        missing = Q(check_in__isnull=True) | Q(check_in__completed_at__isnull=True)
        flagged = {
            row["team"]: row
            for row in participants.values("team")
            .annotate(total=Count("pk"), missing=Count("pk", filter=missing))
            .filter(missing__gt=0)
        }
        if not flagged:
            return []
        late: dict[int, list[tuple[int, int, str, datetime.date]]] = defaultdict(list)
        for employee_id, team, cycle_id, cycle_name, do_end in participants.filter(
            missing, team__in=list(flagged)
        ).values_list("employee_id", "team", "cycle_id", "cycle__name", "cycle__do_end"):
            late[team].append((employee_id, cycle_id, cycle_name, do_end))
        drafts = []
        for manager_id, row in flagged.items():
            rows = late.get(manager_id, [])
            share = s.percent(row["missing"], row["total"])
            cycles = sorted({(name, cycle_id) for _, cycle_id, name, _ in rows})
            ended = min(do_end for _, _, _, do_end in rows)
            drafts.append(
                FindingDraft(
                    key=f"team:{manager_id}:checkins",
                    severity=s.share_severity(share),
                    subject_type=SubjectType.TEAM,
                    subject_id=manager_id,
                    subject_label="{team}: check-ins not held",
                    department_id=None,
                    message=(
                        f"{{team}}: {row['missing']:,} of {s.plural(row['total'], 'check-in')} in "
                        f"{s.listing(f'“{name}”' for name, _ in cycles)} {'is' if row['missing'] == 1 else 'are'} "
                        f"not held, though the Do phase ended on {day(ended)} "
                        f"({s.plural((today - ended).days, 'day')} ago; grace {s.plural(grace, 'day')})."
                    ),
                    details={
                        "employees": s.capped(employee for employee, _, _, _ in rows),
                        "figures": {
                            "participants": row["total"],
                            "checkins_not_held": row["missing"],
                            "share_percent": s.number(share or 0),
                            "days_since_do_phase": (today - ended).days,
                            "checkin_grace_days": grace,
                            "cycles": [cycle_id for _, cycle_id in cycles],
                        },
                    },
                )
            )
        return drafts


def _named(draft: FindingDraft, managers: Mapping[int, tuple[str, int]]) -> FindingDraft:
    """Fill in the team's name and department (looked up once for the teams of every finding)."""
    name, department_id = managers.get(draft.subject_id or 0, (f"Manager {draft.subject_id}", None))
    return dataclasses.replace(
        draft,
        # One team can have several of these findings: the label says which, so no list shows two alike.
        subject_label=draft.subject_label.replace("{team}", f"Team of {name}", 1),
        department_id=department_id,
        message=draft.message.replace("{team}", f"{name}'s team", 1),
        details={**draft.details, "departments": [department_id] if department_id else []},
    )
