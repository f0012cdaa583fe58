"""Forms of the recognition and career-pathway pages.

They only turn posted text into Python values and lay out the choices offered; every
rule (whom one may thank, which goals one may link, what makes a pathway valid, who
may do what) lives in incentives.services.recognition / .pathways, whose
ValidationErrors ``core.forms.apply_service_errors`` puts back beside the field they are about.

No list here holds the whole organisation: colleagues are offered from the author's
own team and found by a search; goals from the author's part of the current period;
a person in the feed's filter is typed as a name or an employee ID.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms import formset_factory

from cascade import selectors as cascade_selectors
from cascade.models import Goal, GoalLevel, QualityMeasure
from competencies.models import Competency, CompetencyStatus
from core.forms import VersionField
from core.inputs import refuse_rather_than_cut
from incentives.services.pathways import PATHWAY_FIELDS
from people.models import Department, Employee

SUGGESTED_COLLEAGUES = 30  # the author's manager, peers and reports offered as ticks
PEOPLE_FOUND = 20  # search results offered at once
GOALS_OFFERED = 200  # goals in the link list: the author's, their team's, their department's
MEASURES_OFFERED = 300  # measures are the organisation's and few; a cap keeps the page bounded anyway
LEVEL_ROWS_BLANK = 2  # empty competency rows under the filled ones


# ---------------------------------------------------------------- people


def suggested_colleagues(author: Employee) -> list[Employee]:
    """Whom the author most likely thanks: their manager, the people who share it, their reports (one query)."""
    near = Q(manager=author)
    if author.manager_id:
        near |= Q(pk=author.manager_id) | Q(manager_id=author.manager_id)
    return list(
        Employee.objects.filter(near, is_active=True)
        .exclude(pk=author.pk)
        .select_related("department")
        .order_by("full_name")[:SUGGESTED_COLLEAGUES]
    )


def colleagues_matching(query: str, *, exclude: set[int]) -> list[Employee]:
    """Active people whose name, employee ID or job title matches (one query), ``exclude`` left out."""
    query = query.strip()
    if len(query) < 2:
        return []
    return list(
        Employee.objects.filter(is_active=True)
        .filter(Q(full_name__icontains=query) | Q(employee_id__iexact=query) | Q(job_title__icontains=query))
        .exclude(pk__in=exclude)
        .select_related("department")
        .order_by("full_name")[:PEOPLE_FOUND]
    )


def find_person(text: str) -> Employee:
    """One person (active or not: they may have been thanked before leaving) by employee ID, full
    name, or a part of the name that only one person has. Raises ValidationError otherwise."""
    text = text.strip()
    people = Employee.objects.select_related("department")
    found = people.filter(employee_id__iexact=text).first() or people.filter(full_name__iexact=text).first()
    if found is not None:
        return found
    named = list(people.filter(full_name__icontains=text).order_by("-is_active", "full_name")[:2])
    if len(named) == 1:
        return named[0]
    if named:
        raise ValidationError(f"More than one person matches “{text}”: type more of the name, or the employee ID.")
    raise ValidationError(f"No one has the name or employee ID “{text}”.")


# ---------------------------------------------------------------- thank a colleague


def link_choices(*, user, author: Employee, extra_goal: Goal | None = None) -> list[tuple[Any, Any]]:
    """The goals and measures a post may be linked to, grouped for a select (two queries).

    Goals: the author's and their reports' individual goals and their department's goals,
    in the period the author sees by default, all of which the author may see; a goal passed in (say from a
    goal's page) is added when the author may see it. Measures: the organisation's.
    """
    groups: dict[str, list[tuple[str, str]]] = {"Your goals": [], "Your team's goals": [], "Department goals": []}
    period = cascade_selectors.default_period_for(user)
    goals: list[Goal] = []
    if period is not None:
        near = Q(level=GoalLevel.INDIVIDUAL, owner__path__startswith=author.path) | Q(
            level=GoalLevel.FUNCTIONAL, department_id=author.department_id
        )
        goals = list(
            cascade_selectors.goals_visible_to(user=user)
            .filter(near, period=period)
            .order_by("level", "owner__full_name", "title")[:GOALS_OFFERED]
        )
    if extra_goal is not None and all(g.pk != extra_goal.pk for g in goals):
        goals.append(extra_goal)
    for goal in goals:
        if goal.level == GoalLevel.FUNCTIONAL:
            groups["Department goals"].append((f"goal:{goal.pk}", f"{goal.title} ({goal.department})"))
        elif goal.owner_id == author.pk:
            groups["Your goals"].append((f"goal:{goal.pk}", goal.title))
        else:
            owner = goal.owner.full_name if goal.owner else ""
            groups["Your team's goals"].append((f"goal:{goal.pk}", f"{goal.title} ({owner})"))
    measures = QualityMeasure.objects.select_related("priority").order_by("priority__title", "name")
    measure_rows = [(f"measure:{m.pk}", f"{m.name} ({m.priority.title})") for m in measures[:MEASURES_OFFERED]]
    choices: list[tuple[Any, Any]] = [("", "No link")]
    choices += [(label, rows) for label, rows in groups.items() if rows]
    if measure_rows:
        choices.append(("Quality measures", measure_rows))
    return choices


class ThankForm(forms.Form):
    """Whom (ticked colleagues or a department), the message, and an optional goal or measure.

    The form only parses: that someone is thanked, the message is there, and the goal is one
    the author may see are the service's rules, reported together in one answer.
    """

    recipients = forms.ModelMultipleChoiceField(
        queryset=Employee.objects.filter(is_active=True),
        required=False,
        widget=forms.MultipleHiddenInput,  # drawn by the template as ticks; see ThankForm.offered
        error_messages={"invalid_choice": "One of the people ticked has left the organisation; tick the others again."},
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        label="Or thank a whole department (team)",
        empty_label="No department",
        help_text="Everyone active in it is thanked (except you).",
    )
    message = forms.CharField(
        label="Message",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "aria-required": "true"}),
        help_text="What did they improve, and what difference did it make?",
    )
    link = forms.CharField(
        label="Linked goal or measure",
        required=False,
        widget=forms.Select,
        help_text="The goal or quality measure the improvement served. The post then shows under its priority.",
    )

    def __init__(self, data=None, *, user, author: Employee, initial: dict[str, Any] | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(data, initial=initial)
        self.user = user
        self.author = author
        wanted = (data.get("link") if data is not None else (initial or {}).get("link")) or ""
        extra_goal = self._visible_goal(wanted)
        self.fields["link"].widget.choices = link_choices(user=user, author=author, extra_goal=extra_goal)
        refuse_rather_than_cut(self)  # a message too long gets a message, not a silent cut

    def _visible_goal(self, value: str) -> Goal | None:
        kind, _, pk = value.partition(":")
        if kind != "goal" or not pk.isdigit():
            return None
        return cascade_selectors.goals_visible_to(user=self.user).filter(pk=int(pk)).first()

    def clean_link(self) -> tuple[str, int] | None:
        value = self.cleaned_data["link"]
        if not value:
            return None
        kind, _, pk = value.partition(":")
        if kind not in ("goal", "measure") or not pk.isdigit():
            raise ValidationError("Choose a goal or a measure from the list.")
        return kind, int(pk)

    def service_kwargs(self) -> dict[str, Any]:
        link = self.cleaned_data["link"]
        return {
            "recipients": list(self.cleaned_data["recipients"]),
            "department": self.cleaned_data["department"],
            "message": self.cleaned_data["message"],
            "goal": link[1] if link and link[0] == "goal" else None,
            "measure": link[1] if link and link[0] == "measure" else None,
        }

    def chosen_ids(self) -> list[int]:
        """The people ticked (as posted, or passed in), whatever else is wrong with the form."""
        if self.is_bound:
            values = self.data.getlist("recipients") if hasattr(self.data, "getlist") else []
        else:
            values = [str(v) for v in (self.initial.get("recipients") or [])]
        return [int(v) for v in values if str(v).isdigit()]

    def offered(self, suggestions: list[Employee]) -> list[tuple[Employee, bool]]:
        """The ticks to draw: everyone chosen (ticked) first, then the suggestions not chosen (one query)."""
        chosen_ids = self.chosen_ids()
        by_id = {e.pk: e for e in suggestions}
        missing = [pk for pk in chosen_ids if pk not in by_id and pk != self.author.pk]
        if missing:
            for person in Employee.objects.filter(pk__in=missing, is_active=True).select_related("department"):
                by_id[person.pk] = person
        chosen = [by_id[pk] for pk in dict.fromkeys(chosen_ids) if pk in by_id]
        rest = [e for e in suggestions if e.pk not in set(chosen_ids)]
        return [(e, True) for e in chosen] + [(e, False) for e in rest]


# ---------------------------------------------------------------- the feed's filters and hiding


class FeedFilterForm(forms.Form):
    """The feed's filters, read from the query string; a filter that does not parse is ignored and
    its message shown, so the page never fails on a hand-edited address."""

    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"), required=False, empty_label="All departments"
    )
    priority = forms.ModelChoiceField(queryset=None, required=False, empty_label="All priorities")
    person = forms.CharField(
        required=False, max_length=200, help_text="A name or an employee ID: the posts thanking that person."
    )

    def __init__(self, data=None, *, user) -> None:  # type: ignore[no-untyped-def]
        super().__init__(data)
        self.fields["priority"].queryset = cascade_selectors.priorities_visible_to(user=user).order_by("title")
        self.person: Employee | None = None

    def clean_person(self) -> Employee | None:
        text = self.cleaned_data["person"].strip()
        if not text:
            return None
        self.person = find_person(text)
        return self.person

    def filters(self) -> dict[str, int]:
        """The filters that parsed, as the selector takes them."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        filters: dict[str, int] = {}
        for name in ("department", "priority", "person"):
            value = cleaned.get(name)
            if value is not None and name not in self.errors:
                filters[name] = value.pk
        return filters


class HideForm(forms.Form):
    reason = forms.CharField(
        label="Why is this post hidden?",
        required=False,  # the service says why a reason is needed
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "aria-required": "true"}),
        help_text="Kept with the post and shown to HR. Everyone else no longer sees the post.",
    )


