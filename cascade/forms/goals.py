"""Forms for goal pages. They collect and type the input; the rules stay in
cascade.services, cascade.workflow and cascade.progress, whose refusals are put
back on the fields they concern by ``core.forms.apply_service_errors`` (with
``SERVICE_FIELD_TO_FORM``)."""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet

from cascade import access
from cascade.models import (
    Confidence,
    Goal,
    GoalKind,
    GoalLevel,
    GoalPeriod,
    GoalStatus,
    PriorityStatus,
    ProgressMode,
    QualityMeasure,
    QualityPriority,
)
from core.formatting import plain
from core.forms import VersionField
from core.inputs import refuse_rather_than_cut
from people import access as people
from people.models import Department, Employee

# The service names two fields for what the form asks as one question: what the goal serves.
SERVICE_FIELD_TO_FORM = {"priority": "parent", "parent_goal": "parent"}
PRIORITY_PREFIX = "priority:"
GOAL_PREFIX = "goal:"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class MeasureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: QualityMeasure) -> str:
        return f"{obj.name} ({obj.unit}) — {obj.priority.title}"


class OwnerChoiceField(forms.ModelChoiceField):
    """People named as HR knows them: two Ward Managers are told apart by job title and department."""

    def label_from_instance(self, obj: Employee) -> str:
        role = ", ".join(part for part in (obj.job_title, obj.department.name if obj.department_id else "") if part)
        return f"{obj.full_name} — {role} ({obj.employee_id})" if role else f"{obj.full_name} ({obj.employee_id})"


def _model_field(name: str, **kwargs) -> forms.Field:
    """The form field Django would make for a Goal field, so labels and limits stay in the model."""
    return Goal._meta.get_field(name).formfield(**kwargs)


def owner_choices(user) -> QuerySet[Employee]:
    """People this user may draft individual goals for: themselves and everyone under them; HR, everyone."""
    return people.employees_visible_to(user=user).select_related("department").order_by("full_name")


def department_choices(user) -> QuerySet[Department]:
    """Departments this user may draft department goals for (cascade.access)."""
    return access.departments_draftable_by(user).order_by("name")


