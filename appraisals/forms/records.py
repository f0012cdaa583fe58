"""Forms of the review pages: the appraisal draft (saved automatically), the check-in,
and the development plan with its actions.

They read what was posted and hand it to appraisals.services, which decide who may
write what in which state; a refusal comes back as a ValidationError that
``core.forms.apply_service_errors`` puts on the field it is about. The appraisal form posts
whatever fields the page showed as editable, and the service refuses a field the
user may no longer write (say, after submitting in another tab), rather than the
view silently dropping the text.

The appraisal form also lays out its page: each goal and competency as a
``RatedItem`` with the self and manager ``Side`` beside each other, each level of the
scale as a radio ``LevelChoice`` with its descriptor (and the behavioural indicator
at that level for a competency), showing the posted input when a save was refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Max, Q

from appraisals.models import ActionStatus, DevelopmentAction, Participant
from competencies.models import BehaviouralIndicator, Competency
from core.formatting import plain
from core.forms import VersionField, apply_service_errors

# ---------------------------------------------------------------- the appraisal


@dataclass
class LevelChoice:
    id: str
    value: str
    label: str
    descriptor: str
    indicator: str
    checked: bool


@dataclass
class Side:
    """One side (self or manager) of one rated goal or competency, as this reader sees it."""

    key: str  # "self" or "manager"
    title: str
    editable: bool
    hidden: bool
    hidden_text: str
    rating_name: str
    text_name: str
    text_label: str
    rating: str
    text: str
    levels: list[LevelChoice]
    errors: list[str] = field(default_factory=list)

    @property
    def chosen(self) -> LevelChoice | None:
        return next((level for level in self.levels if level.value == self.rating and self.rating), None)


@dataclass
class RatedItem:
    kind: str  # "goal" or "competency"
    row: Any  # appraisals.selectors.GoalRow or CompetencyRow
    sides: list[Side]
    errors: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # the goal's chart, badge and caution

    @property
    def label(self) -> str:
        return self.row.title if self.kind == "goal" else self.row.name


@dataclass
class QuestionItem:
    row: Any  # appraisals.selectors.QuestionRow
    name: str
    editable: bool
    text: str
    errors: list[str] = field(default_factory=list)


class AppraisalDraftForm(forms.Form):
    """The appraisal as one form: ratings and comments of the user's side, dialogue answers
    and the employee's comment. Field names do not say the side: the service writes the
    employee's to the self side and the reviewer's to the manager side."""

    version = VersionField()
    employee_comment = forms.CharField(required=False, widget=forms.Textarea)

    def __init__(self, data=None, *, page) -> None:  # type: ignore[no-untyped-def]
        super().__init__(data, initial={"version": page.appraisal.version})
        self.page = page
        text = {"required": False, "widget": forms.Textarea}
        for row in page.goals:
            self.fields[f"goal-{row.id}-rating"] = forms.CharField(required=False)
            self.fields[f"goal-{row.id}-comment"] = forms.CharField(**text)
        for row in page.competencies:
            self.fields[f"competency-{row.id}-rating"] = forms.CharField(required=False)
            self.fields[f"competency-{row.id}-evidence"] = forms.CharField(**text)
        for row in page.questions:
            self.fields[f"answer-{row.id}"] = forms.CharField(**text)

    # ------------------------------------------------------------ what may be written

    @property
    def editable_side(self) -> str | None:
        access = self.page.access
        if access.can_edit_self:
            return "self"
        if access.can_edit_manager:
            return "manager"
        return None

    @property
    def own_side(self) -> str | None:
        """The side this reader writes when the appraisal is open for them."""
        access = self.page.access
        return "self" if access.is_employee else "manager" if access.is_reviewer else None

    def kept(self, name: str) -> bool:
        """Posted by the person or reviewer in a refused save: shown in its field again."""
        access = self.page.access
        return self.is_bound and name in self.data and (access.is_employee or access.is_reviewer)

    @property
    def writes_anything(self) -> bool:
        access = self.page.access
        return bool(self.editable_side or access.can_edit_answers or access.can_comment)

    # ------------------------------------------------------------ to the service

    def service_kwargs(self) -> dict[str, Any]:
        """What was posted, in the shape of ``appraisal_save_draft``; absent fields are left alone."""
        data = self.cleaned_data
        posted = self.data

        def item(prefix: str, pk: int, text_name: str) -> dict[str, Any] | None:
            rating, text = f"{prefix}-{pk}-rating", f"{prefix}-{pk}-{text_name}"
            found = {}
            if rating in posted:
                found["rating"] = data.get(rating) or None
            if text in posted:
                found[text_name] = data.get(text, "")
            return found or None

        kwargs: dict[str, Any] = {}
        goals = {row.id: item("goal", row.id, "comment") for row in self.page.goals}
        if goals := {pk: value for pk, value in goals.items() if value}:
            kwargs["goal_ratings"] = goals
        rows = {row.id: item("competency", row.id, "evidence") for row in self.page.competencies}
        if rows := {pk: value for pk, value in rows.items() if value}:
            kwargs["competency_ratings"] = rows
        answers = {
            row.id: data.get(f"answer-{row.id}", "") for row in self.page.questions if f"answer-{row.id}" in posted
        }
        if answers:
            kwargs["answers"] = answers
        if "employee_comment" in posted:
            kwargs["employee_comment"] = data.get("employee_comment", "")
        return kwargs

    def apply_service_errors(self, exc: ValidationError) -> None:
        names = {"comment": "employee_comment"}
        for row in self.page.goals:
            names[f"goal_ratings.{row.id}"] = names[f"goal_ratings.{row.id}.rating"] = f"goal-{row.id}-rating"
            names[f"goal_ratings.{row.id}.comment"] = f"goal-{row.id}-comment"
        for row in self.page.competencies:
            key = f"competency_ratings.{row.id}"
            names[key] = names[f"{key}.rating"] = f"competency-{row.id}-rating"
            names[f"{key}.evidence"] = f"competency-{row.id}-evidence"
        for row in self.page.questions:
            names[f"answers.{row.id}"] = names[f"answers.{row.id}.text"] = f"answer-{row.id}"
        apply_service_errors(self, exc, names)

    def with_version(self, version: int) -> AppraisalDraftForm:
        """The same input, based on another stored version: after a conflict, saving again is a deliberate overwrite."""
        data = self.data.copy()
        data["version"] = str(version)
        form = AppraisalDraftForm(data, page=self.page)
        form.is_valid()
        return form

    # ------------------------------------------------------------ laying out the page

    def _value(self, name: str, stored: Any, editable: bool) -> str:
        """The posted input for an editable field of a refused save, else what is stored."""
        if editable and self.is_bound and name in self.data:
            return self.data.get(name, "")
        return stored if isinstance(stored, str) else plain(stored)

    def _errors_of(self, *names: str) -> list[str]:
        if not self.is_bound:
            return []
        return [message for name in names for message in self.errors.get(name, [])]

    def _side(self, key: str, prefix: str, row: Any, text_name: str, scale, indicators: dict[int, str]) -> Side:  # type: ignore[no-untyped-def]
        page = self.page
        access = page.access
        rating_name, text_field = f"{prefix}-{row.id}-rating", f"{prefix}-{row.id}-{text_name}"
        # After a refused save, the person's own posted input stays in its fields even if the
        # appraisal has moved on meanwhile (say, submitted in another tab): nothing typed is lost.
        posted = self.is_bound and (rating_name in self.data or text_field in self.data)
        editable = self.editable_side == key or (posted and self.own_side == key)
        hidden = (page.manager_hidden if key == "manager" else page.self_hidden) and not editable
        employee = page.employee.full_name
        reviewer = page.reviewer.full_name if page.reviewer else "the reviewer"
        if key == "self":
            title = "Your self-assessment" if access.is_employee else f"{employee}’s self-assessment"
            hidden_text = f"{employee}’s self-assessment appears here once they submit it."
            stored_rating, stored_text = row.self_rating, getattr(row, f"self_{text_name}")
        else:
            title = "Your review" if access.is_reviewer else f"Manager’s review ({reviewer})"
            hidden_text = f"{reviewer}’s ratings and comments appear here once they share them with you."
            stored_rating, stored_text = row.manager_rating, getattr(row, f"manager_{text_name}")
        rating = plain(self._value(rating_name, stored_rating, editable))
        levels = []
        if scale is not None:
            for level in scale.levels:
                value = plain(level.value)
                levels.append(
                    LevelChoice(
                        id=f"{rating_name}-{key}-{level.order}",
                        value=value,
                        label=level.label,
                        descriptor=level.descriptor,
                        indicator=level.indicator or indicators.get(level.order, ""),
                        checked=bool(rating) and value == rating,
                    )
                )
        return Side(
            key=key,
            title=title,
            editable=editable,
            hidden=hidden,
            hidden_text=hidden_text,
            rating_name=rating_name,
            text_name=text_field,
            text_label="Comment" if text_name == "comment" else "Evidence",
            rating=rating,
            text=self._value(text_field, stored_text, editable),
            levels=levels,
            errors=self._errors_of(rating_name, text_field) if editable else [],
        )

    def goal_items(self) -> list[RatedItem]:
        scale = self.page.goals_scale
        return [
            RatedItem(
                kind="goal",
                row=row,
                sides=[self._side(key, "goal", row, "comment", scale, {}) for key in ("self", "manager")],
            )
            for row in self.page.goals
        ]

    def competency_items(self) -> list[RatedItem]:
        items = []
        for row in self.page.competencies:
            indicators = {i.level: i.text for i in row.indicators}
            items.append(
                RatedItem(
                    kind="competency",
                    row=row,
                    sides=[
                        self._side(key, "competency", row, "evidence", row.scale, indicators)
                        for key in ("self", "manager")
                    ],
                )
            )
        return items

    def question_items(self) -> list[QuestionItem]:
        items = []
        for row in self.page.questions:
            name = f"answer-{row.id}"
            editable = self.page.access.can_edit_answers or self.kept(name)
            items.append(
                QuestionItem(
                    row=row,
                    name=name,
                    editable=editable,
                    text=self._value(name, row.answer, editable),
                    errors=self._errors_of(name),
                )
            )
        return items

    @property
    def comment_editable(self) -> bool:
        return self.page.access.can_comment or (self.page.access.is_employee and self.kept("employee_comment"))

    def comment_value(self) -> str:
        return self._value("employee_comment", self.page.employee_comment, self.comment_editable)

    def comment_errors(self) -> list[str]:
        return self._errors_of("employee_comment")


# ---------------------------------------------------------------- the check-in

CHECKIN_FIELDS = ("employee_notes", "obstacles", "manager_notes", "coaching_notes")


class CheckInForm(forms.Form):
    version = VersionField()
    employee_notes = forms.CharField(label="Employee’s notes", required=False, widget=forms.Textarea(attrs={"rows": 5}))
    obstacles = forms.CharField(
        label="Obstacles",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What stands in the way of the goals: both of you can write here.",
    )
    manager_notes = forms.CharField(label="Manager’s notes", required=False, widget=forms.Textarea(attrs={"rows": 5}))
    coaching_notes = forms.CharField(
        label="Coaching notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the manager will do to help, and what to try next.",
    )

    def service_data(self) -> dict[str, str]:
        """The notes fields that were posted (the service refuses the ones this user may not write)."""
        return {name: self.cleaned_data.get(name, "") for name in CHECKIN_FIELDS if name in self.data}


# ---------------------------------------------------------------- the development plan


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class PlanForm(forms.Form):
    version = VersionField()
    summary = forms.CharField(
        label="Summary",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the person will develop next, and why: the thread that ties the actions together.",
    )


def plan_competencies(participant: Participant, current: Competency | None = None):  # type: ignore[no-untyped-def]
    """The competencies on the person's appraisal form (and an action's current one, retired or not)."""
    condition = Q(form_rows__version_id=participant.form_version_id)
    if current is not None:
        condition |= Q(pk=current.pk)
    return Competency.objects.filter(condition).distinct().order_by("name")


def top_level(participant: Participant) -> int:
    """The highest behavioural-indicator level of the form's competencies (5 when they have none)."""
    top = BehaviouralIndicator.objects.filter(competency__form_rows__version_id=participant.form_version_id).aggregate(
        top=Max("level")
    )["top"]
    return top or 5


