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
    # (login, path, file name, viewport width)
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
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for login, path, name, width in SHOTS:
            context = browser.new_context(base_url=BASE, viewport={"width": width, "height": 800})
            page = context.new_page()
            page.goto("/accounts/login/")
            page.get_by_label("Username").fill(login)
            page.get_by_label("Password").fill("throughline")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/")
            page.goto(path)
            page.screenshot(path=str(OUT / name), full_page=True)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
