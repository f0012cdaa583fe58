"""Over-emphasis on end results: appraisal forms and departments that weigh the improvement process too little.

- **Forms.** The versions that rate people now: those given to participants of review
  cycles not yet closed, and the published version of every form (what the next launch
  hands out). Their process share is the competencies library's own results/process
  balance (``competencies.validation.balance``: the competencies section's weight; a form
  has no other process section — dialogue questions carry no weight), compared with
  min_process_weight, whose default is the ``THROUGHLINE_MIN_PROCESS_WEIGHT`` setting the
  form builder warns with.
- **Departments.** The share of the weight of the current individual goals of a
  department's people in scope (not cancelled, not returned) that sits on process /
  improvement-activity goals (``GoalKind.PROCESS``). Each person's weights total 100, so
  this is the department's people's process share, weighted by how much each plans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import Count, Q, Sum

from appraisals.models import CycleState, Participant
from audits.models import SubjectType
from audits.rules.base import AuditContext, FindingDraft, Rule, Threshold, register
from audits.selectors import scope as s
from cascade.models import GoalKind
from competencies.models import FormVersion, VersionStatus, min_process_weight
from competencies.selectors import version_balance


@register
class EndResultEmphasis(Rule):
    key = "end_result_emphasis"
    title = "Forms and departments that rate results far more than how work improves"
    pitfall = "Over-emphasis on end results"
    description = (
        "An appraisal form version in use by a review cycle that is not closed, or the published version of any "
        "form, is reported when its process share (the competencies section's weight, as the form builder's "
        "results/process balance shows it) is below min_process_weight. A department is reported when process / "
        "improvement-activity goals carry less than min_process_goal_weight of the weight of its people's current "
        "goals. Severity: high below half the floor, medium below 85 % of it, low just under it."
    )
    mitigation = (
        "Add process-oriented QI competencies (process thinking, data-informed decisions, collaborative problem "
        "solving, change management) to the appraisal forms and give them more weight; set process and "
        "improvement-activity goals beside the result goals."
    )
    thresholds = (
        Threshold(
            key="min_process_weight",
            label="Minimum process weight on an appraisal form",
            default=Decimal(min_process_weight()),
            minimum=Decimal("0"),
            maximum=Decimal("100"),
            unit="%",
            help="The competencies section's share of a form; the default is the THROUGHLINE_MIN_PROCESS_WEIGHT "
            "setting.",
        ),
        Threshold(
            key="min_process_goal_weight",
            label="Minimum weight on process goals per department",
            default=Decimal("20"),
            minimum=Decimal("0"),
            maximum=Decimal("100"),
            unit="%",
            help="The share of a department's current goal weight on process / improvement-activity goals.",
        ),
    )

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        drafts = self._forms(Decimal(limits["min_process_weight"]))
        scope = s.scope_for(ctx)
        if scope.periods:
            drafts += self._departments(scope, Decimal(limits["min_process_goal_weight"]))
        return drafts

    # ------------------------------------------------------------ forms

    def _forms(self, floor: Decimal) -> list[FindingDraft]:
        open_cycles = Participant.objects.exclude(cycle__state=CycleState.CLOSED).order_by()
        versions = list(
            FormVersion.objects.filter(
                Q(pk__in=open_cycles.values("form_version_id")) | Q(status=VersionStatus.PUBLISHED)
            )
            .select_related("form")
            .order_by("form__name", "number")
        )
        below = [v for v in versions if version_balance(v).process_weight < floor]
        if not below:
            return []
        people = dict(
            open_cycles.filter(form_version_id__in=[v.pk for v in below])
            .values("form_version_id")
            .annotate(n=Count("pk"))
            .values_list("form_version_id", "n")
        )
        drafts = []
        for version in below:
            balance = version_balance(version)
            participants = people.get(version.pk, 0)
            use = (
                f"rates {s.plural(participants, 'person', 'people')} in a running review cycle"
                if participants
                else "is the published version the next review cycle will hand out"
            )
            drafts.append(
                FindingDraft(
                    key=f"form:{version.form_id}:version:{version.number}",
                    severity=s.shortfall_severity(balance.process_weight, floor),
                    subject_type=SubjectType.FORM,
                    subject_id=version.form_id,
                    subject_label=f"{version.form.name} (version {version.number})",
                    department_id=None,
                    message=(
                        f"“{version.form.name}” version {version.number} {use}, but only "
                        f"{balance.process_weight} % of it rates how people improve the work (competencies) "
                        f"against {balance.results_weight} % for results; the floor is {s.as_set(floor)} %."
                    ),
                    details={
                        "forms": [version.form_id],
                        "figures": {
                            "form_version": version.pk,
                            "version_number": version.number,
                            "process_weight": balance.process_weight,
                            "results_weight": balance.results_weight,
                            "floor_percent": s.number(floor),
                            "participants_in_open_cycles": participants,
                        },
                    },
                )
            )
        return drafts

    # ------------------------------------------------------------ departments

    def _departments(self, scope: s.Scope, floor: Decimal) -> list[FindingDraft]:
        rows = (
            scope.counted_individual_goals()
            .values("owner__department_id")
            .annotate(total=Sum("weight"), process=Sum("weight", filter=Q(kind=GoalKind.PROCESS)), goals=Count("pk"))
            .order_by()
        )
        below = {}
        for row in rows:
            share = s.percent(row["process"] or 0, row["total"])
            if share is not None and share < floor:
                below[row["owner__department_id"]] = (share, row)
        if not below:
            return []
        names = s.department_names(below)
        # The people behind the share: those with no process goal at all (one query).
        without: dict[int, list[int]] = {}
        for owner_id, department_id in (
            scope.counted_individual_goals()
            .filter(owner__department_id__in=list(below))
            .values("owner_id", "owner__department_id")
            .annotate(process=Sum("weight", filter=Q(kind=GoalKind.PROCESS)))
            .filter(process__isnull=True)
            .values_list("owner_id", "owner__department_id")
        ):
            without.setdefault(department_id, []).append(owner_id)
        drafts = []
        for department_id in sorted(below, key=lambda d: (names.get(d, ""), d)):
            share, row = below[department_id]
            name = names.get(department_id, f"Department {department_id}")
            owners = without.get(department_id, [])
            drafts.append(
                FindingDraft(
                    key=f"department:{department_id}",
                    severity=s.shortfall_severity(share, floor),
                    subject_type=SubjectType.DEPARTMENT,
                    subject_id=department_id,
                    subject_label=name,
                    department_id=department_id,
                    message=(
                        f"{name}: process and improvement-activity goals carry {s.shown(share)} % of the weight of "
                        f"its people's goals in {scope.period_label}; the floor is {s.as_set(floor)} %. "
                        f"{s.plural(len(owners), 'person has', 'people have')} no process goal at all."
                    ),
                    details={
                        "employees": s.capped(owners),
                        "departments": [department_id],
                        "figures": {
                            "process_goal_weight_percent": s.number(share),
                            "floor_percent": s.number(floor),
                            "goal_weight": row["total"],
                            "process_weight": row["process"] or 0,
                            "goals": row["goals"],
                            "people_without_process_goals": len(owners),
                            "periods": [p.name for p in scope.periods],
                        },
                    },
                )
            )
        return drafts
