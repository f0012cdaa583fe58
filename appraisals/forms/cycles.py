"""Forms for HR's review-cycle pages: the cycle's set-up, per-person overrides, moving
the phase and adding people to a running cycle.

The forms only turn posted text into Python values; every rule (phase windows ordered,
not overlapping and inside the cycle; who may act; what may change once launched) lives
in appraisals.services.cycles, whose ValidationErrors are put back on the form beside
the field by ``core.forms.apply_service_errors``.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q

from appraisals.models import PHASE_ORDER, CycleMethodology, Phase, ReviewCycle
from cascade.forms.priorities import DATE_INPUT
from cascade.models import GoalPeriod
from competencies.models import FormVersion, VersionStatus
from core.forms import EveryoneField, VersionedForm, require_departments_unless_everyone
from core.inputs import id_list
from people.models import Department, Employee

__all__ = [
    "CycleForm",
    "OverrideForm",
    "ParticipantsAddForm",
    "PersonField",
    "PhaseMoveForm",
    "people_matching",
]

PEOPLE_FOUND = 20  # search results offered at once: enough to pick from, small enough to read
DATE_FIELDS = ("start", "end", *(f"{phase}_{edge}" for phase in PHASE_ORDER for edge in ("start", "end")))


def people_matching(query: str, *, limit: int = PEOPLE_FOUND) -> list[Employee]:
    """Active people whose name, employee ID or job title matches: one query, at most ``limit``."""
    query = query.strip()
    if len(query) < 2:
        return []
    return list(
        Employee.objects.filter(is_active=True)
        .filter(Q(full_name__icontains=query) | Q(employee_id__iexact=query) | Q(job_title__icontains=query))
        .select_related("department")
        .order_by("full_name")[:limit]
    )


class PersonField(forms.CharField):
    """One active person, typed as their employee ID or their full name.

    A text box rather than a list of everyone: the organisation may have 10,000 people.
    """

    default_error_messages = {
        "unknown": "No active person has the employee ID or name “%(value)s”.",
        "ambiguous": "More than one person is called “%(value)s”; type their employee ID instead.",
    }

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def clean(self, value: object) -> Employee | None:
        text = super().clean(value)
        if not text:
            return None
        active = Employee.objects.filter(is_active=True)
        found = active.filter(employee_id__iexact=text).first()
        if found is not None:
            return found
        named = list(active.filter(full_name__iexact=text)[:2])
        if len(named) == 1:
            return named[0]
        code = "ambiguous" if named else "unknown"
        raise forms.ValidationError(self.error_messages[code], code=code, params={"value": text})


def period_label(period: GoalPeriod) -> str:
    """A goal period as the cycle form offers it: name, dates, and whether it is the default or closed."""
    label = f"{period.name} ({period.start:%-d %b %Y} to {period.end:%-d %b %Y})"
    if period.is_default:
        label += ", the default period"
    if not period.is_open:
        label += ", closed"
    return label


class CycleForm(VersionedForm):
    """A cycle's name, methodology, dates and who takes part."""

    name = forms.CharField(max_length=120, help_text="e.g. “2027 performance and improvement cycle”.")
    methodology = forms.ChoiceField(
        choices=CycleMethodology.choices,
        initial=CycleMethodology.PDSA,
        help_text="DMAIC maps its five phases onto the same four activities: "
        "Define & Measure = goal setting, Analyse = check-in, Improve = review, Control = development plan.",
    )
    period = forms.ModelChoiceField(
        label="Goal period reviewed",
        queryset=GoalPeriod.objects.order_by("-start", "-pk"),
        required=False,
        empty_label="The open period that holds the Plan window",
        help_text="The participants' approved goals in this period are the goals their appraisals rate. "
        "Several cycles (one per department, say) may review the same period.",
    )
    start = forms.DateField(label="Cycle starts", widget=DATE_INPUT)
    end = forms.DateField(label="Cycle ends", widget=DATE_INPUT)
    plan_start = forms.DateField(label="Starts", widget=DATE_INPUT)
    plan_end = forms.DateField(label="Ends", widget=DATE_INPUT)
    do_start = forms.DateField(label="Starts", widget=DATE_INPUT)
    do_end = forms.DateField(label="Ends", widget=DATE_INPUT)
    study_start = forms.DateField(label="Starts", widget=DATE_INPUT)
    study_end = forms.DateField(label="Ends", widget=DATE_INPUT)
    act_start = forms.DateField(label="Starts", widget=DATE_INPUT)
    act_end = forms.DateField(label="Ends", widget=DATE_INPUT)
    include_everyone = EveryoneField(label="Who takes part")
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each chosen department takes its sub-departments with it.",
    )
    excluded = forms.ModelMultipleChoiceField(
        label="Exclusions",
        queryset=Employee.objects.all(),
        required=False,
        help_text="People left out of this cycle, e.g. long-term leave. Find them by name or employee ID.",
    )
    hired_on_or_before = forms.DateField(
        label="Hired on or before",
        widget=DATE_INPUT,
        required=False,
        help_text="People hired after this date are left out. Leave empty to include every hire date.",
    )

    def __init__(self, *args: object, is_setup: bool = True, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].label_from_instance = period_label
        # Once launched only the name may change (appraisals.services.cycles): the rest decided
        # who was launched into what. Disabled fields keep their saved values whatever is posted.
        self.is_setup = is_setup
        if not is_setup:
            for name, form_field in self.fields.items():
                if name not in {"name", "version"}:
                    form_field.disabled = True

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        require_departments_unless_everyone(self, everyone="include_everyone")
        return cleaned

    def service_data(self) -> dict[str, object]:
        return {k: v for k, v in self.cleaned_data.items() if k not in {"version", "departments", "excluded"}}

    def phase_rows(self) -> list[dict[str, object]]:
        """The four phase windows in order, each with its two date fields and its label for this methodology."""
        methodology = self["methodology"].value() or CycleMethodology.PDSA
        probes = {value: ReviewCycle(methodology=value) for value in CycleMethodology.values}
        chosen = probes.get(methodology, probes[CycleMethodology.PDSA])
        return [
            {
                "phase": phase,
                "label": chosen.phase_label(phase),
                # Both labels, so that the page relabels the windows when the methodology changes (cycles.js).
                "labels": {value: probe.phase_label(phase) for value, probe in probes.items()},
                "start": self[f"{phase}_start"],
                "end": self[f"{phase}_end"],
            }
            for phase in PHASE_ORDER
        ]

    def excluded_people(self) -> list[Employee]:
        """The people ticked as excluded, for redrawing the form (one query)."""
        value = self["excluded"].value() or []
        ids = id_list(value)
        if not ids:
            return []
        return list(Employee.objects.filter(pk__in=ids).select_related("department").order_by("full_name"))

    @classmethod
    def initial_for(cls, cycle: ReviewCycle) -> dict[str, object]:
        initial: dict[str, object] = {name: getattr(cycle, name) for name in ("name", "methodology", *DATE_FIELDS)}
        initial.update(
            period=cycle.period_id,
            include_everyone="1" if cycle.include_everyone else "0",
            departments=[d.pk for d in cycle.departments.all()],
            excluded=[e.pk for e in cycle.excluded.all()],
            hired_on_or_before=cycle.hired_on_or_before,
            version=cycle.version,
        )
        return initial


class OverrideForm(forms.Form):
    """A different form or reviewer for one person in a cycle being set up."""

    employee = PersonField(label="Person", help_text="Employee ID or full name.")
    form_version = forms.ModelChoiceField(
        label="Form",
        queryset=FormVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("form"),
        required=False,
        empty_label="By the assignment rules",
    )
    reviewer = PersonField(label="Reviewer", required=False, help_text="Leave empty for their manager at launch.")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form_version"].label_from_instance = lambda v: f"{v.form.name} (version {v.number})"

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        if not self.errors and not cleaned.get("form_version") and not cleaned.get("reviewer"):
            raise forms.ValidationError("Choose a form, a reviewer or both; otherwise the rules already apply.")
        return cleaned


class PhaseMoveForm(forms.Form):
    phase = forms.ChoiceField(choices=Phase.choices)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class ParticipantsAddForm(forms.Form):
    employees = forms.ModelMultipleChoiceField(
        label="People to add",
        queryset=Employee.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one person to add."},
    )
