"""Performance benchmark: ``python -m bench.run``.

Starts from an empty organisation in a PostgreSQL database of its own (by
default ``throughline_bench``, created if missing), with DEBUG off, then
measures seeding a 10,000-person organisation and its ~50,000 goals (each app's
``seed_synthetic``, timed apart), importing a 10,000-row org chart, listing
everyone visible to the top manager, the cascade's pages and roll-up
(bench/cascade_bench.py), launching a review cycle and the appraisal page
(bench/appraisals_bench.py), and computing an incentive plan's payouts
(bench/incentives_bench.py); then the HTTP section (bench/http.py: the application under
gunicorn against a bare DRF view; ``BENCH_HTTP=0`` skips it); then the same jobs and pages at
100,000 people (bench/scale.py; ``BENCH_100K=0`` skips it). Figures are merged into
``bench/results/latest.json`` as ``{"name": {"value": number, "unit": "...", ...}}``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/throughline_bench"
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
SIZE = 10_000
# Figures with a ceiling; a miss is reported, not hidden.
TARGETS = {"seed_10k_s": 30, "import_10k_s": 30, "visible_10k_queries": 3}
# The bench empties its database; refuse any whose name does not say it is a bench database.
BENCH_MARKER = "bench"

Figures = dict[str, dict[str, Any]]


def bench_database_url(environ: dict[str, str] | os._Environ) -> str:
    """BENCH_DATABASE_URL if given; else a sibling of DATABASE_URL's database whose
    name says "bench" (the bench empties it); else the local server's default."""
    if environ.get("BENCH_DATABASE_URL"):
        return environ["BENCH_DATABASE_URL"]
    url = environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        base, _, name = url.rpartition("/")
        name = name.split("?", 1)[0]
        return url if BENCH_MARKER in name else f"{base}/{name}_{BENCH_MARKER}"
    return DEFAULT_DATABASE_URL


def configure_environment() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DATABASE_URL"] = bench_database_url(os.environ)
    # The import task must run in this process, so that its time is counted.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    # Figures are for production-like settings: no debug pages, no query log.
    os.environ["DJANGO_DEBUG"] = "false"


def ensure_database() -> None:
    """Create the bench database if it does not exist yet (connecting to the ``postgres`` one)."""
    import psycopg2
    from django.conf import settings
    from psycopg2 import sql

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"The bench runs on PostgreSQL; DATABASE_URL names {db['ENGINE']}.")
    if BENCH_MARKER not in db["NAME"]:
        sys.exit(f"Refusing to empty database {db['NAME']!r}: its name must contain {BENCH_MARKER!r}.")
    params = {"dbname": "postgres", "user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"]}
    connection = psycopg2.connect(**params, port=db["PORT"] or None)
    connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
    finally:
        connection.close()


