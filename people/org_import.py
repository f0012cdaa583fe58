"""Org-chart import: read a CSV or XLSX file, check every row, then apply it all
or nothing.

Checking happens outside any transaction so that progress is visible to the
browser while it runs; applying happens in one transaction so that a rejected
or failed import leaves the organisation exactly as it was.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import jobs
from core.log import log_action, log_actions
from core.tabular import ImportFileError, Problem, Upload, check_upload, read_upload, rows_of
from people import bulk
from people.models import Department, Employee, ImportStatus, OrgChartImport
from people.services import rebuild_paths

logger = logging.getLogger(__name__)
User = get_user_model()

COLUMNS = ("employee_id", "name", "email", "department", "manager_id", "job_title", "hire_date")
REQUIRED_COLUMNS = ("employee_id", "name", "email", "department")
# Header spellings people actually use, normalised (lower case, single spaces).
HEADER_ALIASES = {
    "employee id": "employee_id",
    "employee_id": "employee_id",
    "id": "employee_id",
    "name": "name",
    "full name": "name",
    "email": "email",
    "email address": "email",
    "department": "department",
    "manager id": "manager_id",
    "manager_id": "manager_id",
    "manager's employee id": "manager_id",
    "manager employee id": "manager_id",
    "job title": "job_title",
    "job_title": "job_title",
    "title": "job_title",
    "hire date": "hire_date",
    "hire_date": "hire_date",
}
MAX_LENGTHS = {"employee_id": 40, "name": 200, "email": 254, "department": 120, "job_title": 120}


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it: the header is row 1
    values: dict[str, str]
    hire_date: datetime.date | None = None


@dataclass
class CheckResult:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# ---------------------------------------------------------------- reading


def read_rows(file_name: str, content: bytes) -> list[Row]:
    """The file's people; ImportFileError (as the reader reaches it) for a file that cannot be read."""
    raw_rows = rows_of(file_name, content)
    header = next(raw_rows, None)
    if header is None:
        raise ImportFileError("The file is empty.")
    columns = [HEADER_ALIASES.get(" ".join(str(h or "").strip().lower().split())) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportFileError(
            "Missing column(s): " + ", ".join(missing) + ". Expected headers: " + ", ".join(COLUMNS) + "."
        )
    rows = []
    for number, raw in enumerate(raw_rows, start=2):
        values = {c: "" for c in COLUMNS}
        for column, cell in zip(columns, raw, strict=False):
            if column is not None:
                values[column] = cell
        if not any(str(v).strip() for v in values.values()):
            continue  # blank lines at the end of a spreadsheet are not rows
        rows.append(Row(number=number, values=values))
    return rows


# ---------------------------------------------------------------- checking


def _parse_date(value: object) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value).strip())