class GoalForm(forms.Form):
    """Create or edit one goal. ``parent`` is one choice: a quality priority or a department goal."""

    version = VersionField(required=False)
    owner = OwnerChoiceField(queryset=Employee.objects.none(), label="Whose goal")
    department = forms.ModelChoiceField(queryset=Department.objects.none(), label="Department")
    title = _model_field("title")
    description = _model_field("description", widget=forms.Textarea(attrs={"rows": 3}))
    parent = forms.ChoiceField(
        label="Serves",
        help_text="The quality priority this goal serves, or the department goal it contributes to.",
    )
    contributing_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(),
        required=False,
        label="Shared with",
        help_text="Other departments that contribute to this goal.",
        widget=forms.CheckboxSelectMultiple,
    )
    weight = forms.IntegerField(
        min_value=1,
        max_value=100,
        label="Weight (%)",
        help_text="Its share among the owner's goals for the period; they must total 100 to be submitted.",
    )
    kind = forms.ChoiceField(choices=GoalKind.choices, initial=GoalKind.RESULT, label="Kind")
    measure = MeasureChoiceField(queryset=QualityMeasure.objects.none(), required=False, label="Linked measure")
    progress_mode = forms.ChoiceField(
        choices=ProgressMode.choices, initial=ProgressMode.MANUAL, label="How progress is tracked"
    )
    baseline = _model_field("baseline", help_text="Where things stand now (defaults to the measure's).")
    target = _model_field("target", help_text="Where they should be by the due date (defaults to the measure's).")
    due_date = _model_field("due_date", widget=DateInput)
    improvement_hours_per_month = _model_field("improvement_hours_per_month", min_value=0)
    status = forms.ChoiceField(
        choices=[(v, label) for v, label in GoalStatus.choices if v != GoalStatus.CANCELLED],
        label="Outcome",
        required=False,
        help_text="Closing it as achieved or not achieved is its approver’s sign-off: "
        "anyone else asks, with “Ask to close” on the goal’s page.",
    )

    def __init__(
        self,
        data=None,
        *,
        user,
        level: str,
        period: GoalPeriod,
        goal: Goal | None = None,
        initial: dict | None = None,
    ) -> None:
        self.user = user
        self.level = level
        self.period = period
        self.goal = goal
        super().__init__(data, initial={**(self._initial_from(goal) if goal else {}), **(initial or {})})
        if goal is not None:
            # Owner, department and period are fixed once a goal exists.
            del self.fields["owner"], self.fields["department"]
        else:
            del self.fields["status"]
            if level == GoalLevel.INDIVIDUAL:
                del self.fields["department"]
                self.fields["owner"].queryset = owner_choices(user)
            else:
                del self.fields["owner"]
                self.fields["department"].queryset = department_choices(user)
        if level == GoalLevel.FUNCTIONAL:
            self.fields["contributing_departments"].queryset = Department.objects.order_by("name")
        else:
            del self.fields["contributing_departments"]
        self._set_parent_choices()
        self._set_measure_choices()
        if not self.is_bound:
            self._preselect_only_choice("owner")
            self._preselect_only_choice("department")
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.NumberInput):
                field.widget.attrs.setdefault("inputmode", "decimal" if name != "weight" else "numeric")
        refuse_rather_than_cut(self)  # a title too long gets a message, not a silent cut
        # The service refuses a due date outside the period; the date picker offers only those.
        due = self.fields["due_date"]
        due.widget.attrs.update(min=period.start.isoformat(), max=period.end.isoformat())
        due.help_text = (
            f"Within {period}: {period.start.day} {period.start:%b %Y} to {period.end.day} {period.end:%b %Y}."
        )

    def _preselect_only_choice(self, name: str) -> None:
        """One possible answer is given, not asked: an employee without reports writes only their own
        goals, and a head of one department (not their own) drafts only for the department they head."""
        field = self.fields.get(name)
        if field is None:
            return
        only = list(field.queryset.values_list("pk", flat=True)[:2])
        if len(only) == 1:
            self.initial[name] = only[0]
            field.empty_label = None

    @staticmethod
    def _initial_from(goal: Goal) -> dict:
        parent = (
            f"{GOAL_PREFIX}{goal.parent_goal_id}" if goal.parent_goal_id else f"{PRIORITY_PREFIX}{goal.priority_id}"
        )
        return {
            "version": goal.version,
            "title": goal.title,
            "description": goal.description,
            "parent": parent,
            "contributing_departments": list(goal.contributing_departments.all())
            if goal.level == GoalLevel.FUNCTIONAL
            else [],
            "weight": goal.weight,
            "kind": goal.kind,
            "measure": goal.measure_id,
            "progress_mode": goal.progress_mode,
            "baseline": goal.baseline,
            "target": goal.target,
            "due_date": goal.due_date,
            "improvement_hours_per_month": goal.improvement_hours_per_month,
            "status": goal.status,
        }

    # ------------------------------------------------------------ choices

    def _set_parent_choices(self) -> None:
        priorities = access.priorities_visible_to(self.user).filter(status=PriorityStatus.ACTIVE)
        if self.goal is not None:  # a goal under a since-retired priority keeps it as a choice
            priorities = access.priorities_visible_to(self.user).filter(
                Q(status=PriorityStatus.ACTIVE) | Q(pk=self.goal.priority_id)
            )
        self._priorities = {p.pk: p for p in priorities.order_by("title")}
        self._parent_goals: dict[int, Goal] = {}
        if self.level == GoalLevel.INDIVIDUAL:
            goals = (
                access.goals_visible_to(self.user)
                .filter(level=GoalLevel.FUNCTIONAL, period=self.period, priority__status=PriorityStatus.ACTIVE)
                .exclude(status=GoalStatus.CANCELLED)
            )
            if self.goal is not None and self.goal.parent_goal_id:
                goals = access.goals_visible_to(self.user).filter(
                    Q(pk__in=goals.values("pk")) | Q(pk=self.goal.parent_goal_id)
                )
            self._parent_goals = {g.pk: g for g in goals.order_by("department__name", "title")}
        choices: list = [("", "Choose…")]
        choices.append(
            ("Quality priorities", [(f"{PRIORITY_PREFIX}{pk}", p.title) for pk, p in self._priorities.items()])
        )
        if self._parent_goals:
            choices.append(
                (
                    "Department goals",
                    [
                        (f"{GOAL_PREFIX}{pk}", f"{g.title} — {g.department.name} (for {g.priority.title})")
                        for pk, g in self._parent_goals.items()
                    ],
                )
            )
        self.fields["parent"].choices = choices
        if self.level == GoalLevel.FUNCTIONAL:
            self.fields["parent"].help_text = "The quality priority this department goal serves."

    def _set_measure_choices(self) -> None:
        measures = access.measures_visible_to(self.user).filter(priority__status=PriorityStatus.ACTIVE)
        if self.goal is not None and self.goal.measure_id:
            measures = access.measures_visible_to(self.user).filter(
                Q(priority__status=PriorityStatus.ACTIVE) | Q(pk=self.goal.measure_id)
            )
        self.fields["measure"].queryset = measures.order_by("name")

    @staticmethod
    def parent_value(raw: str | None, level: str) -> str:
        """Normalise a ``?parent=`` link value: ``priority:3``, ``goal:12``, or a bare id (a department
        goal for an individual goal, a priority for a department goal)."""
        raw = (raw or "").strip()
        if raw.startswith((PRIORITY_PREFIX, GOAL_PREFIX)):
            return raw
        if raw.isdigit():
            return f"{GOAL_PREFIX if level == GoalLevel.INDIVIDUAL else PRIORITY_PREFIX}{raw}"
        return ""

    # ------------------------------------------------------------ cleaning

    def clean_parent(self) -> tuple[QualityPriority | None, Goal | None]:
        value = self.cleaned_data["parent"]
        kind, _, pk = value.partition(":")
        try:
            key = int(pk)
        except ValueError:
            raise forms.ValidationError("Choose what this goal serves.") from None
        if f"{kind}:" == PRIORITY_PREFIX and key in self._priorities:
            return self._priorities[key], None
        if f"{kind}:" == GOAL_PREFIX and key in self._parent_goals:
            goal = self._parent_goals[key]
            return goal.priority, goal
        raise forms.ValidationError("Choose what this goal serves.")

    def service_data(self) -> dict[str, object]:
        """The cleaned input in the shape cascade.services expects."""
        data = self.cleaned_data
        priority, parent_goal = data["parent"]
        result: dict[str, object] = {
            "title": data["title"],
            "description": data["description"],
            "priority": priority,
            "parent_goal": parent_goal,
            "weight": data["weight"],
            "kind": data["kind"],
            "measure": data["measure"],
            "progress_mode": data["progress_mode"],
            "baseline": data["baseline"],
            "target": data["target"],
            "due_date": data["due_date"],
            "improvement_hours_per_month": data["improvement_hours_per_month"],
        }
        if "owner" in self.fields:
            result["owner"] = data["owner"]
        if "department" in self.fields:
            result["department"] = data["department"]
        if "status" in self.fields and data.get("status"):
            result["status"] = data["status"]
        return result

    def changed_service_data(self, goal: Goal) -> dict[str, object]:
        """Only what differs from the goal as stored, so that an approved goal's outcome can be
        recorded without reopening it, while any other change meets the service's refusal."""
        changed = {}
        for name, value in self.service_data().items():
            current = getattr(goal, name)
            if name in {"priority", "parent_goal", "measure"}:
                same = (current.pk if current else None) == (value.pk if value else None)
            else:
                same = current == value
            if not same:
                changed[name] = value
        if "parent_goal" in changed or "priority" in changed:
            # The parent decides the priority; send both so the service sees a consistent pair.
            wanted = self.service_data()
            changed["priority"], changed["parent_goal"] = wanted["priority"], wanted["parent_goal"]
        return changed

    def contributing(self) -> list[Department] | None:
        if "contributing_departments" not in self.fields:
            return None
        return list(self.cleaned_data["contributing_departments"])

    def contributing_changed(self, goal: Goal) -> bool:
        wanted = self.contributing()
        if wanted is None:
            return False
        return {d.pk for d in wanted} != {d.pk for d in goal.contributing_departments.all()}


