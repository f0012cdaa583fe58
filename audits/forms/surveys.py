"""Forms of the survey pages: HR's survey definition with its rows of statements, and the answer form.

The forms only turn posted text into Python values; the rules (what may change once a survey
is open, the window, at least one statement, answers 1–5 from a person asked, once) live in
audits.services.surveys, whose ValidationErrors are put back beside the fields by
``core.forms.apply_service_errors``.

The statements are plain numbered rows (``items-<n>-text``, ``items-<n>-topic``,
``items-<n>-id``) with buttons to add, remove and move a row; each button posts the form and
the page comes back with the rows changed and nothing saved, so everything works from the
keyboard and without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django import forms
from django.forms.utils import ErrorDict

from audits.models import ItemTopic, Survey, SurveyItem
from audits.selectors.surveys import LIKERT_LABELS, LIKERT_VALUES
from cascade.forms.priorities import DATE_INPUT
from core.forms import EveryoneField, VersionedForm, require_departments_unless_everyone
from people.models import Department

__all__ = [
    "AnswerForm",
    "ItemRow",
    "SurveyForm",
    "apply_row_action",
    "check_rows",
    "rows_as_items",
    "rows_for",
    "rows_from_post",
]

ITEM_PREFIX = "items"
MAX_ROWS = 40


class SurveyForm(VersionedForm):
    """A survey's title, introduction, window, reminders and who is asked."""

    title = forms.CharField(max_length=200, help_text="e.g. “Quality improvement pulse, spring”.")
    introduction = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown above the statements and in the invitation: why you ask, and what you will do with it.",
    )
    opens_on = forms.DateField(
        label="Opens on", widget=DATE_INPUT, help_text="The invitations go out that morning once it is scheduled."
    )
    closes_on = forms.DateField(label="Closes on", widget=DATE_INPUT, help_text="The last day to answer.")
    reminder_every_days = forms.IntegerField(
        label="Remind those who have not answered every",
        min_value=1,
        max_value=60,
        initial=7,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "survey-days"}),
        help_text="Days, 1 to 60. Only people who have not answered are reminded.",
    )
    everyone = EveryoneField(label="Who is asked")
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each chosen department takes its sub-departments with it. Active people only.",
    )

    def __init__(self, *args: object, is_open: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.is_open = is_open
        if is_open:
            # Who is asked and when it opened decided the invitations already sent.
            for name in ("opens_on", "everyone", "departments"):
                self.fields[name].disabled = True

    def quiet(self) -> SurveyForm:
        """Show what was typed without judging it yet: a row button was pressed, not Save."""
        self._errors = ErrorDict()
        return self

    @classmethod
    def initial_for(cls, survey: Survey) -> dict[str, object]:
        departments = list(survey.departments.all())
        return {
            "title": survey.title,
            "introduction": survey.introduction,
            "opens_on": survey.opens_on,
            "closes_on": survey.closes_on,
            "reminder_every_days": survey.reminder_every_days,
            "everyone": EveryoneField.initial_for(departments),
            "departments": departments,
            "version": survey.version,
        }

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        require_departments_unless_everyone(self, message="Choose at least one department, or ask everyone.")
        opens_on, closes_on = cleaned.get("opens_on"), cleaned.get("closes_on")
        if opens_on and closes_on and closes_on < opens_on:
            self.add_error(
                "closes_on", f"The survey must close on or after the day it opens ({opens_on.day} {opens_on:%B %Y})."
            )
        return cleaned

    def service_data(self) -> dict[str, object]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in {"version", "everyone", "departments"}}
        if self.is_open:
            data.pop("opens_on", None)
        return data

    def chosen_departments(self) -> list[Department]:
        return [] if self.cleaned_data.get("everyone") else list(self.cleaned_data.get("departments") or [])


# ---------------------------------------------------------------- the rows of statements