def check_rows(rows: list[Row], *, deactivate_missing: bool, on_progress=None) -> CheckResult:
    """Every problem in the file, each tied to a row and a field; no writes."""
    result = CheckResult(rows=rows)
    problems = result.problems
    existing = {
        e["employee_id"]: e
        for e in Employee.objects.values("employee_id", "user_id", "is_active", "manager__employee_id")
    }
    user_by_login = {}
    for pk, username, email in User.objects.values_list("pk", "username", "email"):
        user_by_login[username.lower()] = pk
        if email:
            user_by_login.setdefault(email.lower(), pk)

    first_row_of_id: dict[str, int] = {}
    first_row_of_email: dict[str, int] = {}
    every = settings.THROUGHLINE_IMPORT_PROGRESS_EVERY
    for index, row in enumerate(rows, start=1):
        v = row.values
        for key in COLUMNS:
            cell = v[key]
            v[key] = "" if cell is None else (cell if key == "hire_date" else str(cell).strip())
        for key in REQUIRED_COLUMNS:
            if not v[key]:
                problems.append(Problem(row.number, key, f"{key.replace('_', ' ').capitalize()} is required."))
        for key, limit in MAX_LENGTHS.items():
            if len(v[key]) > limit:
                problems.append(Problem(row.number, key, f"Longer than {limit} characters."))
        emp_id = v["employee_id"]
        if emp_id:
            if emp_id in first_row_of_id:
                problems.append(
                    Problem(
                        row.number, "employee_id", f"Employee ID {emp_id} is also on row {first_row_of_id[emp_id]}."
                    )
                )
            else:
                first_row_of_id[emp_id] = row.number
        email = v["email"].lower()
        v["email"] = email
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(Problem(row.number, "email", f"{email!r} is not an email address."))
            else:
                if email in first_row_of_email:
                    problems.append(
                        Problem(row.number, "email", f"{email} is also on row {first_row_of_email[email]}.")
                    )
                else:
                    first_row_of_email[email] = row.number
                owner = user_by_login.get(email)
                current = existing.get(emp_id)
                if owner is not None and (current is None or current["user_id"] != owner):
                    problems.append(Problem(row.number, "email", f"{email} already belongs to another person."))
        if v["hire_date"] not in ("", None):
            try:
                row.hire_date = _parse_date(v["hire_date"])
            except ValueError:
                problems.append(
                    Problem(row.number, "hire_date", f"{v['hire_date']!r} is not a date; write it as YYYY-MM-DD.")
                )
        if on_progress is not None and index % every == 0:
            on_progress(index)

    # Managers must exist once the import is applied: in the file, or already here and staying active.
    in_file = {r.values["employee_id"]: r for r in rows if r.values["employee_id"]}
    for row in rows:
        manager_id = row.values["manager_id"]
        if not manager_id:
            continue
        if manager_id == row.values["employee_id"]:
            problems.append(Problem(row.number, "manager_id", "A person cannot be their own manager."))
        elif manager_id not in in_file:
            known = existing.get(manager_id)
            if known is None:
                problems.append(
                    Problem(row.number, "manager_id", f"Unknown manager: no one has employee ID {manager_id}.")
                )
            elif deactivate_missing or not known["is_active"]:
                problems.append(
                    Problem(
                        row.number, "manager_id", f"Manager {manager_id} is not in this file and would not be active."
                    )
                )
    problems.extend(_loops(rows, existing))
    problems.sort(key=lambda p: (p.row, COLUMNS.index(p.field) if p.field in COLUMNS else 99))
    return result


def _loops(rows: list[Row], existing: dict[str, dict]) -> list[Problem]:
    """Rows whose manager chain, once applied, leads back to themselves."""
    manager_of = {key: value["manager__employee_id"] for key, value in existing.items()}
    row_of: dict[str, int] = {}
    for row in rows:
        emp_id = row.values["employee_id"]
        if emp_id and emp_id not in row_of:
            row_of[emp_id] = row.number
            manager_of[emp_id] = row.values["manager_id"] or None
    problems = []
    settled: set[str] = set()
    for start in row_of:
        trail: list[str] = []
        position: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in settled and node not in position:
            position[node] = len(trail)
            trail.append(node)
            node = manager_of.get(node)
            if node == trail[-1]:
                node = None  # self-management is reported on its own
        if node is not None and node in position:
            loop = trail[position[node] :]
            chain = " → ".join([*loop, loop[0]])
            for member in loop:
                if member in row_of:
                    problems.append(Problem(row_of[member], "manager_id", f"Loop in the manager chain: {chain}."))
            settled.update(loop)
        settled.update(trail)
    return problems


# ---------------------------------------------------------------- applying


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    deactivated: int = 0
    departments_created: list[str] = field(default_factory=list)
    kept_active: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


