"""The ground floor's shared glue: service errors on forms, the versioned form, plain numbers,
the weights-total rule, the read-only admin, the file reader and the one field partial."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings

from core.admin import read_only_admin
from core.api import NamedChoiceField
from core.formatting import plain
from core.forms import (
    VERSION_MISSING,
    EveryoneField,
    VersionedForm,
    VersionField,
    apply_service_errors,
    require_departments_unless_everyone,
)
from core.tabular import ImportFileError, Problem, check_size, check_upload, header_key, rows_of
from core.weights import weights_total_problem

# ---------------------------------------------------------------- forms


class TitleForm(VersionedForm):
    title = forms.CharField(max_length=10)
    note = forms.CharField(required=False)


def test_service_errors_go_beside_their_field_and_the_rest_above_the_form():
    form = TitleForm({"title": "A"})
    form.is_valid()
    apply_service_errors(
        form,
        ValidationError({"title": "Taken.", "owner": "Unknown.", NON_FIELD_ERRORS: "Stale.", "what": "Named."}),
        names={"what": "note"},
    )
    assert form.errors["title"] == ["Taken."]
    assert form.errors["note"] == ["Named."]
    assert sorted(form.non_field_errors()) == ["Stale.", "Unknown."]


def test_a_service_error_without_fields_goes_above_the_form():
    form = TitleForm({"title": "A"})
    form.is_valid()
    apply_service_errors(form, ValidationError(["One.", "Two."]))
    assert form.non_field_errors() == ["One.", "Two."]


def test_versioned_form_refuses_rather_than_cuts_and_leaves_the_version_out_of_service_data():
    form = TitleForm({"title": "Short", "version": "3"})
    assert "maxlength" not in str(form["title"])
    assert form.is_valid()
    assert form.cleaned_data["version"] == 3
    assert form.service_data() == {"title": "Short", "note": ""}
    too_long = TitleForm({"title": "x" * 11})
    assert not too_long.is_valid() and "title" in too_long.errors


def test_a_garbled_version_says_the_page_is_out_of_date():
    class Strict(forms.Form):
        version = VersionField()

    assert Strict({}).errors["version"] == [VERSION_MISSING]
    assert Strict({"version": "x"}).errors["version"] == [VERSION_MISSING]
    assert TitleForm({"title": "A", "version": "x"}).errors["version"] == [VERSION_MISSING]
    assert 'type="hidden"' in str(Strict()["version"])


class Picker(forms.Form):
    everyone = EveryoneField()
    departments = forms.MultipleChoiceField(
        choices=[("1", "Pharmacy"), ("2", "Surgery")], required=False, widget=forms.CheckboxSelectMultiple
    )

    def clean(self):
        cleaned = super().clean()
        require_departments_unless_everyone(self)
        return cleaned


def test_everyone_or_these_departments():
    assert Picker({"everyone": "1"}).is_valid()
    only = Picker({"everyone": "0", "departments": ["2"]})
    assert only.is_valid() and only.cleaned_data["everyone"] is False
    none_ticked = Picker({"everyone": "0"})
    assert not none_ticked.is_valid()
    assert none_ticked.errors["departments"] == ["Choose at least one department, or choose everyone."]
    assert EveryoneField.initial_for([]) == "1" and EveryoneField.initial_for(["x"]) == "0"


def test_the_field_partial_draws_label_help_errors_units_and_fieldsets():
    form = Picker({"everyone": "0"})
    form.is_valid()
    html = render_to_string("partials/_field.html", {"field": form["departments"]})
    assert "<fieldset" in html and "<legend>Departments" in html and "field--error" in html
    assert "Choose at least one department" in html
    text = render_to_string("partials/_field.html", {"field": TitleForm()["note"], "mark_optional": True, "unit": "%"})
    assert "(optional)" in text and 'class="input-unit"' in text and "visually-hidden" in text
    assert (
        render_to_string("partials/_field.html", {"field": TitleForm()["version"]})
        .strip()
        .startswith('<input type="hidden"')
    )


# ---------------------------------------------------------------- numbers and weights


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("3.00"), "3"),
        (Decimal("2.50"), "2.5"),
        (Decimal("100"), "100"),
        (Decimal("4.0500"), "4.05"),
        (Decimal("35540.0000"), "35540"),
        (12.5, "12.5"),
        (7, "7"),
        ("0.50", "0.5"),
        (None, ""),
        ("", ""),
        ("n/a", "n/a"),
    ],
)
def test_plain(value, text):
    assert plain(value) == text


def test_weights_total_problem():
    assert weights_total_problem([("A", 60), ("B", 40)]) is None
    assert (
        weights_total_problem([("goals", 40), ("competencies", 50)], what="section weights")
        == "The section weights total 90 (goals 40, competencies 50); they must total 100."
    )
    assert weights_total_problem([("QI", 50), ("Score", 40)], what="component weights", joiner=" + ") == (
        "The component weights total 90 (QI 50 + Score 40); they must total 100."
    )
    assert weights_total_problem([], empty_ok=True) is None
    assert weights_total_problem([]) == "The weights total 0 (none given); they must total 100."


# ---------------------------------------------------------------- admin and API


def test_read_only_admin_shows_to_the_viewers_and_changes_for_nobody():
    mixin = read_only_admin(lambda user: getattr(user, "is_viewer", False))
    request = RequestFactory().get("/")
    request.user = type("U", (), {"is_viewer": True})()
    admin = mixin()
    assert admin.has_module_permission(request) and admin.has_view_permission(request)
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request) and not admin.has_delete_permission(request)
    request.user.is_viewer = False
    assert not admin.has_module_permission(request) and not admin.has_view_permission(request, object())


def test_named_choice_field_keeps_its_schema_name():
    field = NamedChoiceField(choices=[("a", "A")], enum_name="LetterEnum")
    assert field.enum_name == "LetterEnum" and field.to_internal_value("a") == "a"


# ---------------------------------------------------------------- reading files


def test_rows_of_a_csv_file():
    rows = list(rows_of("People.CSV", "\ufeffEmployee ID,Amount\nE1,100\n".encode()))
    assert rows == [["Employee ID", "Amount"], ["E1", "100"]]
    assert header_key(" Employee_ID ") == header_key("employee  id") == "employee id"


def test_rows_of_an_xlsx_file():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["employee_id", "amount"])
    workbook.active.append(["E1", 100])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert list(rows_of("t.xlsx", buffer.getvalue())) == [["employee_id", "amount"], ["E1", 100]]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("t.txt", b"a", "Upload a .csv or .xlsx file."),
        ("t.csv", "é".encode("latin-1"), "not UTF-8"),
        ("t.xlsx", b"not a workbook", "not a readable .xlsx workbook"),
    ],
)
def test_unreadable_files_say_why(name, content, message):
    with pytest.raises(ImportFileError, match=message):
        list(rows_of(name, content))


@override_settings(THROUGHLINE_IMPORT_MAX_BYTES=2 * 1024 * 1024)
def test_a_file_over_the_limit_is_refused():
    check_size(b"x" * 1024)
    with pytest.raises(ValidationError) as error:
        check_size(b"x" * (2 * 1024 * 1024 + 1))
    assert error.value.message_dict == {"file": ["The file is larger than 2 MB."]}


def test_an_upload_of_another_type_is_refused_before_anything_is_recorded():
    check_upload("org.CSV", b"employee_id\nE1\n")
    with pytest.raises(ValidationError) as error:
        check_upload("org.pdf", b"x")
    assert error.value.message_dict == {"file": ["Upload a .csv or .xlsx file."]}
    assert Problem(row=2, field="email", message="Missing.").as_dict() == {
        "row": 2,
        "field": "email",
        "message": "Missing.",
    }
