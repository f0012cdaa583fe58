"""Reads for feedback surveys: the surveys and invitations a user sees, who a survey asks, and the
results with their floor.

Who may see what is audits.access (HR manages surveys and reads their results; everyone reads
their own invitations, and a survey they were not asked to answer is a 404). The floor below
is not an access rule but a privacy rule of the aggregates, so it stays with them.

Results (``department_results``) are aggregates only — per item the mean, the count of
each answer 1–5 and n — for the organisation and for each department of the respondents
(the department a person was in when they answered; sub-departments are their own groups,
never rolled up, so that no parent-minus-child subtraction exists). Nothing here ever
returns one response.

The group-size floor: a group with fewer than ``MIN_GROUP`` (5) responses is not shown
("fewer than 5 answers — not shown"). A floor alone is not enough: with the organisation
total on the page, the organisation minus the departments shown is the hidden groups'
answers, which would expose a single hidden department (or a handful of people across
two). So the *remainder* — the responses in no shown department — must be either nothing
or a group of at least ``MIN_GROUP``: while it is 1–4 responses, the smallest department
still shown is held back too (ties by name), and the remainder grows. This keeps the
organisation total, which HR needs, and costs a second department only when the numbers
would otherwise give someone away. If everything ends up held back and the whole
survey has fewer than 5 responses, the organisation is not shown either.

The floor is a constant, not a setting: no configuration can lower it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from appraisals.services.cycles import department_ids_under
from audits import access
from audits.models import ItemTopic, Survey, SurveyAnswer, SurveyInvitation, SurveyItem, SurveyResponse, SurveyState
from core.access import get_visible_or_404
from people.models import Department, Employee

User = AbstractBaseUser | AnonymousUser

# The smallest group whose answers are shown. PRODUCT.md: "results shown only for groups of 5 or more".
MIN_GROUP = 5
LIKERT_VALUES = (1, 2, 3, 4, 5)
LIKERT_LABELS = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}
FLOOR_MESSAGE = f"Fewer than {MIN_GROUP} answers — not shown."
PROTECT_MESSAGE = "Not shown, so that a smaller group's answers cannot be worked out from the organisation's total."
ORGANISATION_LABEL = "Whole organisation"


# ---------------------------------------------------------------- who


def surveys_for_hr(*, user: User) -> QuerySet[Survey]:
    """Every survey the user may manage, with its invitation counts (none for anyone but HR). One query."""
    return (
        access.surveys_visible_to(user)
        .annotate(
            invited=Count("invitations"),
            answered=Count("invitations", filter=Q(invitations__answered=True)),
        )
        .order_by("-opens_on", "-pk")
    )


def invitations_of(*, user: User) -> list[SurveyInvitation]:
    """The person's invitations to open surveys, soonest closing first (one query)."""
    return list(
        access.invitations_visible_to(user)
        .filter(survey__state=SurveyState.OPEN)
        .select_related("survey")
        .order_by("survey__closes_on", "survey_id")
    )


def get_invitation(*, user: User, survey_pk: int) -> SurveyInvitation:
    """The user's invitation to this survey, or 404: a survey nobody asked them to answer does not exist for them."""
    return get_visible_or_404(access.invitations_visible_to(user).select_related("survey"), survey_id=survey_pk)


# ---------------------------------------------------------------- the population


def population(departments: Iterable[int] | None) -> QuerySet[Employee]:
    """Who a survey asks: every active person, or those in the departments given and their
    sub-departments (``departments`` empty or None means everyone)."""
    employees = Employee.objects.filter(is_active=True)
    chosen = list(departments or ())
    if chosen:
        employees = employees.filter(department_id__in=department_ids_under(chosen))
    return employees


def survey_population(survey: Survey) -> QuerySet[Employee]:
    return population(survey.departments.values_list("pk", flat=True))


@dataclass(frozen=True)
class Turnout:
    invited: int
    answered: int

    @property
    def waiting(self) -> int:
        return self.invited - self.answered

    @property
    def rate(self) -> int | None:
        """Whole per cent of those asked who answered; None before anyone was asked."""
        return round(100 * self.answered / self.invited) if self.invited else None


def turnout(survey: Survey) -> Turnout:
    """How many were asked and how many answered — never who (one query)."""
    counts = SurveyInvitation.objects.filter(survey=survey).aggregate(
        invited=Count("pk"), answered=Count("pk", filter=Q(answered=True))
    )
    return Turnout(invited=counts["invited"], answered=counts["answered"])


# ---------------------------------------------------------------- results