def apply_rows(
    rows: list[Row], *, deactivate_missing: bool, importer_id: int, record: OrgChartImport | None = None
) -> Summary:
    """Write the checked rows in bulk: creates, updates, (de)activations.

    With ``record``, the action log gets one entry per person or department the import created
    or changed (in bulk), each naming the import, beside the import's own entry (run_import).
    """
    summary = Summary()
    departments = {d.name.lower(): d for d in Department.objects.all()}
    new_names = sorted({r.values["department"] for r in rows if r.values["department"].lower() not in departments})
    seen: set[str] = set()
    to_create = []
    for name in new_names:
        if name.lower() not in seen:
            seen.add(name.lower())
            to_create.append(Department(name=name))
    created_departments = Department.objects.bulk_create(to_create)
    for department in created_departments:
        departments[department.name.lower()] = department
        summary.departments_created.append(department.name)

    existing = {e.employee_id: e for e in Employee.objects.select_related("user")}
    unusable = make_password(None)  # one unusable hash shared by new accounts: they set a password by reset
    new_users, new_employees, changed_employees, changed_users = [], [], [], []
    for row in rows:
        v = row.values
        first, _, last = v["name"].partition(" ")
        department = departments[v["department"].lower()]
        employee = existing.get(v["employee_id"])
        if employee is None:
            user = User(
                username=v["email"], email=v["email"], first_name=first[:150], last_name=last[:150], password=unusable
            )
            new_users.append(user)
            new_employees.append(
                Employee(
                    user=user,
                    employee_id=v["employee_id"],
                    full_name=v["name"],
                    department=department,
                    job_title=v["job_title"],
                    hire_date=row.hire_date,
                )
            )
            continue
        wanted = {
            "full_name": v["name"],
            "department_id": department.pk,
            "job_title": v["job_title"],
            "hire_date": row.hire_date,
            "is_active": True,
        }
        if any(getattr(employee, k) != value for k, value in wanted.items()):
            if not employee.is_active:
                summary.reactivated += 1
            for key, value in wanted.items():
                setattr(employee, key, value)
            changed_employees.append(employee)
            summary.updated += 1
        else:
            summary.unchanged += 1
        user = employee.user
        if (user.email, user.first_name, user.last_name, user.is_active) != (v["email"], first[:150], last[:150], True):
            user.email, user.first_name, user.last_name, user.is_active = v["email"], first[:150], last[:150], True
            changed_users.append(user)

    # COPY on PostgreSQL (people.bulk), the keys drawn first: 100,000 new people in seconds.
    bulk.give_ids(new_users)
    bulk.copy_in(User, new_users)
    for employee in new_employees:
        employee.user_id = employee.user.pk
    bulk.give_ids(new_employees)
    bulk.copy_in(Employee, new_employees)
    summary.created = len(new_employees)
    for employee in changed_employees:
        employee.version = F("version") + 1
    Employee.objects.bulk_update(
        changed_employees,
        ["full_name", "department", "job_title", "hire_date", "is_active", "version"],
        batch_size=1000,
    )
    User.objects.bulk_update(changed_users, ["email", "first_name", "last_name", "is_active"], batch_size=1000)

    # Managers last: everyone in the file now has a primary key to point at.
    pk_of = dict(Employee.objects.values_list("employee_id", "pk"))
    manager_links = [
        Employee(
            pk=pk_of[r.values["employee_id"]],
            manager_id=pk_of.get(r.values["manager_id"]) if r.values["manager_id"] else None,
        )
        for r in rows
    ]
    current_manager = dict(Employee.objects.values_list("pk", "manager_id"))
    moved = [e for e in manager_links if current_manager.get(e.pk) != e.manager_id]
    # One UPDATE on PostgreSQL (people.bulk): a bulk_update of 100,000 managers took minutes.
    bulk.set_values(Employee, "manager_id", {e.pk: e.manager_id for e in moved})
    # Someone whose only change is their manager still counts as updated.
    changed_ids = {e.pk for e in changed_employees}
    existing_ids = {e.pk for e in existing.values()}
    moved_only = {e.pk for e in moved if e.pk in existing_ids} - changed_ids
    summary.updated += len(moved_only)
    summary.unchanged -= len(moved_only)
    if moved_only:
        Employee.objects.filter(pk__in=moved_only).update(version=F("version") + 1)
    updated_people = changed_employees + [e for e in existing.values() if e.pk in moved_only]

    if deactivate_missing:
        in_file = {r.values["employee_id"] for r in rows}
        missing = [e for key, e in existing.items() if key not in in_file and e.is_active]
        to_deactivate = []
        for employee in missing:
            if employee.user_id == importer_id:
                summary.kept_active.append(employee.full_name)  # never lock out the person importing
                continue
            to_deactivate.append(employee.pk)
        Employee.objects.filter(pk__in=to_deactivate).update(is_active=False, version=F("version") + 1)
        User.objects.filter(employee__pk__in=to_deactivate).update(is_active=False)
        summary.deactivated = len(to_deactivate)
    else:
        to_deactivate = []

    rebuild_paths()
    if record is not None:
        by = {"user": record.created_by, "data": {"import": record.pk, "file_name": record.file_name}}
        log_actions(created_departments, "department.created", **by)
        log_actions(new_employees, "employee.created", **by)
        log_actions(updated_people, "employee.updated", **by)
        log_actions([e for e in existing.values() if e.pk in set(to_deactivate)], "employee.deactivated", **by)
    return summary


