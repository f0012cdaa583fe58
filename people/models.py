"""Departments, employees and the org-chart imports that keep them current."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.jobs import JobHeartbeat

# The stored manager path ("/12/57/301/") lets one query answer "everyone under
# this person" and "this person's chain", whatever the depth of the hierarchy.
PATH_SEPARATOR = "/"


class Department(models.Model):
    name = models.CharField(max_length=120, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    head = models.ForeignKey(
        "people.Employee", null=True, blank=True, on_delete=models.SET_NULL, related_name="headed_departments"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="department_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    HR_ADMIN = "hr_admin", "HR admin"
    QUALITY_LEAD = "quality_lead", "Quality lead"


class Employee(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="employee")
    employee_id = models.CharField("employee ID", max_length=40, unique=True)
    full_name = models.CharField(max_length=200)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="employees")
    manager = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    job_title = models.CharField(max_length=120, blank=True)
    hire_date = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_hr_admin = models.BooleanField("HR admin", default=False)
    is_quality_lead = models.BooleanField("quality lead", default=False)
    # Ids of the managers above this person and the person itself, root first,
    # wrapped in separators: "/1/7/42/". Maintained by people.services only.
    path = models.CharField(max_length=2000, db_index=True, editable=False, default="")
    # Bumped on every edit, so a save based on a stale read is refused (409).
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.CheckConstraint(condition=~Q(manager=models.F("pk")), name="employee_not_own_manager"),
        ]
        indexes = [
            models.Index(fields=["department", "is_active"], name="employee_dept_active"),
            # The employees API's order (keyset pages): a page is read off the index, not a sort of everyone.
            models.Index(fields=["full_name", "id"], name="employee_list_order"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def roles(self) -> list[str]:
        labels = []
        if self.is_hr_admin:
            labels.append(Role.HR_ADMIN.label)
        if self.is_quality_lead:
            labels.append(Role.QUALITY_LEAD.label)
        return labels

    def chain_ids(self) -> list[int]:
        """Manager ids from the top of the organisation down to, excluding, this person."""
        return [int(part) for part in self.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part][:-1]


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    VALIDATING = "validating", "Checking rows"
    APPLYING = "applying", "Saving"
    SUCCEEDED = "succeeded", "Imported"
    REJECTED = "rejected", "Rejected: nothing was changed"
    FAILED = "failed", "Failed: nothing was changed"


class ImportRecord(JobHeartbeat, models.Model):
    """One uploaded file and what became of it; the org-chart import and the cascade's
    imports share this shape, the progress rule and the finished states.

    The file's bytes are kept on the record rather than in media storage so
    that a worker on another machine can read it without shared disks.
    """

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=255)
    content = models.BinaryField()
    status = models.CharField(max_length=20, choices=ImportStatus, default=ImportStatus.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # [{"row": 3, "field": "manager_id", "message": "..."}], file-level errors have row 0.
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.SUCCEEDED, ImportStatus.REJECTED, ImportStatus.FAILED}

    @property
    def job_under_way(self) -> bool:
        return not self.is_finished

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.SUCCEEDED:
            return 100
        if not self.total_rows:
            return 0
        # Checking rows is most of the work; saving takes the last tenth.
        checked = 90 * self.processed_rows // self.total_rows
        return checked + (5 if self.status == ImportStatus.APPLYING else 0)


class OrgChartImport(ImportRecord):
    """An upload of the org chart."""

    deactivate_missing = models.BooleanField(default=False)

    class Meta(ImportRecord.Meta):
        pass
