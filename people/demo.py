"""Demo and benchmark organisations, built with bulk writes in one transaction.

``seed_hospital`` builds a small hospital with four logins for trying the
product; ``seed_synthetic`` builds an organisation of any size for benchmarks.
Both are safe to run again: an organisation already loaded is left alone.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractUser
from django.db import connection, transaction

from people.bulk import copy_in, reserve_ids
from people.models import PATH_SEPARATOR, Department, Employee
from people.services import rebuild_paths

User = get_user_model()

# The one password of the demo logins. It exists only in demo data: no real
# account is ever given it, and every other demo person has an unusable one.
DEMO_PASSWORD = "throughline"
# The hospital is "loaded" once its HR admin login exists.
HOSPITAL_MARKER = "hradmin"
HOSPITAL_EMAIL_DOMAIN = "hospital.example"
SYNTHETIC_EMAIL_DOMAIN = "synthetic.example"
BATCH_SIZE = 1000
# A fixed seed, so that every run builds the same organisation and benchmarks compare like with like.
RANDOM_SEED = 20240601
SPAN_OF_CONTROL = (5, 10)


class SeedConflict(Exception):
    """Data already in the database would clash with the organisation asked for."""


# ---------------------------------------------------------------- which apps seed what

# Each app that ships demo data registers its seeding here from its AppConfig.ready()
# (``register_demo(self.label, seed_hospital=..., seed_synthetic=...)``); manage.py seed_demo
# runs them in INSTALLED_APPS order, so the people exist before the goals hung on them, and
# this lowest app never imports a higher one.


@dataclass(frozen=True)
class DemoSeeder:
    app_label: str
    seed_hospital: Callable[[], object] | None = None
    seed_synthetic: Callable[[int], object] | None = None


_seeders: dict[str, DemoSeeder] = {}


def register_demo(
    app_label: str,
    *,
    seed_hospital: Callable[[], object] | None = None,
    seed_synthetic: Callable[[int], object] | None = None,
) -> None:
    """Add an app's demo seeding (registering again replaces it, so a reloaded app is not doubled)."""
    _seeders[app_label] = DemoSeeder(app_label, seed_hospital=seed_hospital, seed_synthetic=seed_synthetic)


def registered_seeders() -> list[DemoSeeder]:
    """The registered seedings, in INSTALLED_APPS order."""
    from django.apps import apps

    order = {config.label: index for index, config in enumerate(apps.get_app_configs())}
    return sorted(_seeders.values(), key=lambda seeder: order.get(seeder.app_label, len(order)))


@dataclass(frozen=True)
class Login:
    username: str
    role: str


@dataclass
class SeedResult:
    created: bool
    people: int
    message: str
    logins: list[Login] = field(default_factory=list)
    top_username: str = ""


@dataclass
class Planned:
    """One person to create. ``manager`` indexes an earlier entry of the same plan."""

    employee_id: str
    full_name: str
    username: str
    email: str
    department: str
    job_title: str
    hire_date: datetime.date
    manager: int | None
    level: int
    password: str
    heads: str | None = None
    is_hr_admin: bool = False
    is_quality_lead: bool = False


# ---------------------------------------------------------------- names and dates

FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Daniel", "Elif", "Farah", "George", "Hannah", "Ibrahim", "Jess",
    "Kwame", "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Quentin", "Rosa", "Samuel", "Tamsin",
    "Uchenna", "Victoria", "William", "Xin", "Yusuf", "Zoe", "Aisha", "Callum", "Deepa", "Ewan",
    "Grace", "Harry", "Isla", "Jamal", "Katie", "Liam", "Maya", "Nathan", "Olivia", "Rhys",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Brennan", "Chen", "Dawson", "Evans", "Fitzgerald", "Gupta", "Hughes", "Iqbal", "Jones",
    "Kowalski", "Lewis", "Mensah", "Nowak", "O'Brien", "Patel", "Quinn", "Robertson", "Singh", "Taylor",
    "Usman", "Vaughan", "Williams", "Xu", "Young", "Zielinski", "Ahmed", "Baker", "Campbell", "Davies",
    "Edwards", "Foster", "Green", "Hall", "Ibrahim", "Khan", "Morgan", "Okafor", "Price", "Walsh",
)  # fmt: skip


