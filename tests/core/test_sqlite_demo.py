"""The SQLite demo (`make run`) takes concurrent writes without "database is locked".

Run in a process of its own with the demo's settings (config.settings.local on a database file,
as the Makefile sets them), since the suite's own database is in memory or PostgreSQL: eight
threads, each with its own connection, write at once through the ORM in transactions that read
before they write (the case a busy timeout alone does not save: SQLite refuses to upgrade a
reading transaction while another writes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = """
import json, threading
import django
django.setup()
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

with connection.schema_editor() as editor:
    editor.create_model(Session)
mode = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
connection.close()

THREADS, WRITES = 8, 25
written, errors = [], []
start = threading.Barrier(THREADS)

def write(n):
    start.wait()
    try:
        for i in range(WRITES):
            try:
                with transaction.atomic():
                    seen = Session.objects.count()
                    Session.objects.create(session_key=f"k{n}-{i}", session_data=str(seen), expire_date=timezone.now())
                written.append(1)
            except OperationalError as exc:
                errors.append(str(exc))
    finally:
        connections.close_all()

threads = [threading.Thread(target=write, args=(n,)) for n in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"mode": mode, "written": len(written), "stored": Session.objects.count(), "errors": sorted(set(errors))}))
"""


def test_concurrent_writes_on_the_demo_database_all_succeed(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "PYTHONPATH": str(ROOT),
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"mode": "wal", "written": 200, "stored": 200, "errors": []}