def reset_database() -> None:
    """Migrate, then empty every table, so each run starts from the same empty organisation."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def measure_seed() -> tuple[Figures, str]:
    """The people of ``seed_demo --employees`` (people.demo); their goals are timed by cascade_bench."""
    from people.demo import seed_synthetic

    started = time.perf_counter()
    result = seed_synthetic(SIZE)
    elapsed = time.perf_counter() - started
    return {"seed_10k_s": {"value": round(elapsed, 3), "unit": "s"}}, result.top_username


def import_csv(size: int) -> bytes:
    """An org chart of ``size`` new people, managers referring to rows of the same file."""
    from people.demo import hierarchy, levels_of

    rng = random.Random(7)
    managers = hierarchy(size, rng)
    levels = levels_of(managers)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["employee_id", "name", "email", "department", "manager_id", "job_title", "hire_date"])
    department_of: list[str] = []
    for index, (manager, level) in enumerate(zip(managers, levels, strict=True)):
        # Each of the top person's direct and second-line reports opens a department of their own.
        department = f"Imported Department {index:05d}" if level <= 2 else department_of[manager or 0]
        department_of.append(department)
        number = index + 1
        writer.writerow(
            [
                f"I{number:06d}",
                f"Imported Person {number}",
                f"i{number:06d}@import.example",
                department,
                f"I{manager + 1:06d}" if manager is not None else "",
                "Manager" if level < 4 else "Staff Nurse",
                f"{2000 + number % 25}-{1 + number % 12:02d}-{1 + number % 28:02d}",
            ]
        )
    return buffer.getvalue().encode()


def measure_import(user_name: str) -> Figures:
    from django.contrib.auth import get_user_model

    from people.models import ImportStatus
    from people.org_import import start_import

    user = get_user_model().objects.get(username=user_name)
    content = import_csv(SIZE)
    started = time.perf_counter()
    # Outside any transaction start_import's on_commit fires at once, and the eager task runs to the end.
    record = start_import(user=user, file_name="bench-10k.csv", content=content, deactivate_missing=False)
    record.refresh_from_db()
    elapsed = time.perf_counter() - started
    if record.status != ImportStatus.SUCCEEDED:
        sys.exit(f"The 10k import ended {record.status}, not succeeded. First errors: {record.errors[:10]}")
    return {"import_10k_s": {"value": round(elapsed, 3), "unit": "s"}}


def measure_visible(user_name: str) -> Figures:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from people.selectors import employees_visible_to

    user = get_user_model().objects.get(username=user_name)  # fresh: nothing cached on it yet
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        rows = list(employees_visible_to(user=user))
        elapsed = time.perf_counter() - started
    return {
        "visible_10k_queries": {"value": len(captured.captured_queries), "unit": "queries"},
        "visible_10k_rows": {"value": len(rows), "unit": "rows"},
        "visible_10k_ms": {"value": round(elapsed * 1000, 1), "unit": "ms"},
    }


def save(figures: Figures) -> None:
    # Other benchmarks write their own keys to the same file; keep them.
    current = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    current.update(figures)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")


def report(figures: Figures, targets: dict[str, float]) -> None:
    for name, figure in figures.items():
        target = targets.get(name)
        verdict = "" if target is None else ("  ok" if figure["value"] <= target else f"  MISSED (target ≤ {target})")
        note = f"  [{figure['measured']}]" if "measured" in figure else ""
        print(f"{name:<22} {figure['value']:>10} {figure['unit']}{verdict}{note}")


def analyze() -> None:
    """Fresh planner statistics after the bulk seed and import, as autovacuum keeps them on a live
    server; without them PostgreSQL plans for the empty tables it last saw."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    configure_environment()
    import django

    django.setup()
    ensure_database()
    reset_database()
    from bench import appraisals_bench, audits_bench, cascade_bench, incentives_bench

    figures, top = measure_seed()
    figures |= cascade_bench.seed_goals(SIZE)
    figures |= measure_import(top)
    analyze()
    figures |= measure_visible(top)
    figures |= cascade_bench.measure(top, SIZE)
    figures |= appraisals_bench.measure(top, SIZE)
    figures |= incentives_bench.measure(top, SIZE)
    audits_bench.bench_audit(figures)
    save(figures)
    report(
        figures,
        TARGETS | cascade_bench.TARGETS | appraisals_bench.TARGETS | incentives_bench.TARGETS | audits_bench.TARGETS,
    )
    print(f"Written to {RESULTS}")
    # Then the same organisation over HTTP under gunicorn (bench/http.py); BENCH_HTTP=0 skips it.
    if switched_on("BENCH_HTTP"):
        from bench import http

        http.main([])
    # Then 100,000 people in databases of their own (bench/scale.py); BENCH_100K=0 skips it.
    if switched_on("BENCH_100K"):
        from bench import scale

        scale.main([])


def switched_on(name: str) -> bool:
    return os.environ.get(name, "1").strip().lower() not in {"0", "false", "no", "off"}


if __name__ == "__main__":
    main()
