"""The form HR adds a goal period with; cascade.services.period_create holds the rules."""

from __future__ import annotations

from django import forms

from cascade.forms.priorities import DATE_INPUT
from cascade.models import GoalPeriod


class GoalPeriodForm(forms.Form):
    name = forms.CharField(
        max_length=GoalPeriod._meta.get_field("name").max_length,
        help_text="e.g. “2027” or “2027 first half”.",
        error_messages={"max_length": "Keep the name to %(limit_value)d characters (it has %(show_value)d)."},
    )
    start = forms.DateField(label="Starts", widget=DATE_INPUT)
    end = forms.DateField(label="Ends", widget=DATE_INPUT)