def _random_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _unique_names(rng: random.Random, count: int) -> list[str]:
    # Demo logins are told apart by name in the interface, so no two hospital people share one.
    names: list[str] = []
    while len(names) < count:
        name = _random_name(rng)
        if name not in names:
            names.append(name)
    return names


def _hire_date(rng: random.Random, level: int) -> datetime.date:
    # Senior people tend to have been here longer: the window opens earlier the higher they sit.
    earliest = datetime.date(1998 + 3 * min(level, 4), 1, 1)
    latest = datetime.date(2025, 6, 30)
    return earliest + datetime.timedelta(days=rng.randrange((latest - earliest).days))


def _login_name(full_name: str) -> str:
    return full_name.lower().replace("'", "").replace(" ", ".")


# ---------------------------------------------------------------- writing (shared by both organisations)


def _ensure_departments(tree: Sequence[tuple[str, str | None]]) -> dict[str, Department]:
    """Departments by name, creating the missing ones; ``tree`` lists (name, parent name), parents first."""
    existing = {d.name: d for d in Department.objects.filter(name__in=[name for name, _ in tree])}
    depth: dict[str, int] = {}
    for name, parent in tree:
        depth[name] = 0 if parent is None else depth[parent] + 1
    # One INSERT per level of the tree, so that every parent has a primary key before its children.
    for level in sorted(set(depth.values())):
        missing = [
            Department(name=name, parent=existing[parent] if parent else None)
            for name, parent in tree
            if depth[name] == level and name not in existing
        ]
        for department in Department.objects.bulk_create(missing):
            existing[department.name] = department
    return existing


def _new_user(person: Planned) -> AbstractUser:
    first, _, last = person.full_name.partition(" ")
    return User(
        username=person.username,
        email=person.email,
        first_name=first[:150],
        last_name=last[:150],
        password=person.password,
        is_staff=person.is_hr_admin,  # HR admins also manage the organisation in the Django admin
    )


def _new_employee(person: Planned, user: AbstractUser, department: Department, manager: Employee | None) -> Employee:
    return Employee(
        user=user,
        employee_id=person.employee_id,
        full_name=person.full_name,
        department=department,
        manager=manager,
        job_title=person.job_title,
        hire_date=person.hire_date,
        is_hr_admin=person.is_hr_admin,
        is_quality_lead=person.is_quality_lead,
    )


def _write_people(plan: list[Planned], departments: dict[str, Department]) -> list[Employee]:
    """Create users and employees in bulk, then heads and manager paths; no query per person."""
    if connection.vendor == "postgresql":
        employees = _copy_people(plan, departments)
        _set_heads(plan, employees, departments)
        return employees
    users = User.objects.bulk_create([_new_user(p) for p in plan], batch_size=BATCH_SIZE)
    employees: list[Employee | None] = [None] * len(plan)
    # One level of the hierarchy at a time: a manager is saved, and has a key, before their reports.
    for level in sorted({p.level for p in plan}):
        indexes = [i for i, p in enumerate(plan) if p.level == level]
        batch = [
            _new_employee(plan[i], users[i], departments[plan[i].department], _manager(plan[i], employees))
            for i in indexes
        ]
        Employee.objects.bulk_create(batch, batch_size=BATCH_SIZE)
        for i, employee in zip(indexes, batch, strict=True):
            employees[i] = employee
    created = [e for e in employees if e is not None]
    _set_heads(plan, created, departments)
    rebuild_paths()
    return created


def _copy_people(plan: list[Planned], departments: dict[str, Department]) -> list[Employee]:
    """PostgreSQL: keys drawn up front, so each person's manager and path are known before
    anything is written, then users and employees each in a few COPY statements."""
    user_ids, employee_ids = reserve_ids(User, len(plan)), reserve_ids(Employee, len(plan))
    users = [_new_user(p) for p in plan]
    for user, pk in zip(users, user_ids, strict=True):
        user.pk = pk
    employees: list[Employee] = []
    for person, user, pk in zip(plan, users, employee_ids, strict=True):
        manager = None if person.manager is None else employees[person.manager]
        employee = _new_employee(person, user, departments[person.department], manager)
        employee.pk = pk
        # As people.services.compute_paths writes it: the chain of keys from the top, each closed by the separator.
        employee.path = f"{manager.path if manager else PATH_SEPARATOR}{pk}{PATH_SEPARATOR}"
        employees.append(employee)
    copy_in(User, users)
    copy_in(Employee, employees)
    return employees


