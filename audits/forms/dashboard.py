"""Forms of the alignment pages: a rule's settings, the audit schedule, HR's action on a finding.

The forms only turn posted text into Python values and check the bounds a rule declares,
so that the person sees a wrong value beside its field; the services
(audits.services.settings, audits.schedule, audits.services.findings) hold the rules and
check again. Their ValidationErrors are put back on the form by ``core.forms.apply_service_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from audits.rules.base import Rule, Threshold
from core.formatting import plain
from core.forms import VersionField

NUMBER_INPUT_ATTRS = {"inputmode": "decimal", "autocomplete": "off", "class": "threshold-input"}

# Monday first, as people read a week; the values are cron's (0 = Sunday).
WEEKDAYS: list[tuple[int, str]] = [
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (0, "Sunday"),
]


def _whole_number(value: Decimal) -> None:
    if value is not None and value != value.to_integral_value():
        raise ValidationError("Enter a whole number.", code="whole")


def range_text(threshold: Threshold) -> str:
    """ "0 to 100 %": the bounds a threshold's value must keep to."""
    unit = f" {threshold.unit}" if threshold.unit else ""
    return f"{plain(threshold.minimum)} to {plain(threshold.maximum)}{unit}"


class RuleForm(forms.Form):
    """One rule's settings: on or off, and a value per declared threshold within its bounds.

    Built from the rule's ``Threshold`` declarations; prefixed with the rule's key so that
    every rule's form can sit on one page with ids of its own.
    """

    enabled = forms.BooleanField(required=False, label="Run this check")
    version = VersionField(required=False)

    def __init__(
        self,
        rule: type[Rule],
        data: Mapping[str, object] | None = None,
        *,
        initial: Mapping[str, object] | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__(data, initial=initial, prefix=rule.key)
        self.rule = rule
        for threshold in rule.thresholds:
            help_parts = [part for part in (threshold.help, f"From {range_text(threshold)}.") if part]
            # Validator messages are %-formatted: a "%" unit must be doubled to survive.
            out_of_bounds = f"Enter a value from {range_text(threshold)}.".replace("%", "%%")
            field = forms.DecimalField(
                label=threshold.label,
                min_value=threshold.minimum,
                max_value=threshold.maximum,
                help_text=" ".join(help_parts),
                widget=forms.TextInput(attrs=dict(NUMBER_INPUT_ATTRS)),
                validators=[_whole_number] if threshold.whole else [],
                error_messages={
                    "required": f"Enter a value for “{threshold.label}”.",
                    "invalid": "Enter a number, such as 60 or 12.5.",
                    "min_value": out_of_bounds,
                    "max_value": out_of_bounds,
                },
            )
            field.unit = threshold.unit  # type: ignore[attr-defined]
            field.threshold = threshold  # type: ignore[attr-defined]
            self.fields[threshold.key] = field
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    @classmethod
    def initial_for(cls, *, enabled: bool, limits: Mapping[str, Decimal], version: int | None) -> dict[str, object]:
        initial: dict[str, object] = {"enabled": enabled, "version": version}
        initial.update({key: plain(value) for key, value in limits.items()})
        return initial

    def threshold_fields(self) -> list[forms.BoundField]:
        return [self[t.key] for t in self.rule.thresholds]

    def thresholds(self) -> dict[str, Decimal]:
        return {t.key: self.cleaned_data[t.key] for t in self.rule.thresholds}


class ScheduleForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Run audits on this schedule")
    days_of_week = forms.TypedMultipleChoiceField(
        label="Days",
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    hour = forms.IntegerField(
        label="Hour",
        min_value=0,
        max_value=23,
        help_text="0 to 23, in the server's time zone.",
        widget=forms.NumberInput(attrs={"class": "time-input"}),
    )
    minute = forms.IntegerField(
        label="Minute",
        min_value=0,
        max_value=59,
        help_text="0 to 59.",
        widget=forms.NumberInput(attrs={"class": "time-input"}),
    )

    def __init__(self, *args: object, read_only: bool = False, **kwargs: object) -> None:
        super().__init__(*args, prefix="schedule", **kwargs)  # type: ignore[arg-type]
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        # A paused schedule may keep no days; one that runs needs at least one.
        if cleaned.get("enabled") and not cleaned.get("days_of_week") and "days_of_week" not in self.errors:
            self.add_error("days_of_week", "Tick at least one day for the audit to run on.")
        return cleaned


class FindingActionForm(forms.Form):
    """HR acknowledges a finding (a comment is welcome) or resolves it (a comment is required)."""

    ACTIONS = [("acknowledge", "Acknowledge"), ("resolve", "Resolve")]

    action = forms.ChoiceField(
        choices=ACTIONS,
        widget=forms.HiddenInput,  # the value comes from the button pressed
        error_messages={
            "required": "Press “Acknowledge” or “Resolve”.",
            "invalid_choice": "Press “Acknowledge” or “Resolve”.",
        },
    )
    comment = forms.CharField(
        required=False,
        max_length=4000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was done or decided, and by whom. Required to resolve.",
    )
    version = VersionField(required=False)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == "resolve" and not cleaned.get("comment"):
            self.add_error("comment", "Say how it was resolved: a comment is required to resolve a finding.")
        return cleaned


class FindingFilterForm(forms.Form):
    """The findings list's filters, read from the query string; a value that is not offered is ignored."""

    status = forms.ChoiceField(label="Status", required=False)
    pitfall = forms.ChoiceField(label="Pitfall", required=False)
    rule = forms.ChoiceField(label="Check", required=False)
    severity = forms.ChoiceField(label="Severity", required=False)
    department = forms.TypedChoiceField(label="Department", required=False, coerce=int, empty_value=None)
    # Bounded as an id column is: past 64 bits SQLite raises OverflowError (a 500).
    run = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    change = forms.ChoiceField(
        required=False,
        choices=[("", ""), ("new", "new"), ("seen", "seen"), ("closed", "closed")],
        widget=forms.HiddenInput,
    )

    def __init__(
        self,
        data: Mapping[str, object] | None,
        *,
        statuses: list[tuple[str, str]],
        pitfalls: list[tuple[str, str]],
        rules: list[tuple[str, str]],
        severities: list[tuple[str, str]],
        departments: list[tuple[int, str]],
    ) -> None:
        super().__init__(data)
        self.fields["status"].choices = statuses
        self.fields["pitfall"].choices = [("", "Any pitfall"), *pitfalls]
        self.fields["rule"].choices = [("", "Any check"), *rules]
        self.fields["severity"].choices = [("", "Any severity"), *severities]
        self.fields["department"].choices = [("", "Any department"), (0, "Whole organisation"), *departments]

    def wanted(self) -> dict[str, object]:
        """The valid filters only: a stale link with a wrong value still lists something."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned[name] for name in self.fields if name in cleaned and name not in self.errors}
