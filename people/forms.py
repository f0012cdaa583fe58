from __future__ import annotations

from django import forms


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