def _manager(person: Planned, employees: list[Employee | None]) -> Employee | None:
    return None if person.manager is None else employees[person.manager]


def _set_heads(plan: list[Planned], employees: list[Employee], departments: dict[str, Department]) -> None:
    # A department that already had a head (one reused from earlier data) keeps it.
    headed = []
    for person, employee in zip(plan, employees, strict=True):
        department = departments[person.heads] if person.heads else None
        if department is not None and department.head_id is None:
            department.head = employee
            headed.append(department)
    Department.objects.bulk_update(headed, ["head"])


# ---------------------------------------------------------------- the hospital


@dataclass(frozen=True)
class Team:
    lead_title: str
    staff_titles: tuple[str, ...]
    lead_login: str | None = None
    # The first member of the team gets this login, reporting straight to the lead.
    staff_login: str | None = None


@dataclass(frozen=True)
class Unit:
    department: str
    head_title: str
    teams: tuple[Team, ...]
    head_login: str | None = None


HOSPITAL_TOP = "Hospital"
CHIEF_EXECUTIVE_TITLE = "Chief Executive"
HOSPITAL_UNITS = (
    Unit(
        "Emergency",
        "Clinical Director, Emergency Medicine",
        (
            Team("Emergency Department Nurse Manager", ("Emergency Nurse", "Emergency Nurse", "Emergency Nurse")),
            Team("Consultant in Emergency Medicine", ("Emergency Medicine Registrar", "Emergency Care Assistant")),
        ),
    ),
    Unit(
        "Pharmacy",
        "Chief Pharmacist",
        (
            Team("Lead Clinical Pharmacist", ("Clinical Pharmacist", "Clinical Pharmacist", "Pharmacy Technician")),
            Team("Dispensary Manager", ("Pharmacy Technician", "Pharmacy Assistant")),
        ),
    ),
    Unit(
        "Nursing",
        "Chief Nursing Officer",
        (
            Team(
                "Ward Manager, Ward 7",
                ("Staff Nurse", "Staff Nurse", "Senior Staff Nurse", "Healthcare Assistant", "Healthcare Assistant"),
                lead_login="manager",
                staff_login="employee",
            ),
            Team("Ward Manager, Ward 4", ("Staff Nurse", "Staff Nurse", "Healthcare Assistant", "Nursing Associate")),
            Team("Infection Prevention Lead Nurse", ("Infection Prevention Nurse",)),
        ),
    ),
    Unit(
        "Radiology",
        "Head of Radiology",
        (
            Team(
                "Radiology Services Manager",
                (
                    "Diagnostic Radiographer",
                    "Diagnostic Radiographer",
                    "Sonographer",
                    "MRI Radiographer",
                    "Radiology Assistant",
                ),
            ),
        ),
    ),
    Unit(
        "Claims processing",
        "Head of Claims and Revenue Cycle",
        (Team("Claims Team Leader", ("Claims Processor", "Claims Processor", "Clinical Coder", "Billing Specialist")),),
    ),
    Unit(
        "Quality office",
        "Director of Quality",
        (Team("Quality Improvement Manager", ("QI Facilitator", "Patient Safety Officer", "Quality Data Analyst")),),
        head_login="quality",
    ),
    Unit(
        "HR",
        "Director of People",
        (Team("HR Operations Manager", ("HR Advisor", "Recruitment Coordinator", "Payroll Officer")),),
        head_login="hradmin",
    ),
    Unit(
        "Finance",
        "Finance Director",
        (
            Team(
                "Financial Controller",
                ("Management Accountant", "Finance Business Partner", "Accounts Payable Clerk", "Finance Assistant"),
            ),
        ),
    ),
)
LOGIN_ROLES = {
    "hradmin": "HR admin",
    "quality": "Quality lead",
    "manager": "Manager",
    "employee": "Employee",
}


@dataclass
class _Slot:
    """A position in the hospital before names and ids are dealt out."""

    department: str
    job_title: str
    manager: int | None
    level: int
    login: str | None = None
    heads: str | None = None