class ProgressUpdateForm(forms.Form):
    """A progress update: a percentage or a measured value, a confidence and a comment.

    For a goal whose progress comes from its measure or from the goals under it, only
    the confidence and comment are asked.
    """

    percent = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        label="Progress (%)",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    value = forms.DecimalField(
        required=False,
        max_digits=14,
        decimal_places=4,
        label="Latest value",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    confidence = forms.TypedChoiceField(
        choices=Confidence.choices,
        coerce=int,
        initial=Confidence.MEDIUM,
        label="How confident are you of reaching it?",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="What happened")

    def __init__(self, data=None, *, goal: Goal, derived: bool) -> None:
        super().__init__(data)
        self.goal = goal
        self.derived = derived
        if derived:
            # Nothing to type but a comment, so the comment is the update.
            del self.fields["percent"], self.fields["value"]
            self.fields["comment"].required = True
            self.fields["comment"].error_messages["required"] = "Say what has happened."
        elif goal.baseline is None or goal.target is None:
            del self.fields["value"]
        else:
            baseline, target = plain(goal.baseline), plain(goal.target)
            self.fields["value"].help_text = f"Or the latest value: baseline {baseline}, target {target}."

    def service_kwargs(self) -> dict[str, object]:
        data = self.cleaned_data
        return {
            "percent": data.get("percent"),
            "value": data.get("value"),
            "confidence": data["confidence"],
            "comment": data.get("comment", ""),
        }


class ReviewForm(forms.Form):
    """Approve (comment optional) or return (comment required, checked by the workflow) one goal set."""

    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Comment",
        help_text="Optional when approving; say what should change when returning.",
    )