def _mean(total: int, n: int) -> Decimal | None:
    if not n:
        return None
    return (Decimal(total) / Decimal(n)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class ItemResult:
    item: SurveyItem
    counts: dict[int, int]  # answer (1–5) → how many gave it

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def total(self) -> int:
        return sum(value * count for value, count in self.counts.items())

    @property
    def mean(self) -> Decimal | None:
        return _mean(self.total, self.n)

    @property
    def distribution(self) -> list[dict[str, object]]:
        """Each answer with its count and share (whole per cent), 1 first, for bars and tables."""
        n = self.n
        return [
            {
                "value": value,
                "label": LIKERT_LABELS[value],
                "count": self.counts.get(value, 0),
                "percent": round(100 * self.counts.get(value, 0) / n) if n else 0,
            }
            for value in LIKERT_VALUES
        ]

    @property
    def segments(self) -> list[dict[str, object]]:
        """The distribution as a stacked bar 100 units wide: each answer's x and width (SVG attributes,
        so no inline style is needed under the content security policy)."""
        n, x, segments = self.n, 0.0, []
        for row in self.distribution:
            width = 100 * int(row["count"]) / n if n else 0.0  # type: ignore[call-overload]
            if width:
                segments.append({**row, "x": f"{x:.2f}", "width": f"{width:.2f}"})
            x += width
        return segments


@dataclass
class GroupResult:
    """One group's results: the organisation, or one department. ``items`` is empty when not shown."""

    label: str
    department: Department | None
    responses: int
    shown: bool
    note: str = ""
    items: list[ItemResult] = field(default_factory=list)

    @property
    def mean(self) -> Decimal | None:
        """The mean over every answer to the items in view (e.g. all messaging items)."""
        if not self.shown:
            return None
        return _mean(sum(r.total for r in self.items), sum(r.n for r in self.items))

    def item(self, item_id: int) -> ItemResult | None:
        return next((r for r in self.items if r.item.pk == item_id), None)


@dataclass
class SurveyResults:
    survey: Survey
    topic: str | None
    items: list[SurveyItem]
    organisation: GroupResult
    departments: list[GroupResult]
    min_group: int = MIN_GROUP

    @property
    def shown_departments(self) -> list[GroupResult]:
        return [g for g in self.departments if g.shown]


def held_back(sizes: dict[object, int], names: dict[object, str], total: int) -> dict[object, str]:
    """Which groups not to show, and why (FLOOR_MESSAGE or PROTECT_MESSAGE).

    ``sizes`` maps each group to its responses; ``total`` is every response, including any
    in no group (a department since deleted). A group under the floor is held back; then,
    while the responses outside the shown groups number 1 to MIN_GROUP - 1 — so that the
    organisation minus the shown groups would reveal them — the smallest shown group is
    held back as well. Pure, so that the rule is tested on its own.
    """
    hidden: dict[object, str] = {key: FLOOR_MESSAGE for key, n in sizes.items() if n < MIN_GROUP}
    shown = sorted((key for key in sizes if key not in hidden), key=lambda k: (sizes[k], names.get(k, ""), str(k)))
    remainder = total - sum(sizes[key] for key in shown)
    while 0 < remainder < MIN_GROUP and shown:
        smallest = shown.pop(0)
        hidden[smallest] = PROTECT_MESSAGE
        remainder += sizes[smallest]
    return hidden


def department_results(survey: Survey, topic: str | None = None) -> SurveyResults:
    """The survey's results for the organisation and each department, with the floor applied.

    ``topic`` (an ItemTopic value) narrows the items to one topic, e.g. ``"messaging"`` for
    the inconsistent-messaging rule; each group's ``mean`` is then its mean over those items.
    Departments listed: those of the people asked (as they are now) and of the responses.
    Four queries, however many responses.
    """
    items = list(SurveyItem.objects.filter(survey=survey).order_by("position", "pk"))
    if topic:
        items = [item for item in items if item.topic == topic]
    item_ids = [item.pk for item in items]

    sizes_by_department: dict[int | None, int] = dict(
        SurveyResponse.objects.filter(survey=survey)
        .values("department_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("department_id", "n")
    )
    counts: dict[int | None, dict[int, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    rows = (
        SurveyAnswer.objects.filter(response__survey=survey, item_id__in=item_ids)
        .values("response__department_id", "item_id", "value")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("response__department_id", "item_id", "value", "n")
    )
    for department_id, item_id, value, n in rows:
        counts[department_id][item_id][value] = n

    asked = SurveyInvitation.objects.filter(survey=survey).values("employee__department_id")
    department_ids = {pk for pk in sizes_by_department if pk is not None}
    departments = {d.pk: d for d in Department.objects.filter(Q(pk__in=department_ids) | Q(pk__in=asked))}
    sizes = {pk: sizes_by_department.get(pk, 0) for pk in departments}
    names = {pk: d.name for pk, d in departments.items()}
    total = sum(sizes_by_department.values())
    hidden = held_back(sizes, names, total)  # type: ignore[arg-type]

    def result_items(by_item: dict[int, dict[int, int]]) -> list[ItemResult]:
        return [ItemResult(item=item, counts=dict(by_item.get(item.pk, {}))) for item in items]

    organisation_counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for by_item in counts.values():
        for item_id, by_value in by_item.items():
            for value, n in by_value.items():
                organisation_counts[item_id][value] += n
    organisation_shown = total >= MIN_GROUP
    organisation = GroupResult(
        label=ORGANISATION_LABEL,
        department=None,
        responses=total,
        shown=organisation_shown,
        note="" if organisation_shown else FLOOR_MESSAGE,
        items=result_items(organisation_counts) if organisation_shown else [],
    )
    groups = []
    for pk in sorted(departments, key=lambda d: (names[d].lower(), d)):
        shown = pk not in hidden
        groups.append(
            GroupResult(
                label=names[pk],
                department=departments[pk],
                responses=sizes[pk] if shown else 0,  # a held-back group's size is not told either
                shown=shown,
                note=hidden.get(pk, ""),
                items=result_items(counts.get(pk, {})) if shown else [],
            )
        )
    return SurveyResults(survey=survey, topic=topic or None, items=items, organisation=organisation, departments=groups)


def topic_choices() -> list[tuple[str, str]]:
    return [(str(value), label) for value, label in ItemTopic.choices]
