"""Admin pages for HR power users. Access follows the same rule as the rest of
the product: HR admins (and superusers) only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from people import access, services
from people.models import Department, Employee, OrgChartImport


class HRAdminOnly:
    """Grants every admin permission to HR admins and none to anyone else."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.is_hr_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return access.is_hr_admin(request.user)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return access.is_hr_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return access.is_hr_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # People and departments are deactivated or moved, never deleted: their history stays.
        return False


@admin.register(Department)
class DepartmentAdmin(HRAdminOnly, admin.ModelAdmin):
    list_display = ("name", "parent", "head")
    search_fields = ("name",)
    autocomplete_fields = ("parent", "head")

    def save_model(self, request: HttpRequest, obj: Department, form, change: bool) -> None:
        # Through the services, so that a loop in the tree is refused and the change is logged.
        if not change:
            created = services.department_create(name=obj.name, parent=obj.parent, head=obj.head, user=request.user)
            obj.pk = created.pk
            return
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in services.DEPARTMENT_FIELDS}
        services.department_update(department=obj, data=data, user=request.user)


class EmployeeAdminForm(forms.ModelForm):
    class Meta:
        model = Employee
        fields = (
            "full_name",
            "department",
            "manager",
            "job_title",
            "hire_date",
            "is_active",
            "is_hr_admin",
            "is_quality_lead",
        )

    def clean_manager(self) -> Employee | None:
        manager = self.cleaned_data.get("manager")
        if self.instance.pk:
            try:
                services.check_manager(self.instance, manager)
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["manager"]) from None
        return manager


@admin.register(Employee)
class EmployeeAdmin(HRAdminOnly, admin.ModelAdmin):
    form = EmployeeAdminForm
    list_display = ("full_name", "employee_id", "department", "manager", "job_title", "is_active")
    list_filter = ("is_active", "is_hr_admin", "is_quality_lead", "department")
    search_fields = ("full_name", "employee_id", "user__email", "job_title")
    list_select_related = ("department", "manager")
    autocomplete_fields = ("manager", "department")
    readonly_fields = ("user", "employee_id", "path", "version")
    fields = (
        "user",
        "employee_id",
        "full_name",
        "department",
        "manager",
        "job_title",
        "hire_date",
        "is_active",
        "is_hr_admin",
        "is_quality_lead",
        "path",
        "version",
    )

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False  # new people arrive through the org-chart import, which creates their sign-in too

    def save_model(self, request: HttpRequest, obj: Employee, form, change: bool) -> None:
        # Route the edit through the service so that manager paths move and loops are refused.
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in services.EDITABLE_FIELDS}
        services.employee_update(employee=obj, expected_version=None, data=data, user=request.user)


@admin.register(OrgChartImport)
class OrgChartImportAdmin(HRAdminOnly, admin.ModelAdmin):
    list_display = ("file_name", "created_by", "created_at", "status", "total_rows")
    list_filter = ("status",)
    exclude = ("content",)
    readonly_fields = [f.name for f in OrgChartImport._meta.fields if f.name != "content"]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False