@dataclass
class ItemRow:
    id: int | None
    text: str
    topic: str
    error: str = ""

    @property
    def topic_label(self) -> str:
        return ItemTopic(self.topic).label if self.topic in ItemTopic.values else self.topic


def rows_for(survey: Survey) -> list[ItemRow]:
    return [
        ItemRow(id=item.pk, text=item.text, topic=item.topic)
        for item in SurveyItem.objects.filter(survey=survey).order_by("position", "pk")
    ]


def rows_from_post(data: Mapping[str, str]) -> list[ItemRow]:
    """The rows as posted, in order; a row left wholly empty is dropped."""
    try:
        count = min(int(data.get(f"{ITEM_PREFIX}-count", "0")), MAX_ROWS + 1)
    except ValueError:
        count = 0
    rows = []
    for index in range(count):
        text = (data.get(f"{ITEM_PREFIX}-{index}-text") or "").strip()
        topic = data.get(f"{ITEM_PREFIX}-{index}-topic") or ItemTopic.OTHER
        raw_id = data.get(f"{ITEM_PREFIX}-{index}-id") or ""
        if f"{ITEM_PREFIX}-{index}-text" not in data:
            continue
        rows.append(ItemRow(id=int(raw_id) if raw_id.isdigit() else None, text=text, topic=str(topic)))
    return rows


def apply_row_action(rows: list[ItemRow], action: str) -> tuple[list[ItemRow], str]:
    """Add, remove or move a row as a button asked ("add", "remove-2", "up-2", "down-2"); returns
    the rows and a sentence saying what happened (read out to screen-reader users)."""
    rows = list(rows)
    if action == "add":
        if len(rows) >= MAX_ROWS:
            return rows, f"A survey holds at most {MAX_ROWS} statements."
        rows.append(ItemRow(id=None, text="", topic=str(ItemTopic.OTHER)))
        return rows, f"Statement {len(rows)} was added at the end."
    verb, _, number = action.partition("-")
    if not number.isdigit() or not 0 <= int(number) < len(rows):
        return rows, ""
    index = int(number)
    if verb == "remove":
        rows.pop(index)
        return rows, f"Statement {index + 1} was removed."
    target = index - 1 if verb == "up" else index + 1 if verb == "down" else None
    if target is None or not 0 <= target < len(rows):
        return rows, ""
    rows[index], rows[target] = rows[target], rows[index]
    return rows, f"Statement {index + 1} is now statement {target + 1}."


def check_rows(rows: list[ItemRow]) -> bool:
    """Mark each row's problem beside it; True when every row is fine (the service checks again)."""
    topics = set(ItemTopic.values)
    max_length = SurveyItem._meta.get_field("text").max_length
    for row in rows:
        if not row.text:
            row.error = "Write the statement people rate, or remove the row."
        elif len(row.text) > max_length:
            row.error = f"Keep it to {max_length} characters."
        elif row.topic not in topics:
            row.error = "Choose one of the topics."
    return all(not row.error for row in rows)


def rows_as_items(rows: Sequence[ItemRow]) -> list[dict[str, object]]:
    return [{"id": row.id, "text": row.text, "topic": row.topic} for row in rows]


# ---------------------------------------------------------------- answering


class AnswerForm(forms.Form):
    """One required choice, 1–5, per statement of the survey (``item_<id>``)."""

    def __init__(self, items: Sequence[SurveyItem], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.TypedChoiceField(
                label=item.text,
                choices=[(str(v), LIKERT_LABELS[v]) for v in LIKERT_VALUES],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Choose an answer for this statement.",
                    "invalid_choice": "Choose one of the five answers.",
                },
            )

    def rows(self) -> list[dict[str, object]]:
        """Each statement with its field, for the template's fieldsets."""
        return [{"item": item, "field": self[f"item_{item.pk}"], "number": n} for n, item in enumerate(self.items, 1)]

    def values(self) -> dict[int, int]:
        return {item.pk: self.cleaned_data[f"item_{item.pk}"] for item in self.items}