# ---------------------------------------------------------------- the whole run


def start_import(*, user, file_name: str, content: Upload, deactivate_missing: bool) -> OrgChartImport:
    """Record an upload and queue its import once the record is committed. The file is refused
    first (core.tabular.check_upload: size, type, bomb, rows, unreadable cells) as a field error,
    before it is read into memory."""
    from people.tasks import run_org_chart_import  # the task module imports this one

    check_upload(file_name, content)
    with transaction.atomic():
        record = OrgChartImport.objects.create(
            created_by=user,
            file_name=file_name[:255],
            content=read_upload(content),
            deactivate_missing=deactivate_missing,
            **jobs.beat(),
        )
        log_action(record, "org_import.started", user=user, data={"deactivate_missing": deactivate_missing})
        transaction.on_commit(lambda: run_org_chart_import.delay(record.pk))
    return record


def import_resume(*, user, record: OrgChartImport) -> OrgChartImport:
    """HR resumes an import that stalled (core.jobs): it is queued again and, as nothing of an
    unfinished import was committed, runs from the start. One that is moving, or was resumed a
    moment ago, is left alone."""
    from people.tasks import run_org_chart_import  # the task module imports this one

    with transaction.atomic():
        current = OrgChartImport.objects.select_for_update().get(pk=record.pk)
        if current.is_finished:
            raise ValidationError("This import has finished; there is nothing to resume.")
        if not current.is_stalled:
            return current
        OrgChartImport.objects.filter(pk=current.pk).update(**jobs.beat())
        log_action(current, "org_import.resumed", user=user)
        transaction.on_commit(lambda: run_org_chart_import.delay(current.pk))
    current.refresh_from_db()
    return current


def run_import(import_id: int) -> OrgChartImport:
    """Check and apply one uploaded file. Safe to run again: a finished import is left alone,
    and an interrupted one starts over, since nothing of it was committed."""
    record = OrgChartImport.objects.get(pk=import_id)
    if record.is_finished:
        return record

    def mark(**fields: object) -> None:
        OrgChartImport.objects.filter(pk=import_id).update(**fields, **jobs.beat())

    def refuse(status: str, errors: list[dict[str, object]], **fields: object) -> OrgChartImport:
        # The import ends without changing anyone; the log says so and how many problems it found.
        with transaction.atomic():
            mark(status=status, errors=errors, finished_at=timezone.now(), **fields)
            log_action(record, f"org_import.{status}", user=record.created_by, data={"problems": len(errors)})
        return OrgChartImport.objects.get(pk=import_id)

    try:
        rows = read_rows(record.file_name, bytes(record.content))
    except ImportFileError as exc:
        return refuse(ImportStatus.REJECTED, [Problem(0, "file", str(exc)).as_dict()])
    mark(status=ImportStatus.VALIDATING, total_rows=len(rows), processed_rows=0)
    if not rows:
        return refuse(ImportStatus.REJECTED, [Problem(0, "file", "The file has a header but no people.").as_dict()])
    try:
        result = check_rows(
            rows, deactivate_missing=record.deactivate_missing, on_progress=lambda n: mark(processed_rows=n)
        )
        if result.problems:
            return refuse(ImportStatus.REJECTED, [p.as_dict() for p in result.problems], processed_rows=len(rows))
        mark(status=ImportStatus.APPLYING, processed_rows=len(rows))
        with transaction.atomic():
            # A resumed import may race the run it replaced: the second to get here waits for the
            # first to commit, then finds it finished and applies nothing.
            if OrgChartImport.objects.select_for_update().get(pk=import_id).is_finished:
                return OrgChartImport.objects.get(pk=import_id)
            summary = apply_rows(
                rows, deactivate_missing=record.deactivate_missing, importer_id=record.created_by_id, record=record
            )
            mark(status=ImportStatus.SUCCEEDED, summary=summary.as_dict(), finished_at=timezone.now())
            log_action(record, "org_import.applied", user=record.created_by, data=summary.as_dict())
    except Exception:
        logger.exception("Org-chart import %s failed", import_id)
        return refuse(
            ImportStatus.FAILED,
            [
                Problem(
                    0,
                    "file",
                    "The import stopped on an unexpected error; nothing was changed. "
                    "The error has been logged for your administrator.",
                ).as_dict()
            ],
        )
    return OrgChartImport.objects.get(pk=import_id)