class ActionForm(forms.Form):
    """A development action: added while the plan is open; changed (``status`` too) later."""

    version = VersionField(required=False)
    description = forms.CharField(label="Action", max_length=300)
    competency = forms.ModelChoiceField(
        label="Competency", queryset=Competency.objects.none(), required=False, empty_label="—"
    )
    target_level = forms.TypedChoiceField(label="Target level", required=False, coerce=int, empty_value=None)
    due_date = forms.DateField(label="Due", required=False, widget=DateInput)
    status = forms.ChoiceField(label="Status", choices=ActionStatus.choices, required=False)

    def __init__(
        self,
        data=None,  # type: ignore[no-untyped-def]
        *,
        participant: Participant,
        levels: int,
        action: DevelopmentAction | None = None,
        status_only: bool = False,
        **kwargs: Any,
    ) -> None:
        if action is not None:
            kwargs.setdefault("prefix", f"action-{action.pk}")
            kwargs.setdefault(
                "initial",
                {
                    "description": action.description,
                    "competency": action.competency_id,
                    "target_level": action.target_level,
                    "due_date": action.due_date,
                    "status": action.status,
                },
            )
        super().__init__(data, **kwargs)
        self.action = action
        self.status_only = status_only
        self.fields["competency"].queryset = plan_competencies(participant, action.competency if action else None)
        self.fields["target_level"].choices = [("", "—")] + [(n, f"Level {n}") for n in range(1, levels + 1)]
        if action is None:
            del self.fields["status"]
        if status_only:
            for name in ("description", "competency", "target_level", "due_date"):
                del self.fields[name]

    def service_data(self) -> dict[str, Any]:
        """For ``action_update``: the fields that changed."""
        data = self.cleaned_data
        changed: dict[str, Any] = {}
        action = self.action
        if "description" in self.fields and data["description"] != action.description:
            changed["description"] = data["description"]
        if "competency" in self.fields and (data["competency"] and data["competency"].pk) != action.competency_id:
            changed["competency"] = data["competency"]
        if "target_level" in self.fields and data["target_level"] != action.target_level:
            changed["target_level"] = data["target_level"]
        if "due_date" in self.fields and data["due_date"] != action.due_date:
            changed["due_date"] = data["due_date"]
        if data.get("status") and data["status"] != action.status:
            changed["status"] = data["status"]
        return changed
