"""Data and helpers the competencies tests share (not fixtures: those are in conftest.py).

Test modules import from here, never from one another.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from competencies.models import FormVersion
from people.models import Employee

PLAIN_LEVELS = [
    {"value": 1, "label": "Unsatisfactory", "descriptor": "Well below what was agreed."},
    {"value": 2, "label": "Needs improvement", "descriptor": "Gaps."},
    {"value": 3, "label": "Meets expectations", "descriptor": "As agreed."},
    {"value": 4, "label": "Exceeds expectations", "descriptor": "More than agreed."},
    {"value": 5, "label": "Outstanding", "descriptor": "Exceptional."},
]


def user_of(employee: Employee):  # type: ignore[no-untyped-def]
    """A fresh user object: the selectors cache the employee record on it."""
    return get_user_model().objects.get(pk=employee.user_id)


# ---------------------------------------------------------------- the admin's change page of a version

FROZEN = "Version 1 of “Nursing appraisal” is published, so it cannot change."


def admin_form_data(response) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What the change page would post back unchanged: the main form and every inline."""
    data: dict[str, object] = {}

    def add(form) -> None:  # type: ignore[no-untyped-def]
        for name in form.fields:
            value = form[name].value()
            if value is False or value is None:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[f"{formset.prefix}-{name}"] = management[name].value()
        for form in formset.forms:
            add(form)
    return data


def change_url(version: FormVersion) -> str:
    return f"/admin/competencies/formversion/{version.pk}/change/"


def admin_state(version: FormVersion) -> tuple:
    version = FormVersion.objects.get(pk=version.pk)
    return (
        version.status,
        version.version,
        version.goals_weight,
        version.competencies_weight,
        list(version.competencies.values_list("competency_id", "weight", "order")),
        list(version.questions.values_list("key", "text", "order")),
    )