class ReopenForm(forms.Form):
    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why reopen it?",
        help_text="Shown to the approver with the changed goal.",
    )

    def __init__(self, *args, **kwargs) -> None:
        # The goal page also shows the progress form, whose comment box would take the same id;
        # only the id changes, so the posted field is still called "comment".
        kwargs.setdefault("auto_id", "id_reopen_%s")
        super().__init__(*args, **kwargs)


class CancelRequestForm(forms.Form):
    """The owner asks the approver to cancel an approved goal (the reason is required by the workflow)."""

    prefix = "ask"
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the goal should be cancelled, so that its approver can decide."},
        label="Why should it be cancelled?",
        help_text="Sent to the approver, who cancels the goal or keeps it.",
    )


class CancelForm(forms.Form):
    """Cancelling a goal (the approver or HR once it was approved); the reason is optional."""

    prefix = "cancel"
    version = VersionField(required=False)
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason",
        help_text="Kept in the goal set’s history and sent to the owner.",
    )


class KeepForm(forms.Form):
    """The approver declines a request to cancel the goal, saying why (required by the workflow)."""

    prefix = "keep"
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the goal stays, so that the person who asked knows."},
        label="Why does the goal stay?",
        help_text="Sent to the person who asked.",
    )


RESULT_CHOICES = [(GoalStatus.ACHIEVED.value, "Achieved"), (GoalStatus.NOT_ACHIEVED.value, "Not achieved")]


class CloseRequestForm(forms.Form):
    """The owner asks the approver to close the goal with a result (both required by the workflow)."""

    prefix = "close"
    result = forms.ChoiceField(
        choices=RESULT_CHOICES,
        widget=forms.RadioSelect,
        label="Result",
        error_messages={"required": "Choose the result: achieved or not achieved."},
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say what was achieved (or not), so that its approver can sign it off."},
        label="What was achieved?",
        help_text="Sent to the approver, who signs the result off or declines.",
    )


class SignOffForm(forms.Form):
    """The approver (or HR) closes the goal and signs its result off; the comment is optional."""

    prefix = "signoff"
    version = VersionField(required=False)
    result = forms.ChoiceField(
        choices=RESULT_CHOICES,
        widget=forms.RadioSelect,
        label="Result",
        error_messages={"required": "Choose the result: achieved or not achieved."},
    )
    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Comment",
        help_text="Sent to the owner with the result.",
    )


class CloseDeclineForm(forms.Form):
    """The approver declines a request to close the goal, saying why (required by the workflow)."""

    prefix = "closeno"
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the goal stays open, so that the person who asked knows."},
        label="Why does it stay open?",
        help_text="Sent to the person who asked.",
    )


class GoalImportForm(forms.Form):
    file = forms.FileField(
        label="Goals file",
        help_text="A .csv (UTF-8) or .xlsx file with one goal per row and a header row.",
    )
    period = forms.ModelChoiceField(
        queryset=GoalPeriod.objects.order_by("-start"),
        label="Goal period",
        empty_label=None,
        help_text="The new goals are drafts in this period.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("Upload a .csv or .xlsx file.")
        return upload
