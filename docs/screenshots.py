"""Take the README's screenshots from a running demo: ``python docs/screenshots.py [base URL]``.

Start the demo first (``make run``); the pictures land in docs/screenshots/.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent / "screenshots"
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
SHOTS = [
    # (login, path, file name, viewport width[, CSS selector: only the area its elements cover])
    ("employee", "/", "home-employee.png", 1200),
    ("manager", "/", "home-manager.png", 1200),
    ("employee", "/cascade/goals/mine/", "my-goals.png", 1200),
    ("manager", "/cascade/goals/team/", "team-goals.png", 1200),
    ("quality", "/cascade/matrix/", "matrix.png", 1200),
    ("quality", "/cascade/priorities/1/", "priority.png", 1200),
    ("quality", "/cascade/measures/1/", "measure.png", 1200),
    ("employee", "/reviews/appraisals/31/", "appraisal.png", 1200),
    ("hradmin", "/reviews/cycles/2/", "cycle.png", 1200),
    ("hradmin", "/competencies/forms/", "forms.png", 1200),
    ("hradmin", "/people/import/", "import.png", 1200),
    ("hradmin", "/alignment/", "alignment.png", 1200),
    ("hradmin", "/alignment/findings/5/", "finding.png", 1200),
    ("hradmin", "/incentives/plans/2/", "plan.png", 1200),
    ("employee", "/incentives/recognition/", "recognition.png", 1200),
    ("employee", "/cascade/goals/mine/", "my-goals-phone.png", 390),
    # The demo's claims cycle time, split at its change point: run, XmR and moving-range charts in two phases.
    ("quality", "/cascade/measures/1/", "measure-phases.png", 1366, "section.chart-card"),
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for login, path, name, width, *only in SHOTS:
            context = browser.new_context(base_url=BASE, viewport={"width": width, "height": 800})
            page = context.new_page()
            page.goto("/accounts/login/")
            page.get_by_label("Username").fill(login)
            page.get_by_label("Password").fill("throughline")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/")
            page.goto(path)
            if only:
                page.screenshot(path=str(OUT / name), clip=_area(page, only[0]), full_page=True)
            else:
                page.screenshot(path=str(OUT / name), full_page=True)
            context.close()
        browser.close()


def _area(page, selector: str) -> dict[str, float]:
    """The box around every element matching ``selector``, once drawn (charts are drawn by script)."""
    page.locator(selector).first.wait_for()
    page.locator("[data-chart] svg").last.wait_for()
    boxes = [box for box in (e.bounding_box() for e in page.locator(selector).all()) if box]
    scroll = page.evaluate("window.scrollY")
    left, top = min(b["x"] for b in boxes), min(b["y"] for b in boxes) + scroll
    right = max(b["x"] + b["width"] for b in boxes)
    bottom = max(b["y"] + b["height"] for b in boxes) + scroll
    margin = 16
    return {
        "x": left - margin,
        "y": top - margin,
        "width": right - left + 2 * margin,
        "height": bottom - top + 2 * margin,
    }


if __name__ == "__main__":
    main()
