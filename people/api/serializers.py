"""Shapes of the people API.

Output serializers only read attributes the views' querysets already loaded;
input serializers only check types and that ids exist. What a change means
(loops, versions, moving a team) is decided in people.services.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from core.api import IntegerFilter, PlainListSerializer
from people.models import Department, Employee, OrgChartImport

UNKNOWN_FIELD_MESSAGE = "This field cannot be changed here."


class StrictInputSerializer(serializers.Serializer):
    # Refuses fields it does not know instead of dropping them, so that a client
    # sending, say, ``employee_id`` hears that it was not changed. (A comment, not a
    # docstring: the schema would repeat a docstring on every subclass.)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [UNKNOWN_FIELD_MESSAGE] for name in unknown})
        return super().to_internal_value(data)


# ---------------------------------------------------------------- references


class DepartmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class EmployeeRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)


# ---------------------------------------------------------------- departments


class DepartmentSerializer(serializers.ModelSerializer):
    parent = DepartmentRefSerializer(read_only=True, allow_null=True)
    head = EmployeeRefSerializer(read_only=True, allow_null=True)
    headcount = serializers.IntegerField(read_only=True, help_text="Active people in this department.")

    class Meta:
        model = Department
        fields = ["id", "name", "parent", "head", "headcount"]
        read_only_fields = fields


class DepartmentCreateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    parent = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), required=False, allow_null=True)
    head = serializers.PrimaryKeyRelatedField(queryset=Employee.objects.all(), required=False, allow_null=True)


class DepartmentMoveSerializer(StrictInputSerializer):
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), allow_null=True, help_text="The department to sit under; null for the top."
    )


# ---------------------------------------------------------------- employees


class EmployeeSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    department = DepartmentRefSerializer(read_only=True)
    manager = EmployeeRefSerializer(read_only=True, allow_null=True)
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)
    # Annotated by people.selectors.with_is_manager: no query per row.
    is_manager = serializers.BooleanField(read_only=True)

    class Meta:
        model = Employee
        list_serializer_class = PlainListSerializer  # lists: the same JSON, less work per row
        fields = [
            "id",
            "employee_id",
            "full_name",
            "email",
            "department",
            "manager",
            "job_title",
            "hire_date",
            "is_active",
            "roles",
            "is_manager",
            "version",
        ]
        read_only_fields = fields


class ChainLinkSerializer(serializers.ModelSerializer):
    """One manager in a reporting chain: who they are, not their whole record."""

    department = DepartmentRefSerializer(read_only=True)

    class Meta:
        model = Employee
        fields = ["id", "employee_id", "full_name", "job_title", "department"]
        read_only_fields = fields


class EmployeeUpdateSerializer(StrictInputSerializer):
    version = serializers.IntegerField(
        min_value=1, help_text="Required: the version you read. A newer save in between answers 409."
    )
    full_name = serializers.CharField(max_length=200, required=False)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), required=False)
    manager = serializers.PrimaryKeyRelatedField(queryset=Employee.objects.all(), required=False, allow_null=True)
    job_title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    hire_date = serializers.DateField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    is_hr_admin = serializers.BooleanField(required=False)
    is_quality_lead = serializers.BooleanField(required=False)


class EmployeeFilterSerializer(serializers.Serializer):
    """Query parameters of the employee list."""

    department = IntegerFilter(help_text="Department id.")
    manager = IntegerFilter(help_text="Direct manager's id.")
    active = serializers.BooleanField(
        required=False,
        default=True,
        help_text="Active people (default) or, with false, people who have left; only HR admins see those.",
    )
    search = serializers.CharField(required=False, allow_blank=True, help_text="Part of a name or employee ID.")


# ---------------------------------------------------------------- org-chart imports


class ImportProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Spreadsheet row (the header is row 1); 0 for the file as a whole.")
    field = serializers.CharField()
    message = serializers.CharField()


class ImportSummarySerializer(serializers.Serializer):
    """What a finished import changed; empty until it has succeeded."""

    created = serializers.IntegerField(required=False)
    updated = serializers.IntegerField(required=False)
    unchanged = serializers.IntegerField(required=False)
    reactivated = serializers.IntegerField(required=False)
    deactivated = serializers.IntegerField(required=False)
    departments_created = serializers.ListField(child=serializers.CharField(), required=False)
    kept_active = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="People missing from the file but left active."
    )


class OrgImportSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="org-import-detail")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    stalled = serializers.BooleanField(
        source="is_stalled",
        read_only=True,
        help_text="Under way with no progress for THROUGHLINE_JOB_STALL_AFTER seconds: no worker holds it; HR may resume it.",
    )
    errors = ImportProblemSerializer(many=True, read_only=True)
    summary = ImportSummarySerializer(read_only=True)

    class Meta:
        model = OrgChartImport
        # Never the file's bytes: they can be megabytes, and they are personal data.
        fields = [
            "id",
            "url",
            "file_name",
            "created_at",
            "created_by",
            "deactivate_missing",
            "status",
            "status_display",
            "total_rows",
            "processed_rows",
            "percent",
            "progress_at",
            "stalled",
            "errors",
            "summary",
            "finished_at",
        ]
        read_only_fields = fields


class OrgImportCreateSerializer(serializers.Serializer):
    # Not strict: multipart forms carry extras of their own (a CSRF token from the browsable API).
    file = serializers.FileField(help_text="A .csv or .xlsx file with one row per person.")
    deactivate_missing = serializers.BooleanField(
        required=False, default=False, help_text="Deactivate active people who are not in the file."
    )


# ---------------------------------------------------------------- the action log (HR)


class HistoryFilterSerializer(serializers.Serializer):
    action = serializers.CharField(required=False, max_length=80, help_text="One action, e.g. `goal.approved`.")
    kind = serializers.RegexField(
        r"^[a-z0-9_]+\.[a-z0-9_]+$",
        required=False,
        max_length=200,
        help_text="A kind of record as `app_label.model`, e.g. `cascade.goal`.",
        error_messages={"invalid": "Name a kind of record as app.model, e.g. cascade.goal."},
    )
    # The messages are the page's (people.forms.HistoryFilterForm), so both say the same.
    object = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="With `kind`: one record's history.",
        error_messages={"invalid": "Enter a whole number."},
    )
    actor = serializers.PrimaryKeyRelatedField(
        queryset=Employee.objects.all(),
        required=False,
        help_text="The employee id of the person who acted.",
        error_messages={"does_not_exist": "No such person.", "incorrect_type": "No such person."},
    )
    date_from = serializers.DateField(
        required=False, help_text="From this day (inclusive).", error_messages={"invalid": "Enter a valid date."}
    )
    date_to = serializers.DateField(
        required=False, help_text="Up to this day (inclusive).", error_messages={"invalid": "Enter a valid date."}
    )
    search = serializers.CharField(required=False, max_length=200, help_text="In the record's name.")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("object") and not data.get("kind"):
            raise serializers.ValidationError({"object": "Name the kind of record too (kind=app.model)."})
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise serializers.ValidationError({"date_to": "The end date is before the start date."})
        return data


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    at = serializers.DateTimeField(read_only=True)
    actor = serializers.SerializerMethodField(help_text="The employee id of who acted (null: the system).")
    actor_label = serializers.CharField(read_only=True, help_text="Their name when they acted.")
    action = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="`app_label.model`")
    object_id = serializers.IntegerField(read_only=True)
    object_repr = serializers.CharField(read_only=True, help_text="The record's name when the entry was written.")
    changes = serializers.JSONField(read_only=True, help_text="`{field: [old, new]}`")
    data = serializers.JSONField(read_only=True)
    source = serializers.CharField(read_only=True, help_text="The request or job that made the change.")

    def get_actor(self, entry) -> int | None:
        employee = getattr(entry.actor, "employee", None) if entry.actor_id else None
        return employee.pk if employee else None
