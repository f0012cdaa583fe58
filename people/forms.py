from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import QuerySet

from people import sign_in
from people.models import Employee
from people.selectors.history import HistoryFilters


class SignInForm(AuthenticationForm):
    """Django's sign-in form, warning when the next wrong passwords would lock sign-in
    (people.sign_in), so that nobody is locked out without having been told."""

    def get_invalid_login_error(self) -> forms.ValidationError:
        error = super().get_invalid_login_error()
        if self.request is None:
            return error
        warning = sign_in.closing_in_warning(self.request, {"username": self.cleaned_data.get("username")})
        if not warning:
            return error
        return forms.ValidationError(f"{error.message} {warning}", code=error.code, params=error.params)


class OrgChartUploadForm(forms.Form):
    file = forms.FileField(
        label="Org-chart file",
        help_text="A .csv (UTF-8) or .xlsx file with the columns employee_id, name, email, department, "
        "manager_id, job_title, hire_date (YYYY-MM-DD).",
    )
    deactivate_missing = forms.BooleanField(
        required=False,
        label="Deactivate people who are not in this file",
        help_text="They keep their history and can be reactivated by a later import; nobody is deleted.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("Upload a .csv or .xlsx file.")
        return upload


class HistoryFilterForm(forms.Form):
    """The action log's filters, read from the query string of the page, the CSV and the API."""

    action = forms.CharField(required=False, max_length=80, label="Action")
    kind = forms.RegexField(
        required=False,
        regex=r"^[a-z0-9_]+\.[a-z0-9_]+$",
        max_length=200,
        label="Kind of record",
        error_messages={"invalid": "Name a kind of record as app.model, e.g. cascade.goal."},
    )
    object = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, label="Record ID")
    actor = forms.ModelChoiceField(
        queryset=Employee.objects.order_by("full_name"),
        required=False,
        label="Who acted",
        error_messages={"invalid_choice": "No such person."},
    )
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(required=False, max_length=200, label="Record's name contains")

    def __init__(
        self,
        *args,
        actions: list[str] = (),
        kinds: list[tuple[str, str]] = (),
        actors: QuerySet[Employee] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if actors is not None:  # the page lists only people who have acted, not the whole organisation
            self.fields["actor"].queryset = actors
            self.fields["actor"].empty_label = "Anyone"
        # The page offers what the log holds; the API takes any value and finds nothing for an unknown one.
        if actions:
            self.fields["action"].widget = forms.Select(choices=[("", "Any action"), *[(a, a) for a in actions]])
        if kinds:
            self.fields["kind"].widget = forms.Select(choices=[("", "Any kind of record"), *kinds])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("object") and not data.get("kind"):
            self.add_error("object", "Name the kind of record too (kind=app.model).")
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self) -> HistoryFilters:
        data = self.cleaned_data
        actor = data.get("actor")
        return HistoryFilters(
            action=data.get("action") or "",
            kind=data.get("kind") or "",
            object_id=data.get("object"),
            # The log names the sign-in account that acted; a person is found by theirs.
            actor_id=actor.user_id if actor else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            search=(data.get("q") or "").strip(),
        )
