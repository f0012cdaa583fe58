"""The floors: every import between the project's top-level packages points down, never up.

Each package's .py files are parsed with ``ast`` (imports at any depth: inside functions, under
``if TYPE_CHECKING``, in tests of the module itself), so a lazy import to dodge a cycle counts
too. The rules:

* the domain apps stand on floors, ``FLOORS`` lowest first; an app imports only from its own
  floor and the floors below (``core`` is the ground floor and imports no Throughline app);
* ``config`` holds settings and routing: it imports no domain app, except in the URL and API
  routers, which must name every app's routes.

A new app is one line in ``FLOORS`` (improvement will stand between cascade and competencies).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. An app may import from itself and from any app before it in this list.
FLOORS = [
    "core",
    "people",
    "cascade",
    # "improvement",  (will stand here)
    "competencies",
    "appraisals",
    "incentives",
    "audits",
    "home",
]
# config may name the domain apps only where it routes to them.
CONFIG_ROUTERS = {"config/urls.py", "config/api_router.py"}


def imported_modules(source: str) -> Iterator[tuple[int, str]]:
    """(line, dotted module) for every absolute import in the source, at any depth."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def floor_violations(package: str, relative_path: str, source: str, floors: list[str] = FLOORS) -> list[str]:
    """What in one module of ``package`` imports against the floors, as readable lines."""
    problems = []
    for line, module in imported_modules(source):
        target = module.split(".")[0]
        if target not in floors or target == package:
            continue  # the standard library, third parties, tests, or the package itself
        where = f"{relative_path}:{line} imports {module}"
        if package == "config":
            if relative_path not in CONFIG_ROUTERS and target != "core":
                problems.append(f"{where}: config imports no domain app outside its routers")
        elif package == floors[0]:
            problems.append(f"{where}: the ground floor imports no Throughline app")
        elif package in floors and floors.index(target) > floors.index(package):
            problems.append(f"{where}: {package} stands below {target}")
    return problems


def package_modules(package: str) -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def test_every_floor_and_config_is_a_package_here():
    for package in [*FLOORS, "config"]:
        assert (ROOT / package / "__init__.py").is_file(), f"{package} is named in FLOORS but is not a package"


@pytest.mark.parametrize("package", [*FLOORS, "config"])
def test_imports_point_down_the_floors(package):
    problems = [
        problem
        for relative_path, source in package_modules(package)
        for problem in floor_violations(package, relative_path, source)
    ]
    assert problems == []


# ---------------------------------------------------------------- the checker itself


def test_a_planted_upward_import_is_caught_at_any_depth():
    source = (
        "from __future__ import annotations\n"
        "import people.models\n"
        "from cascade import selectors\n"
        "def later():\n"
        "    from appraisals.models import Appraisal  # a lazy import counts too\n"
        "    import audits.rules\n"
    )
    assert floor_violations("cascade", "cascade/planted.py", source) == [
        "cascade/planted.py:5 imports appraisals.models: cascade stands below appraisals",
        "cascade/planted.py:6 imports audits.rules: cascade stands below audits",
    ]


def test_the_ground_floor_imports_no_app_and_config_only_routes():
    assert floor_violations("core", "core/x.py", "from people.models import Employee\n") == [
        "core/x.py:1 imports people.models: the ground floor imports no Throughline app"
    ]
    assert floor_violations("config", "config/views.py", "from cascade import selectors\n") == [
        "config/views.py:1 imports cascade: config imports no domain app outside its routers"
    ]
    assert floor_violations("config", "config/urls.py", "from home.views import home\n") == []
    assert floor_violations("config", "config/settings/base.py", "from core.jobs import beat\n") == []


def test_relative_imports_and_other_packages_are_not_arrows():
    source = "from . import models\nfrom .models import X\nimport django\nfrom tests.factories import F\n"
    assert floor_violations("people", "people/x.py", source) == []


def test_a_new_floor_is_one_line():
    floors = [*FLOORS[:3], "improvement", *FLOORS[3:]]
    assert floor_violations("improvement", "improvement/x.py", "from cascade import access\n", floors) == []
    assert floor_violations("improvement", "improvement/x.py", "from appraisals import access\n", floors) == [
        "improvement/x.py:1 imports appraisals: improvement stands below appraisals"
    ]
    assert floor_violations("cascade", "cascade/x.py", "import improvement.models\n", floors) == [
        "cascade/x.py:1 imports improvement.models: cascade stands below improvement"
    ]