# ---------------------------------------------------------------- pathways


class PathwayForm(forms.Form):
    """A pathway's title and criteria. 0 means "not a criterion"; the service wants at least one."""

    version = VersionField(required=False)
    name = forms.CharField(label="Title", max_length=120, help_text="e.g. “Quality Champion”, “Process Excellence”.")
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the title stands for, shown to everyone with the criteria.",
    )
    is_active = forms.BooleanField(
        label="Active: the nightly job looks for people who meet it", required=False, initial=True
    )
    min_achieved_goals = forms.IntegerField(
        label="Achieved QI goals",
        min_value=0,
        initial=0,
        help_text="How many achieved goals are needed (0: not a criterion).",
    )
    goal_cycles = forms.IntegerField(
        label="Over how many closed cycles",
        min_value=0,
        initial=1,
        help_text="The achieved goals are counted over this many of the most recent closed cycles.",
    )
    min_recognitions = forms.IntegerField(
        label="Recognitions received",
        min_value=0,
        initial=0,
        help_text="Thank-you posts naming the person (0: not a criterion).",
    )
    min_development_actions = forms.IntegerField(
        label="Development actions completed",
        min_value=0,
        initial=0,
        help_text="Actions of their development plans marked done (0: not a criterion).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        refuse_rather_than_cut(self)  # a title too long gets a message, not a silent cut

    @staticmethod
    def initial_for(pathway) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return {name: getattr(pathway, name) for name in (*PATHWAY_FIELDS, "version")}

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class CompetencyLevelForm(forms.Form):
    """One competency level: the competency and the lowest manager rating that counts."""

    competency = forms.ModelChoiceField(queryset=Competency.objects.none(), required=False, empty_label="—")
    min_rating = forms.DecimalField(
        label="Minimum rating", required=False, max_digits=8, decimal_places=2, min_value=Decimal("0")
    )

    def __init__(self, *args: Any, competencies: QuerySet[Competency] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["competency"].queryset = competencies if competencies is not None else Competency.objects.none()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        competency, rating = cleaned.get("competency"), cleaned.get("min_rating")
        if competency is not None and rating is None and "min_rating" not in self.errors:
            self.add_error("min_rating", "Give the lowest rating that counts for this competency.")
        if competency is None and rating is not None and "competency" not in self.errors:
            self.add_error("competency", "Choose the competency this rating is for.")
        return cleaned

    def level(self) -> tuple[Competency, Decimal] | None:
        competency = self.cleaned_data.get("competency")
        rating = self.cleaned_data.get("min_rating")
        return (competency, rating) if competency is not None and rating is not None else None


CompetencyLevelFormSet = formset_factory(CompetencyLevelForm, extra=0, max_num=50, absolute_max=50)


def competencies_for(pathway=None) -> QuerySet[Competency]:  # type: ignore[no-untyped-def]
    """Active competencies, plus any retired one the pathway already names (so that it still shows)."""
    keep = Q(status=CompetencyStatus.ACTIVE)
    if pathway is not None and pathway.pk:
        keep |= Q(pk__in=pathway.competency_levels.values("competency_id"))
    return Competency.objects.filter(keep).order_by("name")


def level_formset(data=None, *, pathway=None):  # type: ignore[no-untyped-def]
    """The competency rows: the pathway's own, then empty ones — enough for the four QI
    competencies on a new pathway, two more on an existing one (or the posted rows as posted)."""
    competencies = competencies_for(pathway)
    initial = []
    if data is None and pathway is not None and pathway.pk:
        initial = [
            {"competency": row.competency_id, "min_rating": row.min_rating} for row in pathway.competency_levels.all()
        ]
    rows = initial + [{}] * max(LEVEL_ROWS_BLANK, 4 - len(initial))
    formset = CompetencyLevelFormSet(
        data, initial=rows if data is None else None, prefix="levels", form_kwargs={"competencies": competencies}
    )
    return formset