def _hospital_slots() -> list[_Slot]:
    slots = [_Slot(HOSPITAL_TOP, CHIEF_EXECUTIVE_TITLE, None, 0, heads=HOSPITAL_TOP)]
    for unit in HOSPITAL_UNITS:
        head = len(slots)
        slots.append(_Slot(unit.department, unit.head_title, 0, 1, login=unit.head_login, heads=unit.department))
        for team in unit.teams:
            lead = len(slots)
            slots.append(_Slot(unit.department, team.lead_title, head, 2, login=team.lead_login))
            for position, title in enumerate(team.staff_titles):
                login = team.staff_login if position == 0 else None
                slots.append(_Slot(unit.department, title, lead, 3, login=login))
    return slots


def _hospital_plan() -> list[Planned]:
    rng = random.Random(RANDOM_SEED)
    slots = _hospital_slots()
    # Hashing is deliberately slow; once for the four logins is enough.
    login_hash, unusable_hash = make_password(DEMO_PASSWORD), make_password(None)
    plan = []
    for number, (slot, name) in enumerate(zip(slots, _unique_names(rng, len(slots)), strict=True), start=1):
        plan.append(
            Planned(
                employee_id=f"H{number:04d}",
                full_name=name,
                username=slot.login or _login_name(name),
                email=f"{_login_name(name)}@{HOSPITAL_EMAIL_DOMAIN}",
                department=slot.department,
                job_title=slot.job_title,
                hire_date=_hire_date(rng, slot.level),
                manager=slot.manager,
                level=slot.level,
                password=login_hash if slot.login else unusable_hash,
                heads=slot.heads,
                is_hr_admin=slot.login == "hradmin",
                is_quality_lead=slot.login == "quality",
            )
        )
    return plan


def _hospital_logins() -> list[Login]:
    return [Login(username, role) for username, role in LOGIN_ROLES.items()]


def seed_hospital() -> SeedResult:
    """The demo hospital: about 60 people under one chief executive, with the four demo logins."""
    with transaction.atomic():
        if User.objects.filter(username=HOSPITAL_MARKER).exists():
            people = Employee.objects.filter(user__email__endswith=f"@{HOSPITAL_EMAIL_DOMAIN}").count()
            return SeedResult(
                False, people, "The demo hospital is already loaded; nothing was changed.", _hospital_logins()
            )
        clashing = sorted(User.objects.filter(username__in=LOGIN_ROLES).values_list("username", flat=True))
        if clashing:
            raise SeedConflict(f"Users {', '.join(clashing)} already exist but the demo hospital is not loaded.")
        tree = [(HOSPITAL_TOP, None), *[(unit.department, HOSPITAL_TOP) for unit in HOSPITAL_UNITS]]
        plan = _hospital_plan()
        employees = _write_people(plan, _ensure_departments(tree))
    return SeedResult(True, len(employees), f"Created the demo hospital: {len(employees)} people.", _hospital_logins())


# ---------------------------------------------------------------- the synthetic organisation

SYNTHETIC_DIVISIONS = (
    "Medicine", "Surgery", "Women and Children", "Diagnostics", "Community Care",
    "Mental Health", "Corporate Services", "Estates", "Research", "Education",
)  # fmt: skip
SYNTHETIC_UNITS = (
    "Cardiology", "Respiratory", "Gastroenterology", "Neurology", "Renal", "Oncology", "Haematology",
    "Endocrinology", "Dermatology", "Rheumatology", "Orthopaedics", "General Surgery", "Urology", "Vascular",
    "Theatres", "Anaesthetics", "Critical Care", "Maternity", "Neonatal", "Paediatrics", "Pathology",
    "Imaging", "Physiotherapy", "Occupational Therapy", "District Nursing", "Outpatients", "Elderly Care",
    "Stroke", "Palliative Care", "Sexual Health",
)  # fmt: skip
SYNTHETIC_MANAGER_TITLES = (
    "Chief Executive",
    "Divisional Director",
    "Head of Department",
    "Service Manager",
    "Team Leader",
)
SYNTHETIC_STAFF_TITLES = (
    "Staff Nurse", "Healthcare Assistant", "Physiotherapist", "Clinical Coder", "Administrator",
    "Pharmacist", "Radiographer", "Junior Doctor", "Biomedical Scientist", "Porter",
)  # fmt: skip


def synthetic_employee_id(number: int) -> str:
    return f"S{number:06d}"


def synthetic_username(number: int) -> str:
    return synthetic_employee_id(number).lower()


