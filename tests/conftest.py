"""Shared fixtures: the four kinds of user every permission test needs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from people.models import Employee
from tests.factories import DepartmentFactory, EmployeeFactory

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Cast:
    """A small organisation: a chief over a manager over an employee, a
    stranger in another team, and an HR admin in HR."""

    chief: Employee
    manager: Employee
    employee: Employee
    stranger: Employee
    hr: Employee


@pytest.fixture
def cast(db) -> Cast:
    nursing = DepartmentFactory(name="Nursing")
    pharmacy = DepartmentFactory(name="Pharmacy")
    hr_dept = DepartmentFactory(name="HR")
    chief = EmployeeFactory(user__username="chief", full_name="Chief Nurse", department=nursing)
    manager = EmployeeFactory(user__username="manager", full_name="Ward Manager", department=nursing, manager=chief)
    employee = EmployeeFactory(user__username="employee", full_name="Staff Nurse", department=nursing, manager=manager)
    stranger = EmployeeFactory(user__username="stranger", full_name="Pharmacist", department=pharmacy)
    hr = EmployeeFactory(user__username="hradmin", full_name="HR Admin", department=hr_dept, is_hr_admin=True)
    hr.user.is_staff = True
    hr.user.save(update_fields=["is_staff"])
    return Cast(chief=chief, manager=manager, employee=employee, stranger=stranger, hr=hr)


# ---------------------------------------------------------------- signed-in clients


@pytest.fixture
def client_for() -> Callable[[Employee | None], Client]:
    """A browser client signed in as a person (or anonymous for None)."""

    def make(person: Employee | None) -> Client:
        client = Client()
        if person is not None:
            client.force_login(person.user)
        return client

    return make


@pytest.fixture
def api_client_for() -> Callable[[Employee | None], APIClient]:
    """An API client authenticated as a person (or anonymous for None)."""

    def make(person: Employee | None) -> APIClient:
        client = APIClient()
        if person is not None:
            # A fresh user object per client: the selectors cache the employee record on it.
            client.force_authenticate(user=get_user_model().objects.get(pk=person.user_id))
        return client

    return make


# ---------------------------------------------------------------- a real Celery worker


def broker_reachable(url: str) -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def real_worker(request):
    """A Celery worker in its own process on a queue of its own, sharing the test database.

    It needs PostgreSQL (an in-memory SQLite test database cannot be shared with
    another process) and a reachable broker; without either the test is skipped
    with a message. CI provides both. Use with django_db(transaction=True) so the
    worker sees committed rows.
    """
    from django.conf import settings
    from django.db import connection

    from config.celery_app import app as celery_app

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL so the worker process can share the test database")
    if not broker_reachable(settings.CELERY_BROKER_URL):
        pytest.skip(f"no Celery broker reachable at {settings.CELERY_BROKER_URL}")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    queue = f"test-{os.getpid()}-{request.node.name[:40]}"  # our own queue: no other worker steals the task
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-Q",
        queue,
        "--loglevel=INFO",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"{queue}@%h",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[f"{queue}@{socket.gethostname()}"], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{process.stdout.read() if process.stdout else ''}")
        yield process
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = "celery"
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
