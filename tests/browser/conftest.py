"""Playwright against Debian's Chromium and a live server (no browser downloads here)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    # The live server runs in a thread of this process; Playwright's sync API runs an event loop here too.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.csp_violations = violations
    yield page
    context.close()


# axe-core 4.14.1, the minified build from npm (`npm pack axe-core@4.14.1`), licence beside it.
# It lives with the tests, not in static/, so that no deployment collects or serves it.
# Only the tests inject it; no page of the app loads it.
AXE = Path(__file__).resolve().parent / "axe.min.js"

# Each violation as "rule (impact): help — the offending nodes".
RUN_AXE = r"""async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ` +
    v.nodes.map((n) => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " ")).join("\n    "));
}"""
DUPLICATE_IDS = """() => {
  const seen = {};
  for (const element of document.querySelectorAll("[id]")) seen[element.id] = (seen[element.id] || 0) + 1;
  return Object.keys(seen).filter((id) => seen[id] > 1);
}"""


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def check_accessible(page) -> None:
    """Fail with every axe violation and every duplicated element id on the page as it stands.

    axe goes in through page.evaluate: add_script_tag writes an inline <script>, which the strict
    content security policy blocks (and reports), whereas the DevTools protocol is not subject to it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    where = f"{page.url} at {page.viewport_size['width']} px"
    violations = page.evaluate(RUN_AXE)
    assert not violations, f"axe found {len(violations)} violation(s) on {where}:\n" + "\n".join(violations)
    duplicates = page.evaluate(DUPLICATE_IDS)
    assert not duplicates, f"duplicate element ids on {where}: {duplicates}"


def check_no_sideways_scroll(page) -> None:
    """The page is no wider than the window: wide content wraps or scrolls inside its own box."""
    width, window = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= window, f"{page.url} is {width} px wide in a {window} px window"


@pytest.fixture
def assert_accessible() -> Callable[[object], None]:
    """``assert_accessible(page)``: zero axe violations and no duplicate ids on the current page."""
    return check_accessible


@pytest.fixture
def demo() -> None:
    """The demo hospital, as `make run` loads it."""
    from tests.browser.journey import seed_demo

    seed_demo()
