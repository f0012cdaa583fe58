"""The Django form of the assignment rules page: which appraisal form applies to whom.

It only turns posted text into Python values; the rules (a target or the default, one
default, no duplicate) live in competencies.services.assignment and the model's constraints.
"""

from __future__ import annotations

from django import forms

from competencies.models import AppraisalForm, AssignmentRule
from core.forms import VersionedForm
from people.models import Department


class RuleForm(VersionedForm):
    form = forms.ModelChoiceField(
        label="Appraisal form",
        queryset=AppraisalForm.objects.order_by("name"),
        empty_label="Choose a form",
        help_text="A form without a published version is skipped, so the next rule down applies.",
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        empty_label="Any department",
        help_text="Applies to this department and the departments under it.",
    )
    job_title = forms.CharField(max_length=120, required=False, help_text="Matched exactly, ignoring case.")
    is_default = forms.BooleanField(
        label="Default rule (everyone no other rule matches)",
        required=False,
        help_text="The default names neither a department nor a job title.",
    )
    priority = forms.IntegerField(
        min_value=0,
        max_value=32767,
        initial=100,
        help_text="Among rules of the same kind, the lowest number wins.",
    )

    @classmethod
    def initial_for(cls, rule: AssignmentRule) -> dict[str, object]:
        return {
            "form": rule.form_id,
            "department": rule.department_id,
            "job_title": rule.job_title,
            "is_default": rule.is_default,
            "priority": rule.priority,
            "version": rule.version,
        }
