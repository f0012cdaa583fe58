"""The 100,000-person section of ``make bench`` (``python -m bench.scale``; ``BENCH_100K=0`` skips it
when bench/run.py calls it after the 10k part).

Two parts, each in a database of its own whose name says "bench" (``<bench database>_100k`` and
``<bench database>_1k``, created if missing):

- **Jobs**, in a child process on the emptied ``…_100k`` database, with eager tasks as in
  bench/run.py: ``seed_100k_s`` (``manage.py seed_demo --employees 100000``: people, ~500,000
  goals, the competency library, in one transaction; ``seed_100k_peak_mb`` is the process's peak
  memory after it), ``import_100k_s`` (a 100,000-row org chart of new people), then, after
  ANALYZE, ``launch_100k_s``, ``payout_100k_s`` and ``audit_100k_s``, measured as their 10k
  figures are (bench/appraisals_bench.py, bench/incentives_bench.py, bench/audits_bench.py).
- **Growth**, as users meet it, with bench/http.py's machinery: gunicorn (2 workers, production
  settings, persistent connections) over the ``…_1k`` database (seeded by bench/http_prepare.py)
  and over the ``…_100k`` one the jobs left (the 100,000 synthetic people, their goals and the
  launched cycle; the imported chart beside them), both up at once; the same logged-in requests
  (HR, an employee halfway down the organisation) one at a time, interleaved 1k, 100k, 1k, 100k…;
  ``<page>_growth`` = p50 at 100k ÷ p50 at 1k.

Targets are ceilings: a miss is printed, the bench does not fail. Figures are merged into
bench/results/latest.json with the load average beside them (the machine is shared).
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.run import bench_database_url, report, save

SIZE = 100_000
SMALL = 1_000
JOB_TARGETS = {
    "seed_100k_s": 60,
    "import_100k_s": 60,
    "launch_100k_s": 60,
    "payout_100k_s": 20,
    "audit_100k_s": 60,
}
# p50 at 100k ÷ p50 at 1k: flat for one person's pages, a little growth allowed where HR sees everyone.
GROWTH_TARGETS = {
    "my_goals": 1.5,
    "appraisal_page": 1.5,
    "measure_page": 1.5,
    "api_goals_hr": 1.5,
    "api_goals_last_page": 1.5,
    "matrix_page": 3,
    "home_hr": 3,
    "cycle_dashboard": 3,
}
GROWTH_ROUNDS = 3
GROWTH_SECONDS = 3.0
PROBE_TIMEOUT = 60
PORTS = {SMALL: 8796, SIZE: 8797}
Figures = dict[str, dict[str, Any]]


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def databases() -> dict[int, str]:
    base = bench_database_url(os.environ)
    return {SMALL: f"{base}_1k", SIZE: f"{base}_100k"}


# ---------------------------------------------------------------- jobs (child process, Django set up)


def _renamed(figures: Figures) -> Figures:
    return {name.replace("_10k", "_100k"): value for name, value in figures.items()}


def _timed_seed() -> tuple[Figures, str]:
    import resource

    from django.core.management import call_command

    from people.demo import synthetic_username

    started, cpu = time.perf_counter(), time.process_time()
    call_command("seed_demo", employees=SIZE, stdout=open(os.devnull, "w"))  # noqa: SIM115
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "seed_100k_s": {
            "value": round(elapsed, 3),
            "unit": "s",
            "cpu_s": round(cpu, 1),
            "measured": f"manage.py seed_demo; {load()}",
        },
        "seed_100k_peak_mb": {"value": round(peak), "unit": "MB", "measured": "the process's peak RSS after seeding"},
    }
    return figures, synthetic_username(1)


def _timed_import(top: str) -> Figures:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from bench.run import import_csv
    from people.models import ImportStatus
    from people.org_import import start_import

    user = get_user_model().objects.get(username=top)
    content = import_csv(SIZE)
    # A deployment importing 100,000 rows in one file raises THROUGHLINE_IMPORT_MAX_ROWS (20,000 by default).
    settings.THROUGHLINE_IMPORT_MAX_ROWS = max(settings.THROUGHLINE_IMPORT_MAX_ROWS, SIZE)
    started, cpu = time.perf_counter(), time.process_time()
    record = start_import(user=user, file_name="bench-100k.csv", content=content, deactivate_missing=False)
    record.refresh_from_db()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if record.status != ImportStatus.SUCCEEDED:
        sys.exit(f"The 100k import ended {record.status}, not succeeded. First errors: {record.errors[:10]}")
    measured = f"eager task; {load()}"
    return {"import_100k_s": {"value": round(elapsed, 3), "unit": "s", "cpu_s": round(cpu, 1), "measured": measured}}


def _timed_launch(head: Any) -> Figures:
    """As bench/appraisals_bench.py times the 10k launch, without sending its to-do emails
    afterwards: at 100k they are 200,000 messages, spread over the workers in production."""
    from unittest import mock

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from appraisals import demo as appraisals_demo
    from appraisals import tasks
    from appraisals.models import CycleState
    from appraisals.services import cycles
    from cascade import demo as cascade_demo

    today = timezone.localdate()
    period, _previous = cascade_demo.goal_periods(today)
    hr = get_user_model().objects.get(pk=head.user_id)
    data = {"name": "Bench cycle", "methodology": "pdsa", "include_everyone": False}
    data |= appraisals_demo.windows_in_do(period, today)
    cycle = cycles.cycle_create(user=hr, data={**data, "period": period}, departments=[head.department])
    queued: list[object] = []
    started, cpu = time.perf_counter(), time.process_time()
    with mock.patch.object(tasks.send_todo_emails, "delay", queued.append):
        cycles.cycle_launch(user=hr, cycle=cycle)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    cycle.refresh_from_db()
    if cycle.state != CycleState.ACTIVE or cycle.launch_done != SIZE:
        sys.exit(f"The 100k launch ended {cycle.state} with {cycle.launch_done} done: {cycle.launch_error}")
    measured = f"eager, up to the cycle running; {len(queued)} email tasks queued, not run; {load()}"
    return {
        "launch_100k_s": {"value": round(elapsed, 3), "unit": "s", "cpu_s": round(cpu, 1), "measured": measured},
        "launch_100k_todos": {"value": cycle.todos.count(), "unit": "to-dos"},
    }


def jobs() -> Figures:
    """Seed, import, launch, payout and audit at 100k; run with the …_100k database as the bench's."""
    from bench import run

    run.configure_environment()
    import django

    django.setup()
    run.ensure_database()
    run.reset_database()
    from django.conf import settings

    from bench import audits_bench, incentives_bench
    from people.models import Employee

    print(f"100k jobs on {settings.DATABASES['default']['NAME']} ({load()})", flush=True)
    figures, top = _timed_seed()
    print(f"  seed {figures['seed_100k_s']['value']} s", flush=True)
    save(figures)  # as it goes: a job that fails later keeps the figures before it
    figures |= _timed_import(top)
    print(f"  import {figures['import_100k_s']['value']} s", flush=True)
    save(figures)
    run.analyze()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    head = Employee.objects.select_related("user", "department").get(user__username=top)
    Employee.objects.filter(pk=head.pk).update(is_hr_admin=True)
    figures |= _timed_launch(head)
    print(f"  launch {figures['launch_100k_s']['value']} s", flush=True)
    save(figures)
    run.analyze()  # the launch wrote 100,000 appraisals: the plans of what follows should know it
    cpu = time.process_time()
    figures |= _renamed(incentives_bench.measure(top, SIZE))
    figures["payout_100k_s"]["cpu_s_both_runs"] = round(time.process_time() - cpu, 1)
    figures["payout_100k_s"]["measured"] += f"; {load()}"
    print(f"  payout {figures['payout_100k_s']['value']} s", flush=True)
    save(figures)
    audited: Figures = {}
    cpu = time.process_time()
    audits_bench.bench_audit(audited)
    audited["audit_10k_s"]["cpu_s_both_runs"] = round(time.process_time() - cpu, 1)
    figures |= _renamed(audited)
    figures["audit_100k_s"]["measured"] += f"; {load()}"
    print(f"  audit {figures['audit_100k_s']['value']} s", flush=True)
    save(figures)
    run.analyze()
    figures |= _sizes()
    return figures


