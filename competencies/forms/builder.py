"""Django forms for the appraisal-form pages: a new appraisal form, the builder of a draft,
and adding a competency or a question to it.

They only turn posted text into Python values. Every rule — weights that total
100, a frozen published version, a retired competency, one default rule — lives
in competencies.services (competencies.services.validation), whose ValidationErrors the
views put back beside the fields (``core.forms.apply_service_errors``).

Choice lists are built from rows the view has already loaded, so a builder page
with many competency rows still costs a fixed number of queries (a
ModelChoiceField would query once per select it draws).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django import forms
from django.core.exceptions import ValidationError

from competencies.models import (
    Competency,
    DialogueQuestion,
    FormCompetency,
    FormVersion,
    Methodology,
    RatingScale,
)
from core.forms import VersionedForm, VersionField

WEIGHT_INPUT_ATTRS = {"inputmode": "numeric", "min": "0", "max": "100", "step": "1", "autocomplete": "off"}


def _scale_choices(scales: Iterable[RatingScale], blank: str | None) -> list[tuple[str, str]]:
    choices = [("", blank)] if blank is not None else []
    return choices + [(str(s.pk), s.name) for s in scales]


# ---------------------------------------------------------------- forms


class FormCreateForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="As HR and managers will see it, e.g. “Nursing appraisal”.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="Who the form is for."
    )
    methodology = forms.ChoiceField(choices=Methodology.choices, initial=Methodology.GENERIC)
    goals_scale = forms.ChoiceField(
        label="Goals rating scale",
        required=False,
        help_text="How goals are rated. You can change it in the builder; competencies use it unless given their own.",
    )

    def __init__(self, *args: object, scales: Sequence[RatingScale], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.scales = {str(s.pk): s for s in scales}
        self.fields["goals_scale"].choices = _scale_choices(scales, "Choose later")

    def clean_goals_scale(self) -> RatingScale | None:
        return self.scales.get(self.cleaned_data["goals_scale"])


# ---------------------------------------------------------------- the builder


class BuilderForm(VersionedForm):
    """Everything on a draft that is typed rather than moved: section weights and the goals
    scale, each competency row's weight and scale, each dialogue question's wording.

    Numbers are checked for being numbers here; whether they add up is the service's
    question, so that its message (with the numbers that are off) is the one shown.
    """

    version = VersionField()  # every builder save names the version it was read at

    goals_weight = forms.IntegerField(
        label="Goals section weight", widget=forms.NumberInput(attrs={**WEIGHT_INPUT_ATTRS, "data-weight": "goals"})
    )
    goals_scale = forms.ChoiceField(label="Goals rating scale", required=False)
    competencies_weight = forms.IntegerField(
        label="Competencies section weight",
        widget=forms.NumberInput(attrs={**WEIGHT_INPUT_ATTRS, "data-weight": "competencies"}),
    )

    def __init__(
        self,
        *args: object,
        rows: Sequence[FormCompetency],
        questions: Sequence[DialogueQuestion],
        scales: Sequence[RatingScale],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rows, self.questions = list(rows), list(questions)
        self.scales = {str(s.pk): s for s in scales}
        self.fields["goals_scale"].choices = _scale_choices(scales, "No scale chosen")
        row_scales = _scale_choices(scales, None)
        for row in self.rows:
            name = row.competency.name
            self.fields[f"weight-{row.pk}"] = forms.IntegerField(
                label=f"Weight of {name}",
                widget=forms.NumberInput(attrs={**WEIGHT_INPUT_ATTRS, "data-weight": "competency"}),
            )
            self.fields[f"scale-{row.pk}"] = forms.ChoiceField(label=f"Rating scale of {name}", choices=row_scales)
        for q in self.questions:
            self.fields[f"question-{q.pk}-text"] = forms.CharField(
                label="Question", max_length=300, widget=forms.Textarea(attrs={"rows": 2})
            )
            self.fields[f"question-{q.pk}-help"] = forms.CharField(
                label="Help text", required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    @staticmethod
    def initial_for(
        version: FormVersion, rows: Iterable[FormCompetency], questions: Iterable[DialogueQuestion]
    ) -> dict[str, object]:
        initial: dict[str, object] = {
            "version": version.version,
            "goals_weight": version.goals_weight,
            "goals_scale": str(version.goals_scale_id or ""),
            "competencies_weight": version.competencies_weight,
        }
        for row in rows:
            initial[f"weight-{row.pk}"] = row.weight
            initial[f"scale-{row.pk}"] = str(row.scale_id)
        for q in questions:
            initial[f"question-{q.pk}-text"] = q.text
            initial[f"question-{q.pk}-help"] = q.help_text
        return initial

    def clean(self) -> dict[str, object]:
        data = super().clean()
        for name in [n for n in self.fields if n.startswith("scale-") or n == "goals_scale"]:
            if name in data:
                data[name] = self.scales.get(data[name])
        return data

    # What the view needs to render one row or question with its fields.
    def row_fields(self) -> list[tuple[FormCompetency, forms.BoundField, forms.BoundField]]:
        return [(row, self[f"weight-{row.pk}"], self[f"scale-{row.pk}"]) for row in self.rows]

    def question_fields(self) -> list[tuple[DialogueQuestion, forms.BoundField, forms.BoundField]]:
        return [(q, self[f"question-{q.pk}-text"], self[f"question-{q.pk}-help"]) for q in self.questions]

    def competency_weights(self) -> dict[int, int]:
        return {row.pk: self.cleaned_data[f"weight-{row.pk}"] for row in self.rows}

    def typed_number(self, name: str) -> int:
        """What was typed in a weight field, as a number for the totals (0 when it is none)."""
        value = self[name].value()
        try:
            return int(str(value).strip())
        except (TypeError, ValueError):
            return 0


class DetachedForm(VersionedForm):
    """A form whose fields sit inside another form's markup (the builder's), tied to their own
    <form id=...> element by the HTML ``form`` attribute: HTML forms cannot nest."""

    version = VersionField()  # every builder save names the version it was read at

    html_id = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("auto_id", f"{self.html_id}-%s")  # ids unique on the builder's page
        super().__init__(*args, **kwargs)
        for field in self.visible_fields():
            field.field.widget.attrs["form"] = self.html_id


class AddCompetencyForm(DetachedForm):
    html_id = "fb-add-competency"
    competency = forms.ChoiceField(help_text="Active competencies not yet on this form.")
    weight = forms.IntegerField(
        help_text="Share of the competencies section, in percent.",
        widget=forms.NumberInput(attrs={**WEIGHT_INPUT_ATTRS, "min": "1"}),
    )
    scale = forms.ChoiceField(label="Rating scale", required=False)

    def __init__(
        self, *args: object, competencies: Sequence[Competency], scales: Sequence[RatingScale], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.competencies = {str(c.pk): c for c in competencies}
        self.scales = {str(s.pk): s for s in scales}
        self.fields["competency"].choices = [("", "Choose a competency")] + [
            (str(c.pk), f"{c.name} · {c.category}" if c.category else c.name) for c in competencies
        ]
        self.fields["scale"].choices = _scale_choices(scales, "Same as the goals scale")

    def clean_competency(self) -> Competency:
        competency = self.competencies.get(self.cleaned_data["competency"])
        if competency is None:
            raise ValidationError("Choose a competency.")
        return competency

    def clean_scale(self) -> RatingScale | None:
        return self.scales.get(self.cleaned_data["scale"])


class AddQuestionForm(DetachedForm):
    html_id = "fb-add-question"
    text = forms.CharField(label="Question", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    help_text = forms.CharField(
        label="Help text", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Shown under it."
    )
