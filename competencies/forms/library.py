"""Forms for the competency library and rating scale pages.

They only turn posted text into Python values; every rule (HR only, at least two
levels, values that strictly increase, labels of their own, a locked scale) lives in
competencies.services (competencies.services.validation). ``apply_competency_errors`` puts the
service's messages back beside the field or the level row they are about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory

from competencies.models import Competency, Methodology, RatingScale
from competencies.services.validation import MAX_LEVELS
from core.formatting import plain
from core.forms import VersionedForm, apply_service_errors

DEFAULT_LEVELS = 5
NUMBER_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "class": "level-row__number"})
# "level 3", "Level 3:", "levels 1 and 3": the positions the validation messages name.
LEVEL_POSITIONS = re.compile(r"\b[Ll]evels? (\d+)(?: and (\d+))?")
QUOTED = re.compile(r"“[^”]*”")  # a label quoted in a message, which may itself read "Level 4"


def mentioned_level(message: str) -> int | None:
    """The level a validation message is about: the highest position it names
    (level 3 of "level 3 … is not above level 2"; the repeat in "levels 1 and 3")."""
    unquoted = QUOTED.sub("", message)
    positions = [int(n) for match in LEVEL_POSITIONS.finditer(unquoted) for n in match.groups() if n]
    return max(positions) if positions else None


def apply_competency_errors(form: forms.Form, exc: ValidationError) -> None:
    """``core.forms.apply_service_errors``, with each message about a competency's indicators put
    beside the level it names."""
    if isinstance(form, CompetencyForm) and "indicators" in getattr(exc, "error_dict", {}):
        errors = dict(exc.message_dict)
        for message in errors.pop("indicators"):
            level = mentioned_level(message)
            name = CompetencyForm.indicator_name(level) if level else None
            form.add_error(name if name in form.fields else None, message)
        if not errors:
            return
        exc = ValidationError(errors)
    apply_service_errors(form, exc)


# ---------------------------------------------------------------- competencies


class CompetencyForm(VersionedForm):
    """Name, description, category and one behavioural indicator per proficiency level.

    Five levels are offered; "Add a level" offers one more, up to ten. Trailing empty
    levels are left out, so a competency may describe fewer levels.
    """

    name = forms.CharField(max_length=120)
    category = forms.CharField(
        max_length=80,
        required=False,
        initial="Quality improvement",
        help_text="Competencies are grouped by category in the library.",
        widget=forms.TextInput(attrs={"list": "competency-categories", "autocomplete": "off"}),
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the competency is about, in a sentence or two.",
    )

    def __init__(self, *args: object, levels: int = DEFAULT_LEVELS, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.level_count = max(1, min(levels, MAX_LEVELS))
        for level in range(1, self.level_count + 1):
            self.fields[self.indicator_name(level)] = forms.CharField(
                label=f"Level {level}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    @staticmethod
    def indicator_name(level: int) -> str:
        return f"indicator_{level}"

    @classmethod
    def levels_posted(cls, data: Mapping[str, object]) -> int:
        """How many indicator fields a posted form had (the JavaScript may have added some)."""
        found = [int(key.removeprefix("indicator_")) for key in data if re.fullmatch(r"indicator_\d+", key)]
        return max([DEFAULT_LEVELS, *found])

    @classmethod
    def initial_for(cls, competency: Competency) -> dict[str, object]:
        initial: dict[str, object] = {
            "name": competency.name,
            "category": competency.category,
            "description": competency.description,
            "version": competency.version,
        }
        for indicator in competency.indicators.all():
            initial[cls.indicator_name(indicator.level)] = indicator.text
        return initial

    @classmethod
    def levels_for(cls, competency: Competency) -> int:
        return max([DEFAULT_LEVELS, *(i.level for i in competency.indicators.all())])

    @property
    def can_add_level(self) -> bool:
        return self.level_count < MAX_LEVELS

    def indicator_fields(self) -> list[forms.BoundField]:
        return [self[self.indicator_name(level)] for level in range(1, self.level_count + 1)]

    def detail_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("name", "category", "description")]

    def indicators(self) -> list[str]:
        """Texts lowest level first, without the empty levels at the end."""
        texts = [self.cleaned_data[self.indicator_name(level)] for level in range(1, self.level_count + 1)]
        while texts and not texts[-1].strip():
            texts.pop()
        return texts

    def service_data(self) -> dict[str, object]:
        return {name: self.cleaned_data[name] for name in ("name", "description", "category")}

    def raw_values(self) -> dict[str, object]:
        """What was typed, as initial values for the same form drawn again (with one more level)."""
        return {name: self[name].value() for name in self.fields}


class CompetencyStatusForm(VersionedForm):
    """Retire or reinstate; the action is named, so that a repeated click cannot undo itself."""

    action = forms.ChoiceField(choices=[("retire", "Retire"), ("reinstate", "Reinstate")])


# ---------------------------------------------------------------- rating scales


class ScaleForm(VersionedForm):
    name = forms.CharField(max_length=120)
    methodology = forms.ChoiceField(
        choices=Methodology.choices,
        initial=Methodology.GENERIC,
        help_text="The improvement approach this scale is written for.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    @classmethod
    def initial_for(cls, scale: RatingScale) -> dict[str, object]:
        return {
            "name": scale.name,
            "methodology": scale.methodology,
            "description": scale.description,
            "version": scale.version,
        }

    def raw_values(self) -> dict[str, object]:
        return {name: self[name].value() for name in self.fields}


class LevelForm(forms.Form):
    """One level as typed. The value stays a number here; whether the values increase,
    and whether the labels differ, is for the service to judge across all levels."""

    value = forms.DecimalField(widget=NUMBER_INPUT)
    label = forms.CharField(max_length=80)
    descriptor = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="What this level looks like in practice."
    )
    order = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=99,
        widget=forms.NumberInput(attrs={"class": "level-row__order"}),
        help_text="Position, lowest first.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.service_messages: list[str] = []  # the service's own sentences, shown without a field prefix


class BaseLevelFormSet(forms.BaseFormSet):
    def kept_forms(self) -> list[forms.Form]:
        """The levels to save, lowest first: not removed, not left blank, sorted by their order
        (rows without one go last, in the order shown). Call after ``is_valid()``."""
        kept = [
            (index, form)
            for index, form in enumerate(self.forms)
            if form.has_changed() or index < self.initial_form_count()
            if not self._should_delete_form(form)
        ]
        kept.sort(key=lambda pair: (pair[1].cleaned_data.get("order") or 1000, pair[0]))
        return [form for _, form in kept]

    def level_specs(self) -> list[dict[str, object]]:
        return [
            {name: form.cleaned_data[name] for name in ("value", "label", "descriptor")} for form in self.kept_forms()
        ]

    def add_service_errors(self, messages: list[str]) -> None:
        """Each message beside the row it names (by its position among the kept levels), else above the levels."""
        kept = self.kept_forms()
        for message in messages:
            level = mentioned_level(message)
            if level is None or not 1 <= level <= len(kept):
                self._non_form_errors.append(message)  # type: ignore[union-attr]
                continue
            row = kept[level - 1]
            row.service_messages.append(message)
            row.add_error("label" if "label" in QUOTED.sub("", message) else "value", message)

    def raw_rows(self) -> list[dict[str, object]]:
        """What was typed in each row not removed and not blank, to draw again with an empty row added."""
        rows = []
        for form in self.forms:
            if form["DELETE"].value():
                continue
            row = {name: form[name].value() for name in ("value", "label", "descriptor", "order")}
            if any(str(v or "").strip() for v in row.values()):
                rows.append(row)
        return rows


LEVELS_PREFIX = "levels"


def level_formset(
    data: Mapping[str, object] | None = None, *, initial: list[dict[str, object]] | None = None, extra: int = 0
) -> BaseLevelFormSet:
    """The levels' formset; ``extra`` empty rows are offered after the given ones (blank ones are not saved)."""
    formset_class = formset_factory(
        LevelForm,
        formset=BaseLevelFormSet,
        extra=extra,
        can_delete=True,
        max_num=MAX_LEVELS,
        absolute_max=MAX_LEVELS * 2,
    )
    return formset_class(data, initial=initial, prefix=LEVELS_PREFIX)


def level_initial(scale: RatingScale) -> list[dict[str, object]]:
    return [
        {"value": plain(level.value), "label": level.label, "descriptor": level.descriptor, "order": position}
        for position, level in enumerate(sorted(scale.levels.all(), key=lambda lv: lv.order), start=1)
    ]
