"""Form glue every app shares: service errors onto fields, the versioned edit form, and the
"everyone or these departments" picker.

Forms only turn posted text into Python values; the rules live in each app's services, whose
``ValidationError`` comes back onto the form with ``apply_service_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from core.inputs import refuse_rather_than_cut

__all__ = [
    "EVERYONE_CHOICES",
    "VERSION_MISSING",
    "EveryoneField",
    "VersionField",
    "VersionedForm",
    "apply_service_errors",
    "require_departments_unless_everyone",
]

VERSION_MISSING = "This page is out of date: reload it, then make your change again."


def apply_service_errors(form: forms.Form, exc: ValidationError, names: Mapping[str, str] | None = None) -> None:
    """Put a service's ValidationError on the form: by field where the form has it (``names`` maps a
    service key to a form field), else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, messages in exc.message_dict.items():
        name = (names or {}).get(key, key)
        if name != NON_FIELD_ERRORS and name in form.fields:
            form.add_error(name, messages)
        else:
            form.add_error(None, messages)


class VersionField(forms.IntegerField):
    """The hidden version an edit page was read at; a stale save answers 409, a missing or
    garbled one says the page is out of date."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("error_messages", {"required": VERSION_MISSING, "invalid": VERSION_MISSING})
        super().__init__(**kwargs)


class VersionedForm(forms.Form):
    """An edit form that carries the version it was read at, so that a stale save answers 409.

    Text boxes lose their ``maxlength``: a title too long gets a message beside it rather than
    being cut short by the browser without a word (``core.inputs.refuse_rather_than_cut``).
    A form whose every save must name its version declares ``version = VersionField()``.
    """

    version = VersionField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        refuse_rather_than_cut(self)

    def service_data(self) -> dict[str, object]:
        """The cleaned values the service takes: all but the version."""
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


# ---------------------------------------------------------------- everyone or these departments

EVERYONE_CHOICES = [("1", "Everyone in the organisation"), ("0", "Only the departments chosen below")]


class EveryoneField(forms.TypedChoiceField):
    """The first half of the "everyone or these departments" picker: two radios, read as a bool.

    The second half is the app's ``ModelMultipleChoiceField`` of departments (ticks); the form's
    ``clean`` calls ``require_departments_unless_everyone``. Templates draw both with
    ``partials/_field.html``.
    """

    def __init__(self, *, label: str = "Who is asked", **kwargs: Any) -> None:
        kwargs.setdefault("initial", "1")
        super().__init__(label=label, choices=EVERYONE_CHOICES, coerce=_is_everyone, widget=forms.RadioSelect, **kwargs)

    @staticmethod
    def initial_for(departments: object) -> str:
        """The radio to show for a record: everyone when it names no department."""
        return "0" if departments else "1"


def _is_everyone(value: object) -> bool:
    return value in ("1", 1, True)


def require_departments_unless_everyone(
    form: forms.Form,
    *,
    everyone: str = "everyone",
    departments: str = "departments",
    message: str = "Choose at least one department, or choose everyone.",
) -> None:
    """In ``clean``: "only these departments" with none ticked is a mistake, said beside the ticks."""
    cleaned = form.cleaned_data
    if cleaned.get(everyone) is False and not cleaned.get(departments):
        form.add_error(departments, message)
