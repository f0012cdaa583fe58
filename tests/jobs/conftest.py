"""Celery workers that a test may kill: the pool child that runs the task, or the whole worker.

Like ``real_worker`` (tests/conftest.py) they need PostgreSQL and a reachable broker, and skip
with a message without them; unlike it they run the prefork pool (one child), each in a
process group of its own so that SIGKILL can take the worker and its child at once, and they
read tests/jobs/worker_settings.py, whose environment knobs slow jobs down.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, broker_reachable
from tests.incentives.factories import plan_world


def wait_for(check: Callable[[], object], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


class Worker:
    """One ``celery worker`` process with one pool child, on the test's queue."""

    def __init__(self, *, queue: str, name: str, env: dict[str, str], log: Path) -> None:
        self.queue, self.name, self.log = queue, name, log
        command = [
            sys.executable,
            *("-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1"),
            *("-Q", queue, "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"),
            *("-n", f"{name}@%h"),
        ]
        self._out = log.open("w")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text()

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            return []

    def kill_pool_child(self) -> int:
        """SIGKILL the pool child running the task (as the OOM killer would); the worker lives on."""
        (child,) = self.children()
        os.kill(child, signal.SIGKILL)
        return child

    def kill(self) -> None:
        """SIGKILL the whole worker, pool child and all: nothing gets to acknowledge or give back."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()


@pytest.fixture
def start_worker(request, tmp_path):
    """``start_worker(**environment)`` starts a killable worker on this test's queue and waits until
    it answers; every worker started is stopped (or killed) at the end."""
    from django.conf import settings
    from django.db import connection

    from config.celery_app import app as celery_app

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL so the worker process can share the test database")
    if not broker_reachable(settings.CELERY_BROKER_URL):
        pytest.skip(f"no Celery broker reachable at {settings.CELERY_BROKER_URL}")
    db = connection.settings_dict
    queue = f"jobs-{os.getpid()}-{request.node.name[:40]}"
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.jobs.worker_settings",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "THROUGHLINE_TEST_QUEUE": queue,
    }
    workers: list[Worker] = []

    def start(**env: object) -> Worker:
        name = f"{queue}-{len(workers)}"
        worker = Worker(
            queue=queue,
            name=name,
            env={**base_env, **{k: str(v) for k, v in env.items()}},
            log=tmp_path / f"{name}.log",
        )
        workers.append(worker)
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[f"{name}@{socket.gethostname()}"], timeout=1):
            if worker.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{worker.output()}")
        return worker

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = "celery"
        for worker in workers:
            worker.stop()
        with celery_app.connection_for_write() as conn:  # leave nothing of this test's queue behind
            conn.default_channel.queue_purge(queue)


@pytest.fixture
def world(cast):
    """An incentive plan with its people, ready to compute (tests/incentives/factories.py)."""
    return plan_world(cast)