def hierarchy(size: int, rng: random.Random, span: tuple[int, int] = SPAN_OF_CONTROL) -> list[int | None]:
    """Manager index of each of ``size`` people, filled breadth first from a single top person.

    Each manager takes a span of reports drawn from ``span`` before the next
    one starts, so a manager always comes before their reports.
    """
    managers: list[int | None] = [None]
    current, room = 0, rng.randint(*span)
    for _ in range(1, size):
        if room == 0:
            current, room = current + 1, rng.randint(*span)
        managers.append(current)
        room -= 1
    return managers


def levels_of(managers: list[int | None]) -> list[int]:
    levels: list[int] = []
    for manager in managers:
        levels.append(0 if manager is None else levels[manager] + 1)
    return levels


def _numbered(names: Sequence[str], index: int) -> str:
    # Beyond the list, names repeat with a number so that every department name stays unique.
    name = names[index % len(names)]
    return name if index < len(names) else f"{name} {index // len(names) + 1}"


def _synthetic_department_name(level: int, index: int) -> str:
    if level == 1:
        return f"Synthetic {_numbered(SYNTHETIC_DIVISIONS, index)} Division"
    return f"Synthetic {_numbered(SYNTHETIC_UNITS, index)} Unit"


def _synthetic_departments(
    managers: list[int | None], levels: list[int]
) -> tuple[list[str], list[tuple[str, str | None]]]:
    """Each person's department and the department tree: the top person's office,
    a division under each of their reports, a unit under each of the divisional
    directors' reports; everyone further down works in their manager's unit."""
    top = "Synthetic Executive Office"
    tree: list[tuple[str, str | None]] = [(top, None)]
    department_of: list[str] = []
    made = {1: 0, 2: 0}
    for manager, level in zip(managers, levels, strict=True):
        if manager is None:
            department_of.append(top)
        elif level in made:
            name = _synthetic_department_name(level, made[level])
            made[level] += 1
            tree.append((name, department_of[manager]))
            department_of.append(name)
        else:
            department_of.append(department_of[manager])
    return department_of, tree


def _synthetic_title(rng: random.Random, level: int, has_reports: bool) -> str:
    if has_reports or level == 0:
        return SYNTHETIC_MANAGER_TITLES[min(level, len(SYNTHETIC_MANAGER_TITLES) - 1)]
    return rng.choice(SYNTHETIC_STAFF_TITLES)


def _synthetic_plan(size: int) -> tuple[list[Planned], list[tuple[str, str | None]]]:
    rng = random.Random(RANDOM_SEED)
    managers = hierarchy(size, rng)
    levels = levels_of(managers)
    managing = set(managers)
    department_of, tree = _synthetic_departments(managers, levels)
    # Nobody in the synthetic organisation can sign in; one unusable hash serves them all.
    unusable_hash = make_password(None)
    plan = []
    for index, (manager, level, department) in enumerate(zip(managers, levels, department_of, strict=True)):
        username = synthetic_username(index + 1)
        plan.append(
            Planned(
                employee_id=synthetic_employee_id(index + 1),
                full_name=_random_name(rng),
                username=username,
                email=f"{username}@{SYNTHETIC_EMAIL_DOMAIN}",
                department=department,
                job_title=_synthetic_title(rng, level, index in managing),
                hire_date=_hire_date(rng, level),
                manager=manager,
                level=level,
                password=unusable_hash,
                heads=department if level <= 2 else None,
            )
        )
    return plan, tree


def seed_synthetic(size: int) -> SeedResult:
    """A synthetic organisation of ``size`` people under one top person, for benchmarks."""
    top = synthetic_username(1)
    with transaction.atomic():
        present = Employee.objects.filter(user__email__endswith=f"@{SYNTHETIC_EMAIL_DOMAIN}").count()
        if present == size:
            return SeedResult(
                False, present, f"A synthetic organisation of {size} people is already loaded.", top_username=top
            )
        if present:
            raise SeedConflict(
                f"A synthetic organisation of {present} people is already loaded; "
                f"it cannot be resized to {size}. Start from an empty database."
            )
        plan, tree = _synthetic_plan(size)
        employees = _write_people(plan, _ensure_departments(tree))
    message = f"Created a synthetic organisation: {len(employees)} people in {len(tree)} departments."
    return SeedResult(True, len(employees), message, top_username=top)
