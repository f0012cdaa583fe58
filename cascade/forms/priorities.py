"""Forms for quality priorities, their measures, observations and observation imports.

The forms only turn posted text into Python values; every rule (who may act, a
target on the improving side of its baseline, one value per date) lives in
cascade.services, whose ValidationErrors are put back on the form by
``core.forms.apply_service_errors`` so that the person sees them beside the field.
"""

from __future__ import annotations

from django import forms

from cascade import charts
from cascade.models import (
    Direction,
    Frequency,
    MeasureType,
    Methodology,
    PriorityStatus,
    QualityMeasure,
    QualityPriority,
)
from core.formatting import plain
from core.forms import VersionedForm
from people.models import Department, Employee

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NUMBER_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


class PriorityForm(VersionedForm):
    title = forms.CharField(max_length=200)
    aim = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What will improve, by how much, by when, for whom.",
    )
    methodology = forms.ChoiceField(choices=Methodology.choices, initial=Methodology.PDSA)
    owner = forms.ModelChoiceField(
        queryset=Employee.objects.filter(is_active=True).order_by("full_name"),
        help_text="The leader accountable for this priority.",
    )
    period_start = forms.DateField(label="Starts", widget=DATE_INPUT)
    period_end = forms.DateField(label="Ends", widget=DATE_INPUT)
    status = forms.ChoiceField(
        choices=PriorityStatus.choices,
        initial=PriorityStatus.ACTIVE,
        help_text="A retired priority stays in history; no new goals can be linked to it.",
    )

    @classmethod
    def initial_for(cls, priority: QualityPriority) -> dict[str, object]:
        return {
            "title": priority.title,
            "aim": priority.aim,
            "methodology": priority.methodology,
            "owner": priority.owner_id,
            "period_start": priority.period_start,
            "period_end": priority.period_end,
            "status": priority.status,
            "version": priority.version,
        }


class PriorityChoiceField(forms.ModelChoiceField):
    """Priorities by title, each with its years and, if retired, saying so: a priority renewed each
    year keeps its title, and the list would otherwise show the same title twice."""

    def label_from_instance(self, obj: QualityPriority) -> str:
        years = f"{obj.period_start.year}" + (
            f"–{obj.period_end.year}" if obj.period_end.year != obj.period_start.year else ""
        )
        retired = ", retired" if obj.status == PriorityStatus.RETIRED else ""
        return f"{obj.title} ({years}{retired})"


class MeasureForm(VersionedForm):
    priority = PriorityChoiceField(
        queryset=QualityPriority.objects.order_by("status", "title", "-period_start"),
        help_text="The quality priority this measure tracks.",
    )
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    measure_type = forms.ChoiceField(
        label="IHI type",
        choices=MeasureType.choices,
        help_text="Outcome: the result that matters. Process: a step that leads to it. "
        "Balancing: something that must not get worse meanwhile.",
    )
    direction = forms.ChoiceField(label="Direction of improvement", choices=Direction.choices)
    unit = forms.CharField(max_length=40, help_text="e.g. days, %, errors per 1,000 doses")
    baseline = forms.DecimalField(max_digits=14, decimal_places=4, widget=NUMBER_INPUT)
    target = forms.DecimalField(
        max_digits=14,
        decimal_places=4,
        widget=NUMBER_INPUT,
        help_text="On the improving side of the baseline: above it when higher is better, below it when lower is.",
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"), help_text="The department that owns and records this measure."
    )
    frequency = forms.ChoiceField(choices=Frequency.choices, initial=Frequency.MONTHLY)
    run_rules = forms.ChoiceField(
        label="Run chart rules",
        choices=charts.RUN_RULES,
        initial=charts.RUN_RULES[0][0],
        required=False,
        help_text="IHI: shifts of 6, trends of 5 and the runs table. Anhøj: an unusually long run, or too few "
        "crossings of the median (as qicharts2 and NHS Scotland use). The charts say which they used.",
    )

    def service_data(self) -> dict[str, object]:
        data = super().service_data()
        if not data.get("run_rules"):
            data.pop("run_rules", None)  # not sent: the measure keeps its rules (a new one, the default)
        return data

    @classmethod
    def initial_for(cls, measure: QualityMeasure) -> dict[str, object]:
        fields = (
            "name",
            "description",
            "measure_type",
            "direction",
            "unit",
            "baseline",
            "target",
            "frequency",
            "run_rules",
        )
        initial: dict[str, object] = {name: getattr(measure, name) for name in fields}
        for name in ("baseline", "target"):  # 4.0500 reads as 4.05
            initial[name] = plain(getattr(measure, name))
        initial.update(priority=measure.priority_id, department=measure.department_id, version=measure.version)
        return initial


class ObservationForm(forms.Form):
    """Numbers stay text here: cascade.services parses them, so a form and an import agree on what a number is."""

    date = forms.DateField(widget=DATE_INPUT, help_text="The date this value describes, e.g. the first of the month.")
    value = forms.CharField(max_length=40, widget=NUMBER_INPUT)
    numerator = forms.CharField(max_length=40, required=False, widget=NUMBER_INPUT, help_text="Optional, for rates.")
    denominator = forms.CharField(max_length=40, required=False, widget=NUMBER_INPUT, help_text="Optional, for rates.")


class ChangePointForm(forms.Form):
    """A change point: the date a new phase starts, and why (cascade.services.change_point_mark checks both).
    Prefixed: it shares the measure page with the observation form, which also has a date."""

    prefix = "change_point"
    date = forms.DateField(
        widget=DATE_INPUT, help_text="The first date of the new phase, e.g. the month the change was adopted."
    )
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
        help_text="What changed, e.g. the change adopted after a test of change.",
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="A .csv (UTF-8) or .xlsx file with a header row.")

    def __init__(self, *args: object, columns: tuple[str, ...] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if columns:
            self.fields["file"].help_text = (
                "A .csv (UTF-8) or .xlsx file with a header row naming the columns " + ", ".join(columns) + "."
            )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("Upload a .csv or .xlsx file.")
        return upload