def _sizes() -> Figures:
    """How big the 100k organisation is on disk: the database, and the largest tables with their
    rows (pg_total_relation_size: table, indexes and TOAST), for sizing larger ones (docs/scaling.md)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        database = cursor.fetchone()[0]
        cursor.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' "
            "ORDER BY 2 DESC LIMIT 12"
        )
        tables = {name: {"mb": round(size / 2**20, 1), "rows": rows} for name, size, rows in cursor.fetchall()}
    return {"db_100k_mb": {"value": round(database / 2**20), "unit": "MB", "tables": tables}}


# ---------------------------------------------------------------- growth (gunicorn, bench/http.py)


def _p50_ms(port: int, session: str, path: str) -> float:
    """The median of one client's requests for GROWTH_SECONDS (at least five); inf if a first
    request takes longer than PROBE_TIMEOUT (the figure then says so rather than waiting)."""
    import http.client

    from bench.http import HOST, drive, get, headers_for

    probe = http.client.HTTPConnection(HOST, port, timeout=PROBE_TIMEOUT)
    try:
        probe.request("GET", path, headers=headers_for(session, port))
        probe.getresponse().read()
    except TimeoutError:
        return math.inf
    finally:
        probe.close()
    result = drive(get(port, session, path), 1, GROWTH_SECONDS, minimum=5)
    if result.errors:
        raise RuntimeError(f"GET {path} on port {port}: {result.errors} errors {sorted(result.statuses)}")
    return result.percentile(0.5) * 1000


def _paths(target: Any) -> dict[str, tuple[str, str]]:
    from bench.http import last_goals_page

    data = target.data
    return {
        "my_goals": ("employee", "/cascade/goals/mine/"),
        "appraisal_page": ("employee", f"/reviews/appraisals/{data['appraisal']}/"),
        "measure_page": ("employee", f"/cascade/measures/{data['measure']}/"),
        "api_goals_hr": ("hr", "/api/v1/goals/"),
        # A deep keyset cursor (or, before keyset pages, the last page number), as bench/http.py makes it.
        "api_goals_last_page": ("hr", last_goals_page(target)),
        "matrix_page": ("hr", "/cascade/matrix/"),
        "home_hr": ("hr", "/"),
        "cycle_dashboard": ("hr", f"/reviews/cycles/{data['cycle']}/"),
    }


def growth() -> Figures:
    from bench.http import CHECKOUT, PREPARE, Server, Target, ensure_database, run_prepare, server_environment

    servers: dict[int, Server] = {}
    data: dict[int, dict[str, Any]] = {}
    environs: dict[int, dict[str, str]] = {}
    for size, url in databases().items():
        ensure_database(url)
        environ = server_environment(url, "bench.settings", CHECKOUT)
        started = time.perf_counter()
        data[size] = run_prepare(CHECKOUT, environ, "prepare", str(size), "1")
        print(f"growth: {url.rsplit('/', 1)[1]} ready in {time.perf_counter() - started:.1f} s ({PREPARE.name})")
        servers[size] = Server(CHECKOUT, PORTS[size], environ)
        environs[size] = environ
    figures: Figures = {}
    try:
        for server in servers.values():
            server.start()
        paths = {size: _paths(Target(str(size), "", servers[size], data[size], environs[size])) for size in servers}
        for name, target in GROWTH_TARGETS.items():
            p50s: dict[int, list[float]] = {SMALL: [], SIZE: []}
            for _round in range(GROWTH_ROUNDS):
                for size in (SMALL, SIZE):
                    who, path = paths[size][name]
                    p50s[size].append(_p50_ms(PORTS[size], data[size]["sessions"][who], path))
                if any(math.isinf(p50s[size][-1]) for size in (SMALL, SIZE)):
                    break  # once is enough to know it is too slow
            small, large = statistics.median(p50s[SMALL]), statistics.median(p50s[SIZE])
            if math.isinf(large) or math.isinf(small):
                figures[f"{name}_growth"] = {
                    "value": 999.0,
                    "unit": "x",
                    "target": target,
                    "measured": f"a request took over {PROBE_TIMEOUT} s (at 1k: {small:.1f} ms); {load()}",
                }
                save(figures)
                print(f"  {name}: 1k {small:.1f} ms, 100k over {PROBE_TIMEOUT} s", flush=True)
                continue
            figures[f"{name}_growth"] = {
                "value": round(large / small, 2),
                "unit": "x",
                "target": target,
                "p50_1k_ms": round(small, 1),
                "p50_100k_ms": round(large, 1),
                "path": paths[SIZE][name][1],
                "as": paths[SIZE][name][0],
                "measured": f"gunicorn, production settings, one client, median of {GROWTH_ROUNDS} runs; {load()}",
            }
            save(figures)  # as it goes, as the jobs do
            print(f"  {name}: 1k {small:.1f} ms, 100k {large:.1f} ms", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return figures


# ---------------------------------------------------------------- entry points


def run_jobs_in_child() -> None:
    """The jobs in a process of their own: bench/run.py's process is set up on the 10k database."""
    environ = dict(os.environ) | {"BENCH_DATABASE_URL": databases()[SIZE]}
    child = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--jobs"], cwd=Path(__file__).resolve().parent.parent, env=environ
    )
    if child.returncode:
        print(f"The 100k jobs stopped with exit code {child.returncode}; growth is measured on what they left.")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--jobs" in argv:
        figures = jobs()
        save(figures)
        report(figures, JOB_TARGETS)
        return
    if "--growth-only" not in argv:
        run_jobs_in_child()
    figures = growth()
    save(figures)
    print("100k growth (p50 at 100k ÷ p50 at 1k):")
    report(figures, GROWTH_TARGETS_BY_FIGURE)


GROWTH_TARGETS_BY_FIGURE = {f"{name}_growth": target for name, target in GROWTH_TARGETS.items()}


if __name__ == "__main__":
    main()
