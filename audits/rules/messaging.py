"""Inconsistent leadership messaging: teams and departments far from the organisation.

Three signs that managers convey different expectations about QI:

- **QI goal share.** A team is a manager's direct reports in scope (audits/selectors/scope.py). Its
  QI goal share is the share of the weight of the team's current individual goals (not
  cancelled, not returned) on goals linked to a quality measure. Every goal hangs under a
  priority, so "under a priority" cannot tell QI goals apart; a goal linked to a measure
  is one whose success shows on the priority's run and SPC charts — the measurable QI work
  a manager asks of the team. Compared with the same share over everyone in scope; teams
  of fewer than min_team_size are left out (too small to differ meaningfully).
- **Rating spread.** In the latest review cycle with scored appraisals, the population
  standard deviation of the scores a reviewer gave (the reviewer fixed at launch, normally
  the manager) against the organisation's: a ratio beyond max_spread_ratio either way
  means a manager rates everyone alike or far more harshly and generously than others.
- **Survey.** The latest closed survey's leadership-messaging items, by the respondents'
  department: a department whose mean differs from the organisation's by more than
  max_survey_gap. Departments with fewer than min_responses responses are never shown
  (the anonymity floor of 5, which no setting can lower).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import Count, Q, StdDev, Sum

from appraisals.models import Appraisal
from audits.models import ItemTopic, Severity, SubjectType, Survey, SurveyState
from audits.rules.base import AuditContext, FindingDraft, Rule, Threshold, register
from audits.selectors import scope as s
from audits.selectors.surveys import department_results

# Survey results for fewer respondents than this are never shown or used (PRODUCT.md: groups of 5 or more).
ANONYMITY_FLOOR = 5


@register
class InconsistentMessaging(Rule):
    key = "inconsistent_messaging"
    title = "Teams and departments far from the organisation on QI"
    pitfall = "Inconsistent leadership messaging"
    description = (
        "A manager with at least min_team_size direct reports is reported when the share of the team's current "
        "goal weight on goals linked to a quality measure differs from the organisation's by more than "
        "max_share_gap points, or when the spread (standard deviation) of the appraisal scores they gave in the "
        "latest scored review cycle is more than max_spread_ratio times the organisation's, or less than its "
        "inverse. A department is reported when its mean on the leadership-messaging items of the latest closed "
        "survey differs from the organisation's mean by more than max_survey_gap points (departments with at "
        "least min_responses responses only, never fewer than 5). Severity: high at twice a gap limit or the square "
        "of the ratio limit, medium otherwise; a department above the organisation's survey mean is low."
    )
    mitigation = (
        "Give managers a standard communication template for QI expectations and train leaders on alignment, so "
        "every team hears the same message about why QI is part of performance."
    )
    thresholds = (
        Threshold(
            key="min_team_size",
            label="Smallest team compared",
            default=Decimal("5"),
            minimum=Decimal("2"),
            maximum=Decimal("100"),
            unit="people",
            help="Managers with fewer direct reports (or fewer scored appraisals) are not compared.",
            whole=True,
        ),
        Threshold(
            key="max_share_gap",
            label="Largest gap in QI goal share",
            default=Decimal("25"),
            minimum=Decimal("1"),
            maximum=Decimal("100"),
            unit="points",
            help="Percentage points between a team's share of goal weight on measure-linked goals and the "
            "organisation's.",
        ),
        Threshold(
            key="max_spread_ratio",
            label="Largest ratio of rating spreads",
            default=Decimal("2.0"),
            minimum=Decimal("1.1"),
            maximum=Decimal("10"),
            unit="×",
            help="A team's score standard deviation this many times the organisation's, or less than its inverse.",
        ),
        Threshold(
            key="max_survey_gap",
            label="Largest gap on the survey's messaging items",
            default=Decimal("0.75"),
            minimum=Decimal("0.1"),
            maximum=Decimal("4"),
            unit="points (1–5)",
            help="Between a department's mean and the organisation's, on the latest closed survey.",
        ),
        Threshold(
            key="min_responses",
            label="Responses a department needs to be compared",
            default=Decimal(ANONYMITY_FLOOR),
            minimum=Decimal(ANONYMITY_FLOOR),
            maximum=Decimal("1000"),
            unit="responses",
            help="Never below 5: smaller groups could be recognised.",
            whole=True,
        ),
    )

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        scope = s.scope_for(ctx)
        drafts = []
        if scope.periods:
            drafts += self._qi_share(scope, int(limits["min_team_size"]), Decimal(limits["max_share_gap"]))
        drafts += self._spread(int(limits["min_team_size"]), Decimal(limits["max_spread_ratio"]))
        floor = max(int(limits.get("min_responses", ANONYMITY_FLOOR)), ANONYMITY_FLOOR)
        drafts += self._survey(Decimal(limits["max_survey_gap"]), floor)
        return drafts

    # ------------------------------------------------------------ QI goal share

    def _qi_share(self, scope: s.Scope, min_team: int, max_gap: Decimal) -> list[FindingDraft]:
        goals = scope.counted_individual_goals()
        organisation = goals.aggregate(total=Sum("weight"), qi=Sum("weight", filter=Q(measure__isnull=False)))
        org_share = s.percent(organisation["qi"] or 0, organisation["total"] or 0)
        if org_share is None:
            return []
        teams = dict(
            scope.people()
            .filter(manager__isnull=False)
            .values("manager_id")
            .annotate(n=Count("pk"))
            .filter(n__gte=min_team)
            .values_list("manager_id", "n")
        )
        if not teams:
            return []
        rows = (
            goals.filter(owner__manager_id__in=list(teams))
            .values("owner__manager_id")
            .annotate(total=Sum("weight"), qi=Sum("weight", filter=Q(measure__isnull=False)))
            .order_by()
        )
        far = {}
        for row in rows:
            share = s.percent(row["qi"] or 0, row["total"])
            if share is not None and abs(share - org_share) > max_gap:
                far[row["owner__manager_id"]] = (share, row)
        managers = s.employee_names(far)
        members: dict[int, list[int]] = {}
        for pk, manager_id in scope.people().filter(manager_id__in=list(far)).values_list("pk", "manager_id"):
            members.setdefault(manager_id, []).append(pk)
        drafts = []
        for manager_id in sorted(far, key=lambda m: (managers.get(m, ("", 0))[0], m)):
            share, row = far[manager_id]
            name, department_id = managers.get(manager_id, (f"Manager {manager_id}", None))
            gap = share - org_share
            drafts.append(
                FindingDraft(
                    key=f"team:{manager_id}:qi_share",
                    severity=s.gap_severity(abs(gap), max_gap),
                    subject_type=SubjectType.TEAM,
                    subject_id=manager_id,
                    subject_label=f"Team of {name}",
                    department_id=department_id,
                    message=(
                        f"{name}'s team of {s.plural(teams[manager_id], 'person', 'people')}: goals linked to a "
                        f"quality measure carry {s.shown(share)} % of the team's goal weight against "
                        f"{s.shown(org_share)} % across the organisation, {s.shown(abs(gap))} points "
                        f"{'higher' if gap > 0 else 'lower'}; the limit is {s.as_set(max_gap)} points."
                    ),
                    details={
                        "employees": s.capped(members.get(manager_id, [])),
                        "departments": [department_id] if department_id else [],
                        "figures": {
                            "team_size": teams[manager_id],
                            "team_qi_share_percent": s.number(share),
                            "organisation_qi_share_percent": s.number(org_share),
                            "gap_points": s.number(gap),
                            "max_share_gap": s.number(max_gap),
                            "team_goal_weight": row["total"],
                        },
                    },
                )
            )
        return drafts

    # ------------------------------------------------------------ rating spread

    def _spread(self, min_team: int, max_ratio: Decimal) -> list[FindingDraft]:
        cycle = s.latest_scored_cycle()
        if cycle is None:
            return []
        scored = Appraisal.objects.filter(participant__cycle=cycle, score__isnull=False).order_by()
        organisation = scored.aggregate(sd=StdDev("score"), n=Count("pk"))
        org_sd = float(organisation["sd"] or 0)
        if organisation["n"] < 2 or org_sd == 0:
            return []  # everyone scored alike: no team can spread differently
        rows = (
            scored.filter(participant__reviewer__isnull=False)
            .values("participant__reviewer_id")
            .annotate(sd=StdDev("score"), n=Count("pk"))
            .filter(n__gte=min_team)
        )
        limit = float(max_ratio)
        far = {}
        for row in rows:
            ratio = float(row["sd"] or 0) / org_sd
            if ratio > limit or ratio < 1 / limit:
                far[row["participant__reviewer_id"]] = (ratio, row)
        if not far:
            return []
        reviewers = s.employee_names(far)
        rated: dict[int, list[int]] = {}
        for employee_id, reviewer_id in scored.filter(participant__reviewer_id__in=list(far)).values_list(
            "participant__employee_id", "participant__reviewer_id"
        ):
            rated.setdefault(reviewer_id, []).append(employee_id)
        drafts = []
        for reviewer_id in sorted(far, key=lambda r: (reviewers.get(r, ("", 0))[0], r)):
            ratio, row = far[reviewer_id]
            name, department_id = reviewers.get(reviewer_id, (f"Reviewer {reviewer_id}", None))
            team_sd = float(row["sd"] or 0)
            # How far off, as a factor >= 1 either way (everyone scored alike is infinitely narrow).
            factor = ratio if ratio > limit else (math.inf if ratio == 0 else 1 / ratio)
            if ratio > limit:
                how = f"{ratio:.1f} times the organisation's {org_sd:.1f}: far harsher and kinder scores side by side"
            elif ratio == 0:
                how = f"against the organisation's {org_sd:.1f}: everyone got the same score"
            else:
                how = f"{ratio:.2f} times the organisation's {org_sd:.1f}: nearly everyone scored alike"
            drafts.append(
                FindingDraft(
                    key=f"team:{reviewer_id}:rating_spread",
                    severity=Severity.HIGH if factor >= limit * limit else Severity.MEDIUM,
                    subject_type=SubjectType.TEAM,
                    subject_id=reviewer_id,
                    subject_label=f"Team of {name}",
                    department_id=department_id,
                    message=(
                        f"{name} scored {s.plural(row['n'], 'appraisal')} in “{cycle.name}” with a spread (standard "
                        f"deviation) of {team_sd:.1f} points, {how}; the limit is {s.as_set(max_ratio)} times "
                        "either way."
                    ),
                    # No team mean: with the spread (zero when everyone got the same score) it
                    # would give each member's score to the finding's readers (ratings are private).
                    details={
                        "employees": s.capped(rated.get(reviewer_id, [])),
                        "departments": [department_id] if department_id else [],
                        "figures": {
                            "cycle": cycle.pk,
                            "cycle_name": cycle.name,
                            "appraisals": row["n"],
                            "team_spread": round(team_sd, 2),
                            "organisation_spread": round(org_sd, 2),
                            "ratio": round(ratio, 2),
                            "max_spread_ratio": s.number(max_ratio),
                        },
                    },
                )
            )
        return drafts

    # ------------------------------------------------------------ survey

    def _survey(self, max_gap: Decimal, floor: int) -> list[FindingDraft]:
        survey = (
            Survey.objects.filter(state=SurveyState.CLOSED, items__topic=ItemTopic.MESSAGING, responses__isnull=False)
            .distinct()
            .order_by("-closes_on", "-pk")
            .first()
        )
        if survey is None:
            return []
        # The survey pages' own results, so a department they hold back (under the floor, or held
        # back so that a smaller one cannot be worked out by subtraction) is never quoted here either.
        results = department_results(survey, topic=ItemTopic.MESSAGING)
        org_mean = results.organisation.mean
        if org_mean is None:
            return []
        organisation = {"responses": results.organisation.responses}
        far = {}
        for group in results.shown_departments:
            mean = group.mean
            if group.department is None or mean is None or group.responses < floor:
                continue
            if abs(mean - org_mean) > max_gap:
                far[group.department.pk] = (mean, group.responses)
        names = s.department_names(far)
        drafts = []
        for department_id in sorted(far, key=lambda d: (names.get(d, ""), d)):
            mean, responses = far[department_id]
            name = names.get(department_id, f"Department {department_id}")
            gap = mean - org_mean
            severity = Severity.LOW if gap > 0 else s.gap_severity(abs(gap), max_gap)
            drafts.append(
                FindingDraft(
                    key=f"survey:department:{department_id}",
                    severity=severity,
                    subject_type=SubjectType.DEPARTMENT,
                    subject_id=department_id,
                    subject_label=name,
                    department_id=department_id,
                    message=(
                        f"{name}: on the leadership-messaging items of “{survey.title}” its {responses} responses "
                        f"average {mean:.2f} against {org_mean:.2f} across the organisation, "
                        f"{abs(gap):.2f} points {'higher' if gap > 0 else 'lower'} (1–5 scale); the limit is "
                        f"{s.as_set(max_gap)} points."
                    ),
                    details={
                        "departments": [department_id],
                        "figures": {
                            "survey": survey.pk,
                            "survey_title": survey.title,
                            "responses": responses,
                            "department_mean": s.number(mean),
                            "organisation_mean": s.number(org_mean),
                            "organisation_responses": organisation["responses"],
                            "gap_points": s.number(gap),
                            "max_survey_gap": s.number(max_gap),
                        },
                    },
                )
            )
        return drafts
