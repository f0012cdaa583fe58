"""Forms for HR's incentive-plan pages: a plan's set-up, its components, the target-bonus
import and a payout's adjustment.

The forms only turn posted text into Python values; every rule (weights totalling 100,
a cap above the threshold, amounts to the penny, a reason for each adjustment, nothing
changing once approved) lives in incentives.services.plans, whose ValidationErrors are
put back on the form beside the field by ``core.forms.apply_service_errors``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from appraisals.models import ReviewCycle
from cascade.forms.priorities import NUMBER_INPUT
from core.forms import VersionedForm
from core.inputs import refuse_rather_than_cut
from incentives.models.plans import ComponentKind, IncentivePlan
from people.models import Department, Employee

__all__ = [
    "AdjustForm",
    "ComponentForm",
    "PlanForm",
    "TargetImportForm",
    "add_component_errors",
    "component_formset",
    "department_choices",
]

# The service names a component's error "components[2].cap": the row it was given and the field.
COMPONENT_ERROR = re.compile(r"^components\[(\d+)\]\.(\w+)$")


def department_choices() -> list[tuple[int, str]]:
    """Every department labelled with its parents ("Hospital › Nursing"), in tree order, so that
    choosing a parent visibly takes its sub-departments with it (one query)."""
    rows = {pk: (name, parent) for pk, name, parent in Department.objects.values_list("pk", "name", "parent_id")}

    def label(pk: int) -> str:
        names, seen = [], set()
        while pk in rows and pk not in seen:
            seen.add(pk)
            names.append(rows[pk][0])
            pk = rows[pk][1]  # type: ignore[assignment]
        return " › ".join(reversed(names))

    return sorted(((pk, label(pk)) for pk in rows), key=lambda choice: choice[1].casefold())


class PlanForm(VersionedForm):
    """A plan's cycle, name and eligible population."""

    cycle = forms.ModelChoiceField(
        queryset=ReviewCycle.objects.order_by("-start", "-pk"),
        label="Review cycle",
        help_text="The plan pays on this cycle's goals and appraisal scores; its participants are the people it can pay.",
    )
    name = forms.CharField(max_length=160, help_text="e.g. “Clinical quality bonus”.")
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.all(),
        label="Eligible departments",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each department ticked takes its sub-departments with it. None ticked: every department.",
    )
    job_titles = forms.MultipleChoiceField(
        label="Eligible job titles",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every job title.",
    )
    minimum_tenure_months = forms.IntegerField(
        label="Minimum tenure (months)",
        required=False,
        min_value=0,
        max_value=600,
        initial=0,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text="Counted from the hire date to the end of the cycle; 0 for no minimum. "
        "Someone with no hire date on record is left out when a minimum applies.",
    )

    def __init__(self, *args: object, plan: IncentivePlan | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departments"].choices = department_choices()
        # The job titles people hold now, plus any the plan already names (someone may have left).
        titles = set(
            Employee.objects.filter(is_active=True).exclude(job_title="").values_list("job_title", flat=True).distinct()
        )
        if plan is not None:
            titles.update(plan.job_titles)
            # A plan stays in its cycle (its payouts are that cycle's): the service cannot move it.
            self.fields["cycle"].disabled = True
            self.fields["cycle"].help_text = "A plan stays in the cycle it was created for."
        self.fields["job_titles"].choices = [(t, t) for t in sorted(titles, key=str.casefold)]

    @classmethod
    def initial_for(cls, plan: IncentivePlan) -> dict[str, object]:
        return {
            "cycle": plan.cycle_id,
            "name": plan.name,
            "departments": list(plan.departments.values_list("pk", flat=True)),
            "job_titles": list(plan.job_titles),
            "minimum_tenure_months": plan.minimum_tenure_months,
            "version": plan.version,
        }

    def service_data(self) -> dict[str, object]:
        return {
            "name": self.cleaned_data["name"],
            "job_titles": self.cleaned_data["job_titles"],
            "minimum_tenure_months": self.cleaned_data["minimum_tenure_months"] or 0,
        }


PERCENT_INPUT = NUMBER_INPUT


class ComponentForm(forms.Form):
    """One component row. A new row starts blank (no kind chosen) so that an untouched one is
    left out rather than refused."""

    kind = forms.ChoiceField(choices=[("", "Choose…"), *ComponentKind.choices], label="Kind")
    name = forms.CharField(max_length=160, required=False, label="Name")
    weight = forms.IntegerField(
        label="Weight %",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 4}),
    )
    threshold = forms.DecimalField(
        label="Threshold %", required=False, initial=Decimal("0"), max_digits=6, decimal_places=2, widget=PERCENT_INPUT
    )
    cap = forms.DecimalField(
        label="Cap %", required=False, initial=Decimal("100"), max_digits=6, decimal_places=2, widget=PERCENT_INPUT
    )
    achievement = forms.DecimalField(
        label="Achievement %", required=False, max_digits=6, decimal_places=2, widget=PERCENT_INPUT
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        refuse_rather_than_cut(self)  # a name too long gets a message, not a silent cut

    def service_row(self) -> dict[str, object]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "name": data.get("name") or "",
            "weight": data["weight"],
            "threshold": data.get("threshold"),
            "cap": data.get("cap"),
            "achievement": data.get("achievement"),
        }


ComponentFormSet = forms.formset_factory(ComponentForm, extra=0, can_delete=True)


def component_formset(data=None, *, initial=None, add_row: bool = False):  # type: ignore[no-untyped-def]
    """The components' formset; ``add_row`` gives the posted rows back with one blank row more."""
    if data is not None and add_row:
        data = data.copy()
        key = "components-TOTAL_FORMS"
        try:
            data[key] = str(int(data.get(key, "0")) + 1)
        except ValueError:
            data[key] = "1"
    return ComponentFormSet(data, initial=initial, prefix="components")


def add_component_errors(formset, rows: list[int], exc: ValidationError) -> list[str]:  # type: ignore[no-untyped-def]
    """Put the service's row errors beside their fields; return the rest (e.g. the weights total).

    ``rows[i]`` is the formset index of the i-th component given to the service (removed and
    blank rows are not given)."""
    left: list[str] = []
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    for key, messages in exc.message_dict.items():
        match = COMPONENT_ERROR.match(key)
        if match and int(match.group(1)) < len(rows):
            form = formset.forms[rows[int(match.group(1))]]
            field = match.group(2)
            form.add_error(field if field in form.fields else None, messages)
        else:
            left.extend(messages)
    return left


class TargetImportForm(forms.Form):
    file = forms.FileField(
        label="CSV or Excel (XLSX) file",
        help_text="Two columns with these headings: employee_id (as in the org chart) and amount "
        "(e.g. 1500 or 1500.00). Every row is checked first: one wrong row and nothing is imported.",
    )


class AdjustForm(VersionedForm):
    """HR's new amount for a payout and why. Both are checked by the service, which says
    exactly what is wrong (a reason is required and kept in the history)."""

    amount = forms.CharField(
        label="New amount (£)",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text="In pounds and pence, e.g. 1750 or 1750.50.",
    )
    adjustment_reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "aria-required": "true"}),
        help_text="Required. Kept in the payout's history, with your name and the time.",
    )
