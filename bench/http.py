"""HTTP benchmark: ``python -m bench.http`` (``make bench-http``).

Measures the application as users meet it, against a bare yardstick served in the same run:

- gunicorn, 2 sync workers, production settings (``bench.settings``: config.settings.production
  plus the URL ``bench/bare/``) over plain HTTP on 127.0.0.1, persistent database connections,
  Redis db 9 as the cache, rate limits raised so they do not distort the figures;
- the bench's PostgreSQL database (as ``python -m bench.run``: BENCH_DATABASE_URL, or a sibling of
  DATABASE_URL's named ``…_bench``) holding a synthetic organisation of ``--size`` people, ~5 goals
  each and a launched review cycle over them; seeded once (bench/http_prepare.py) and reused;
- logged-in clients (session cookies made in the database for an HR admin, an employee and their
  manager), ``--concurrency`` threads per run, runs of ``--seconds`` each, interleaved
  bare, app, bare, app, …, bare for every request kind. ``<name>_rps_ratio`` is the app's req/s
  ÷ the mean of its two neighbouring bare runs, ``<name>_p95_ratio`` the app's p95 ÷ theirs
  (means over ``--rounds``);
- then ``--mixed-sessions`` people for ``--mixed-seconds`` browsing goals, posting progress on
  their own goals and opening their appraisal: ``mixed_errors``, ``mixed_p95_ratio`` (÷ the bare
  view's p95 at the same concurrency, measured just before) and ``mixed_writes_lost`` (201s whose
  update is not in the database afterwards).

``--app-dir PATH`` also measures another checkout (say ``git worktree add /tmp/before <commit>``)
in the same run: its own database (``…_before``, migrated and seeded by that code, since the
migrations differ), its own gunicorn with config.settings.production, interleaved with the same
bare view (served by this checkout's gunicorn, as the old code has no bench/bare.py). Its
figures are written as ``<name>_rps_ratio_before`` and ``<name>_p95_ratio_before``.

Figures are merged into bench/results/latest.json. Targets (API lists ≥ 0.5, pages ≥ 0.3, the
cycle dashboard ≥ 0.2) are floors: a miss is reported, the bench does not fail.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import secrets
import statistics
import string
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.run import bench_database_url, report, save

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
PREPARE = HERE / "http_prepare.py"
HOST = "127.0.0.1"
BARE = "/bench/bare/"
API_TARGET, PAGE_TARGET, CYCLE_TARGET = 0.5, 0.3, 0.2
MIXED_P95_TARGET = 3
Figures = dict[str, dict[str, Any]]


# ---------------------------------------------------------------- the servers


def server_environment(database_url: str, settings_module: str, checkout: Path) -> dict[str, str]:
    """Production settings over plain HTTP on 127.0.0.1, with the bench's database and Redis db 9."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "THROUGHLINE_"))}
    environ |= {
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": str(checkout),
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": "bench-http-" + "k" * 60,  # sessions are signed with it: same for all
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_CONN_MAX_AGE": "600",
        "DJANGO_DEBUG": "false",
        "DJANGO_CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/9"),
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/9"),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # As in production, tasks go to the broker (``make bench`` itself runs them eagerly).
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Rate limits high enough never to answer 429 here: the bench measures the work, not the limit.
        "THROUGHLINE_API_USER_RATE": "100000000/min",
        "THROUGHLINE_API_ANON_RATE": "100000000/min",
        "THROUGHLINE_SIGN_IN_ADDRESS_LIMIT": "1000000",
        "THROUGHLINE_SIGN_IN_ACCOUNT_LIMIT": "1000000",
    }
    return environ


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    base, _, name = url.rpartition("/")
    if "bench" not in name:
        sys.exit(f"Refusing database {name!r}: the bench's database names contain 'bench'.")
    connection = psycopg2.connect(f"{base}/postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def run_prepare(checkout: Path, environ: dict[str, str], *args: str) -> dict[str, Any]:
    """bench/http_prepare.py inside ``checkout`` (its models, its migrations), eager tasks."""
    child = subprocess.run(
        [sys.executable, str(PREPARE), *args],
        cwd=checkout,
        env=environ | {"CELERY_TASK_ALWAYS_EAGER": "true"},
        capture_output=True,
        text=True,
    )
    for line in child.stdout.splitlines():
        if line.startswith("HTTP-PREPARE "):
            return json.loads(line.removeprefix("HTTP-PREPARE "))
    sys.exit(f"bench/http_prepare.py {' '.join(args)} failed in {checkout}:\n{child.stdout}\n{child.stderr[-4000:]}")


@dataclass
class Server:
    checkout: Path
    port: int
    environ: dict[str, str]
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", "2"),
                *("--bind", f"{HOST}:{self.port}", "--chdir", str(self.checkout), "--timeout", "300"),
                *("--log-level", "warning"),
            ],
            cwd=self.checkout,
            env=self.environ,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn for {self.checkout} exited with {self.process.returncode}.")
            try:
                if request(self.port, "GET", "/healthz", {})[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        sys.exit(f"gunicorn for {self.checkout} did not answer /healthz within a minute.")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


# ---------------------------------------------------------------- the load generator

CSRF = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def headers_for(session: str, port: int) -> dict[str, str]:
    """A signed-in browser: the session cookie, and a CSRF cookie echoed in the header for writes."""
    return {
        "Cookie": f"sessionid={session}; csrftoken={CSRF}",
        "X-CSRFToken": CSRF,
        "Origin": f"http://{HOST}:{port}",
        "Accept": "application/json, text/html",
    }


def request(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, bytes]:
    # gunicorn's sync workers close the connection after each answer: one connection a request.
    connection = http.client.HTTPConnection(HOST, port, timeout=300)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class Run:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def drive(act: Callable[[int], tuple[int, bytes]], concurrency: int, seconds: float, minimum: int = 8) -> Run:
    """``concurrency`` threads calling ``act(thread)`` for ``seconds`` (and at least ``minimum``
    answers in all); req/s counts answers over the wall time until the last one came."""
    lock = threading.Lock()
    run = Run(0.0)
    started = time.perf_counter()
    stop_at = started + seconds

    def loop(thread: int) -> None:
        while time.perf_counter() < stop_at or len(run.latencies) + run.errors < minimum:
            began = time.perf_counter()
            try:
                status, _body = act(thread)
            except OSError:
                status = 0
            took = time.perf_counter() - began
            with lock:
                run.statuses[status] = run.statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    run.latencies.append(took)
                else:
                    run.errors += 1

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run


# ---------------------------------------------------------------- what is measured


@dataclass
class Kind:
    name: str
    who: str
    path: str
    target: float


def kinds(data: dict[str, Any], last_goals: str) -> list[Kind]:
    return [
        Kind("api_goals_hr", "hr", "/api/v1/goals/", API_TARGET),
        Kind("api_goals_employee", "employee", "/api/v1/goals/", API_TARGET),
        Kind("api_goals_manager", "manager", "/api/v1/goals/", API_TARGET),
        Kind("api_goals_last_page", "hr", last_goals, API_TARGET),
        Kind("api_appraisals_hr", "hr", "/api/v1/appraisals/", API_TARGET),
        Kind("api_appraisals_employee", "employee", "/api/v1/appraisals/", API_TARGET),
        Kind("api_employees_hr", "hr", "/api/v1/employees/", API_TARGET),
        Kind("api_employees_employee", "employee", "/api/v1/employees/", API_TARGET),
        Kind("api_measures", "hr", "/api/v1/measures/", API_TARGET),
        Kind("api_matrix", "hr", "/api/v1/matrix/", API_TARGET),
        Kind("home_hr", "hr", "/", PAGE_TARGET),
        Kind("home_employee", "employee", "/", PAGE_TARGET),
        Kind("my_goals", "employee", "/cascade/goals/mine/", PAGE_TARGET),
        Kind("measure_page", "employee", f"/cascade/measures/{data['measure']}/", PAGE_TARGET),
        Kind("appraisal_page", "employee", f"/reviews/appraisals/{data['appraisal']}/", PAGE_TARGET),
        Kind("matrix_page", "hr", "/cascade/matrix/", PAGE_TARGET),
        Kind("recognition_feed", "employee", "/incentives/recognition/", PAGE_TARGET),
        Kind("alignment_dashboard", "hr", "/alignment/", PAGE_TARGET),
        Kind("cycle_dashboard", "hr", f"/reviews/cycles/{data['cycle']}/", CYCLE_TARGET),
    ]


@dataclass
class Target:
    """One application under test: its server, its sessions and ids, and the suffix of its figures."""

    label: str
    suffix: str
    server: Server
    data: dict[str, Any]
    environ: dict[str, str]


# The goals API's last page for HR, without walking there: the keyset cursor of the row before it,
# made by the checkout's own code (core.pagination) from its database.
DEEP_CURSOR = """
import django
django.setup()
from cascade.api.views import GoalViewSet
from cascade.models import Goal
from core.pagination import cursor_after
goals = Goal.objects.order_by(*GoalViewSet.ordering)
print(cursor_after(goals, max(0, goals.count() - 50)))
"""


def last_goals_page(target: Target) -> str:
    """The path of HR's last page of goals: a deep cursor, or (a checkout before keyset pages) the
    last page number."""
    status, body = request(
        target.server.port, "GET", "/api/v1/goals/", headers_for(target.data["sessions"]["hr"], target.server.port)
    )
    if status != 200:
        sys.exit(f"{target.label}: GET /api/v1/goals/ as HR answered {status}: {body[:300]!r}")
    first = json.loads(body)
    if "count" in first:
        return f"/api/v1/goals/?page={max(1, math.ceil(first['count'] / 50))}"
    child = subprocess.run(
        [sys.executable, "-c", DEEP_CURSOR],
        cwd=target.server.checkout,
        env=target.environ,
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        sys.exit(f"{target.label}: could not make the goals' last cursor:\n{child.stderr[-2000:]}")
    return f"/api/v1/goals/?cursor={child.stdout.strip()}" if child.stdout.strip() else "/api/v1/goals/"


def get(port: int, session: str, path: str) -> Callable[[int], tuple[int, bytes]]:
    headers = headers_for(session, port)
    return lambda _thread: request(port, "GET", path, headers)


def ratio(app: float, bare: list[float]) -> float:
    base = statistics.fmean(bare)
    return round(app / base, 3) if base else math.nan


def measure_kinds(bare: Target, targets: list[Target], args: argparse.Namespace) -> Figures:
    figures: Figures = {}
    bare_get = get(bare.server.port, bare.data["sessions"]["employee"], BARE)
    wanted = set(args.only.split(",")) if args.only else None
    plans = {
        t.label: [k for k in kinds(t.data, last_goals_page(t)) if wanted is None or k.name in wanted] for t in targets
    }
    for index, kind in enumerate(plans[targets[0].label]):
        # bare, app, bare, app, …, bare: each app run between two bare ones.
        sequence: list[tuple[Target | None, Kind | None]] = [(None, None)]
        for _round in range(args.rounds):
            for t in targets:
                sequence += [(t, plans[t.label][index]), (None, None)]
        runs: list[tuple[Target | None, Run]] = []
        for t, k in sequence:
            if t is None:
                runs.append((None, drive(bare_get, args.concurrency, args.seconds)))
            else:
                act = get(t.server.port, t.data["sessions"][k.who], k.path)
                runs.append((t, drive(act, args.concurrency, args.seconds)))
        for t in targets:
            rps_ratios, p95_ratios, apps = [], [], []
            for position, (owner, run) in enumerate(runs):
                if owner is not t:
                    continue
                neighbours = [runs[position - 1][1], runs[position + 1][1]]
                rps_ratios.append(ratio(run.rps, [n.rps for n in neighbours]))
                p95_ratios.append(ratio(run.percentile(0.95), [n.percentile(0.95) for n in neighbours]))
                apps.append(run)
            errors = sum(r.errors for r in apps)
            statuses = sorted({s for r in apps for s in r.statuses})
            extra = {
                "path": kind.path if t is targets[0] else plans[t.label][index].path,
                "as": kind.who,
                "app_rps": round(statistics.fmean(r.rps for r in apps), 1),
                "app_p50_ms": round(statistics.fmean(r.percentile(0.5) for r in apps) * 1000, 1),
                "app_p95_ms": round(statistics.fmean(r.percentile(0.95) for r in apps) * 1000, 1),
                "bare_rps": round(statistics.fmean(r.rps for o, r in runs if o is None), 1),
                "concurrency": args.concurrency,
                "statuses": statuses,
            }
            if errors:
                extra["errors"] = errors
            rps = round(statistics.fmean(rps_ratios), 3) if not errors else 0.0
            figures[f"{kind.name}_rps_ratio{t.suffix}"] = {
                "value": rps,
                "unit": "x bare",
                "target": kind.target,
                "target_is": "minimum",
                **extra,
            }
            figures[f"{kind.name}_p95_ratio{t.suffix}"] = {
                "value": round(statistics.fmean(p95_ratios), 3),
                "unit": "x bare",
                **extra,
            }
            print(
                f"  {kind.name + t.suffix:<32} req/s ×{rps:<7} p95 ×{statistics.fmean(p95_ratios):<8.2f}"
                f" (app {extra['app_rps']} req/s, p50 {extra['app_p50_ms']} ms; bare {extra['bare_rps']} req/s)"
                + (f"  ERRORS {errors} {statuses}" if errors else ""),
                flush=True,
            )
    return figures


def measure_mixed(bare: Target, target: Target, args: argparse.Namespace) -> Figures:
    """``--mixed-sessions`` people at once: browse goals, post progress on their own, open their appraisal."""
    port = target.server.port
    people = target.data["mixed"][: args.mixed_sessions]
    marker = f"bench-http-{uuid.uuid4().hex[:12]}"
    before = run_prepare(target.server.checkout, target.environ, "count", marker)["count"]
    bare_run = drive(
        get(bare.server.port, bare.data["sessions"]["employee"], BARE), len(people), min(args.mixed_seconds, 15)
    )
    posted = [0] * len(people)
    failures: dict[str, int] = {}
    rngs = [random.Random(n) for n in range(len(people))]

    def act(thread: int) -> tuple[int, bytes]:
        person = people[thread]
        headers = headers_for(person["cookie"], port)
        roll = rngs[thread].random()
        if roll < 0.25 and person["goals"]:
            goal = rngs[thread].choice(person["goals"])
            body = {"goal": goal, "percent": str(rngs[thread].randint(0, 100)), "comment": f"{marker} {thread}"}
            status, answer = request(
                port,
                "POST",
                "/api/v1/goal-updates/",
                headers | {"Content-Type": "application/json"},
                json.dumps(body).encode(),
            )
            if status == 201:
                posted[thread] += 1
            else:
                failures[f"POST {status} {answer[:120]!r}"] = failures.get(f"POST {status} {answer[:120]!r}", 0) + 1
            return status, answer
        if roll < 0.5:
            path = "/api/v1/goals/"
        elif roll < 0.75:
            path = "/cascade/goals/mine/"
        elif person["appraisal"]:
            path = f"/reviews/appraisals/{person['appraisal']}/"
        else:
            path = "/reviews/"
        status, answer = request(port, "GET", path, headers)
        if status >= 300:
            failures[f"GET {path} {status}"] = failures.get(f"GET {path} {status}", 0) + 1
        return status, answer

    run = drive(act, len(people), args.mixed_seconds)
    present = run_prepare(target.server.checkout, target.environ, "count", marker)["count"] - before
    lost = max(0, sum(posted) - present)
    p95_ratio = ratio(run.percentile(0.95), [bare_run.percentile(0.95)])
    extra = {
        "sessions": len(people),
        "seconds": args.mixed_seconds,
        "requests": len(run.latencies) + run.errors,
        "writes": sum(posted),
        "app_p95_ms": round(run.percentile(0.95) * 1000, 1),
        "bare_p95_ms": round(bare_run.percentile(0.95) * 1000, 1),
    }
    if failures:
        extra["failures"] = dict(sorted(failures.items(), key=lambda item: -item[1])[:5])
    s = target.suffix
    print(f"  mixed{s}: {extra}", flush=True)
    return {
        f"mixed_errors{s}": {"value": run.errors, "unit": "errors", "target": 0, **extra},
        f"mixed_p95_ratio{s}": {"value": p95_ratio, "unit": "x bare", "target": MIXED_P95_TARGET, **extra},
        f"mixed_writes_lost{s}": {"value": lost, "unit": "writes", "target": 0, **extra},
    }


def summary(figures: Figures) -> None:
    """Ratios are floors (≥), the mixed figures ceilings (≤); misses are named, the bench goes on."""
    floors = {k: v for k, v in figures.items() if v.get("target_is") == "minimum"}
    for name, figure in figures.items():
        if name in floors:
            verdict = "  ok" if figure["value"] >= figure["target"] else f"  MISSED (target ≥ {figure['target']})"
            print(f"{name:<40} {figure['value']:>8} {figure['unit']}{verdict}")
    report(
        {k: v for k, v in figures.items() if k.startswith("mixed_")},
        {k: v["target"] for k, v in figures.items() if k.startswith("mixed_")},
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=int(os.environ.get("BENCH_HTTP_SIZE", 10_000)))
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each run")
    parser.add_argument("--rounds", type=int, default=2, help="app runs per request kind (each between bare runs)")
    parser.add_argument("--mixed-sessions", type=int, default=50)
    parser.add_argument("--mixed-seconds", type=float, default=60.0)
    parser.add_argument("--only", help="comma-separated request kinds to measure (default: all)")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--app-dir", type=Path, help="another checkout to measure beside this one (…_before)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> Figures:
    args = parse(argv)
    database = bench_database_url(os.environ)
    ensure_database(database)
    current_env = server_environment(database, "bench.settings", CHECKOUT)
    print(f"HTTP bench: preparing {database} ({args.size} people)…", flush=True)
    started = time.perf_counter()
    mixed_needed = max(args.mixed_sessions, 1)
    current = Target(
        "current",
        "",
        Server(CHECKOUT, args.port, current_env),
        run_prepare(CHECKOUT, current_env, "prepare", str(args.size), str(mixed_needed)),
        current_env,
    )
    targets = [current]
    if args.app_dir:
        before_db = f"{database}_before"
        ensure_database(before_db)
        app_dir = args.app_dir.resolve()
        before_env = server_environment(before_db, "config.settings.production", app_dir)
        print(f"HTTP bench: preparing {before_db} with {app_dir}…", flush=True)
        data = run_prepare(app_dir, before_env, "prepare", str(args.size), str(mixed_needed))
        targets.append(Target("before", "_before", Server(app_dir, args.port + 1, before_env), data, before_env))
    print(
        f"  ready in {time.perf_counter() - started:.1f} s: {current.data['employees']} employees, "
        f"{current.data['goals']} goals",
        flush=True,
    )
    figures: Figures = {}
    try:
        for t in targets:
            t.server.start()
        figures |= measure_kinds(current, targets, args)
        if args.mixed_sessions and args.mixed_seconds:
            for t in targets:
                figures |= measure_mixed(current, t, args)
    finally:
        for t in targets:
            t.server.stop()
    for figure in figures.values():
        figure["size"] = args.size
    save(figures)
    summary(figures)
    return figures


if __name__ == "__main__":
    main()
