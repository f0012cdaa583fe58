"""The org-chart import through a real Celery worker and Redis broker, as in production.

It needs PostgreSQL (the worker is another process and must see the test
database) and a reachable broker; where either is missing it is skipped with
a message. CI provides both.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

from config.celery_app import app as celery_app
from people.models import Employee, ImportStatus, OrgChartImport
from people.org_import import start_import
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def broker_reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def worker():
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
    queue = f"test-{os.getpid()}"  # a queue of our own, so no other worker steals the task
    process = subprocess.Popen(
        [
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
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
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


def test_the_import_runs_on_a_real_worker_and_reports_progress(worker):
    rows = "".join(
        f"W{i},Worker Person {i},w{i}@example.org,Claims processing,{'W0' if i else ''},Claims officer,2022-03-0{1 + i % 9}\n"
        for i in range(40)
    )
    content = ("employee_id,name,email,department,manager_id,job_title,hire_date\n" + rows).encode()
    record = start_import(user=UserFactory(), file_name="org.csv", content=content, deactivate_missing=False)

    deadline = time.monotonic() + 60
    while not record.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        record = OrgChartImport.objects.get(pk=record.pk)
    assert record.status == ImportStatus.SUCCEEDED, (record.status, record.errors)
    assert (record.total_rows, record.processed_rows, record.summary["created"]) == (40, 40, 40)
    assert Employee.objects.filter(manager__employee_id="W0").count() == 39
