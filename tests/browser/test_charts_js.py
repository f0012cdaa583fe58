"""static/js/charts.js in a real browser, against the standalone demo page.

No Django and no database: a small HTTP server hands out static/ and
templates/cascade/_chart_demo.html under the same strict content security
policy the app sends, so any inline script or style the charts tried to use
would show up as a console error.
"""

from __future__ import annotations

import copy
import functools
import http.server
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "templates" / "cascade" / "_chart_demo.html"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """/static/... from the repository's static/ folder, / from the demo page, all under the CSP."""

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean in ("/", "/demo.html"):
            return str(DEMO)
        return super().translate_path(clean)

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep the test output quiet
        pass


@pytest.fixture(scope="module")
def demo_server() -> Iterator[str]:
    handler = functools.partial(_Handler, directory=str(ROOT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser, demo_server) -> Iterator[object]:
    """The demo page, loaded, with every console error and page error collected."""
    context = browser.new_context(base_url=demo_server, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.goto("/demo.html")
    page.locator("#xmr-chart svg .tl-chart__point").first.wait_for()
    yield page
    context.close()


def demo_data() -> dict:
    text = DEMO.read_text()
    start = text.index(">", text.index('<script id="claims-cycle-time"')) + 1
    return json.loads(text[start : text.index("</script>", start)])


def add_chart(page, chart_id: str, kind: str, data: dict) -> None:
    """Insert a chart and its data block the way an htmx swap would, then announce the swap."""
    page.evaluate(
        """([id, kind, json]) => {
            const block = document.createElement("script");
            block.type = "application/json";
            block.id = id + "-data";
            block.textContent = json;
            const chart = document.createElement("div");
            chart.id = id;
            chart.setAttribute("data-chart", kind);
            chart.setAttribute("data-chart-source", block.id);
            const main = document.querySelector("main");
            main.append(block, chart);
            main.dispatchEvent(new CustomEvent("htmx:afterSettle", {bubbles: true}));
        }""",
        [chart_id, kind, json.dumps(data)],
    )


def shortened(points: int, status: str) -> dict:
    data = copy.deepcopy(demo_data())
    data["points"] = data["points"][:points]
    data["n"] = points
    for p in data["points"]:
        p.update(run_signal=False, spc_signal=False, signal_kind=None)
    data["run"]["signals"] = []
    data["xmr"]["signals"] = []
    data["xmr"]["status"] = status
    if status == "insufficient":
        data["xmr"].update(
            ucl=None, lcl=None, upper_two_thirds=None, lower_two_thirds=None, mr_bar=None, assurance=None
        )
    return data


def test_both_charts_draw_every_point(page):
    for chart in ("#run-chart", "#xmr-chart"):
        assert page.locator(f"{chart} svg.tl-chart__svg").count() == 1
        assert page.locator(f"{chart} svg .tl-chart__point").count() == 24
        assert page.locator(f"{chart} .tl-chart__fallback").is_hidden()
    assert page.locator("#run-chart .tl-chart__ref-label", has_text="Median").count() == 1
    labels = page.locator("#xmr-chart .tl-chart__ref-label").all_text_contents()
    assert any(t.startswith("UCL ") for t in labels)
    assert any(t.startswith("LCL ") for t in labels)
    assert any(t.startswith("Mean ") for t in labels)
    assert "Target 10.0" in labels
    # The SVG is labelled by its title and described by the server's summary.
    svg = page.locator("#xmr-chart svg")
    desc_id = svg.get_attribute("aria-describedby")
    assert page.locator(f"#{desc_id}").text_content().startswith("Cycle time has improved")
    assert page.errors == []


def test_signal_points_are_marked_by_class_shape_and_label(page):
    for chart in ("#run-chart", "#xmr-chart"):
        signals = page.locator(f"{chart} .tl-chart__point--signal")
        assert signals.count() == 8
        assert page.locator(f"{chart} .tl-chart__point--improvement").count() == 8
        label = signals.first.get_attribute("aria-label")
        assert label == "May 2024: 12.1 days \u2014 special cause (improvement)"
        assert page.locator(f"{chart} .tl-chart__band--improvement").count() == 1
    plain = page.locator("#xmr-chart .tl-chart__point").first
    assert "special cause" not in plain.get_attribute("aria-label")
    assert page.locator("#xmr-chart .tl-chart__legend").inner_text().count("improvement") == 1


def test_hovering_a_point_shows_its_value_and_signals(page):
    tooltip = page.locator("#xmr-chart .tl-chart__tooltip")
    assert tooltip.is_hidden()
    page.locator("#xmr-chart .tl-chart__point").nth(22).hover()
    assert tooltip.is_visible()
    text = tooltip.inner_text()
    assert "Nov 2024" in text
    assert "10.4 days" in text
    assert "Below the lower process limit." in text
    assert "Shift: 8 points in a row below the mean." in text
    page.keyboard.press("Escape")
    assert tooltip.is_hidden()
    page.locator("#run-chart .tl-chart__point").nth(3).hover()
    assert page.locator("#run-chart .tl-chart__tooltip").inner_text().split("\n")[:2] == ["Apr 2023", "14.3 days"]


def test_points_are_reached_and_walked_by_keyboard(page):
    points = page.locator("#run-chart .tl-chart__point")
    # One tab stop per chart; the arrows move within it.
    assert page.locator("#run-chart .tl-chart__point[tabindex='0']").count() == 1
    points.nth(0).focus()
    tooltip = page.locator("#run-chart .tl-chart__tooltip")
    assert tooltip.is_visible()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.index") == "1"
    assert points.nth(1).get_attribute("tabindex") == "0"
    assert "13.6 days" in tooltip.inner_text()
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Dec 2024: 10.9 days")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.dataset.index") == "22"
    page.keyboard.press("Escape")
    assert tooltip.is_hidden()
    assert page.evaluate("document.activeElement.dataset.index") == "22"
    # Tabbing from before the chart lands on the remembered point.
    page.locator("#run-heading").evaluate("h => { h.tabIndex = -1; h.focus(); }")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.index") == "22"
    assert page.errors == []


def test_the_numbers_are_in_a_table(page):
    details = page.locator("#xmr-chart details.tl-chart__data")
    summary = details.locator("summary")
    assert summary.inner_text() == "Show the data as a table"
    assert details.locator("table").is_hidden()
    summary.click()
    assert details.locator("table").is_visible()
    rows = details.locator("tbody tr")
    assert rows.count() == 24
    assert rows.nth(22).inner_text().split("\t")[:2] == ["Nov 2024", "10.4"]
    assert "Special cause (improvement)" in rows.nth(22).inner_text()
    assert rows.nth(0).locator("td").last.inner_text() == "None"
    assert page.locator("#run-chart details.tl-chart__data tbody tr").count() == 24


def test_provisional_and_insufficient_limits_are_explained(page):
    add_chart(page, "fifteen", "xmr", shortened(15, "provisional"))
    add_chart(page, "eight", "xmr", shortened(8, "insufficient"))
    fifteen = page.locator("#fifteen")
    eight = page.locator("#eight")
    assert fifteen.locator("svg .tl-chart__point").count() == 15
    assert fifteen.locator("svg .tl-chart__flag").text_content() == "Provisional limits"
    assert fifteen.get_by_text("Provisional limits:", exact=False).is_visible()
    assert fifteen.locator(".tl-chart__ref--limit").count() == 2
    assert eight.locator("svg .tl-chart__point").count() == 8
    assert eight.locator(".tl-chart__ref--limit").count() == 0
    assert eight.get_by_text("Limits appear once there are 12 points").is_visible()
    assert page.errors == []


def test_the_chart_redraws_to_fit_a_phone(page):
    page.set_viewport_size({"width": 360, "height": 800})
    # The redraw is debounced; poll (wait_for_function would need eval, which the CSP forbids).
    for _ in range(50):
        if page.evaluate("document.querySelector('#xmr-chart svg').viewBox.baseVal.width") < 360:
            break
        page.wait_for_timeout(50)
    box = page.locator("#xmr-chart svg").bounding_box()
    assert box["width"] <= 360
    assert page.locator("#xmr-chart svg .tl-chart__point").count() == 24
    # Every date label stays clear of its neighbours.
    lefts = page.locator(
        "#xmr-chart svg .tl-chart__tick[text-anchor='middle']:not(.tl-chart__tick--year)"
    ).evaluate_all("ts => ts.map(t => { const b = t.getBoundingClientRect(); return [b.left, b.right]; })")
    assert len(lefts) >= 4
    assert all(a[1] < b[0] for a, b in itertools.pairwise(lefts))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.errors == []


def test_render_is_public_and_repeatable(page):
    page.evaluate("ThroughlineCharts.render(document.getElementById('run-chart'))")
    page.evaluate("ThroughlineCharts.render(document.getElementById('run-chart'))")
    assert page.locator("#run-chart svg").count() == 1
    assert page.locator("#run-chart .tl-chart__inner").count() == 1
    assert page.locator("#run-chart svg .tl-chart__point").count() == 24
    assert page.errors == []


def two_phases() -> dict:
    """A chart from cascade/charts.py itself: a process at 10, then a step to 20 marked by a change point,
    with a test of change annotated before it."""
    import datetime
    from decimal import Decimal

    from cascade import charts

    months = [datetime.date(2023 + i // 12, i % 12 + 1, 1) for i in range(24)]
    wobble = ("0.4", "-0.3", "0.1", "-0.5", "0.2", "0", "0.3", "-0.2", "0.5", "-0.1", "0.2", "-0.4")
    values = [Decimal(10 if i < 12 else 20) + Decimal(wobble[i % 12]) for i in range(24)]
    chart = charts.chart_for(
        list(zip(months, values, strict=True)),
        direction="up",
        target=25,
        change_points=[(months[12], "Standard work adopted after three PDSA cycles.")],
        annotations=[(months[9], "test_of_change", "PDSA 3: checklist on every shift")],
    ).as_dict()
    chart.update(title="Claims first-pass yield", unit="%")
    return chart


def test_phases_draw_their_own_lines_with_a_marker_at_the_change_point(page):
    data = two_phases()
    for kind in ("run", "xmr", "mr"):
        add_chart(page, f"phased-{kind}", kind, data)
    xmr = page.locator("#phased-xmr")
    xmr.locator("svg .tl-chart__point").first.wait_for()
    # Each phase its own mean and limits, each across its own points only.
    for phase in ("0", "1"):
        assert xmr.locator(f".tl-chart__ref--centre[data-phase='{phase}']").count() == 1
        assert xmr.locator(f".tl-chart__ref--limit[data-phase='{phase}']").count() == 2
    first, second = (
        float(xmr.locator(f".tl-chart__ref--centre[data-phase='{p}']").get_attribute(a))
        for p, a in (("0", "x2"), ("1", "x1"))
    )
    assert first <= second
    # The change point: a vertical marker and its label, and the reason in words under the chart.
    marker = xmr.locator(".tl-chart__changepoint")
    assert marker.count() == 1
    assert marker.get_attribute("aria-label") == (
        "Change point in Jan 2024: Standard work adopted after three PDSA cycles."
    )
    assert xmr.locator(".tl-chart__changepoint-label").text_content().startswith("Change point, Jan 2024")
    assert "2 phases" in xmr.locator(".tl-chart__meta").inner_text()
    # Each phase's mean and limits in words too (only the current phase's are labelled on the drawing).
    before, after = (data["phases"][i]["xmr"] for i in (0, 1))
    assert xmr.locator(".tl-chart__phase-list li").all_inner_texts() == [
        f"Phase 1 (Jan 2023 \u2013 Dec 2023): mean {before['mean']:.1f}, limits {before['lcl']:.1f} to "
        f"{before['ucl']:.1f}, provisional.",
        f"Phase 2 (Jan 2024 \u2013 Dec 2024): mean {after['mean']:.1f}, limits {after['lcl']:.1f} to "
        f"{after['ucl']:.1f}, provisional.",
    ]
    # The run chart says which rules it used, and lists the change point and the test of change.
    run = page.locator("#phased-run")
    assert "IHI run chart rules" in run.locator(".tl-chart__meta").inner_text()
    assert run.locator(".tl-chart__ref--centre").count() == 2
    items = run.locator(".tl-chart__annotation-item").all_inner_texts()
    assert items == [
        "Test of change, Oct 2023: PDSA 3: checklist on every shift",
        "Change point, Jan 2024: Standard work adopted after three PDSA cycles.",
    ]
    assert run.locator("svg .tl-chart__annotation").count() == 1
    assert page.errors == []


def test_on_a_phone_the_current_phases_labels_sit_over_its_own_lines(page):
    page.set_viewport_size({"width": 390, "height": 800})
    add_chart(page, "phased-phone", "xmr", two_phases())
    xmr = page.locator("#phased-phone")
    xmr.locator("svg .tl-chart__point").first.wait_for()
    start = float(xmr.locator(".tl-chart__ref--centre[data-phase='1']").get_attribute("x1"))
    labels = xmr.locator("svg .tl-chart__ref-label--inside")
    assert labels.count() >= 3  # the current phase's mean and limits (and the target)
    for index in range(labels.count()):
        label = labels.nth(index)
        left = label.evaluate("t => t.getBBox().x")
        assert left >= start - 1, f"{label.text_content()!r} drawn over the earlier phase"
    assert page.errors == []


def test_the_moving_range_chart_draws_mr_bar_its_limit_and_a_table(page):
    data = two_phases()
    add_chart(page, "phased-mr", "mr", data)
    mr = page.locator("#phased-mr")
    mr.locator("svg .tl-chart__point").first.wait_for()
    assert mr.locator(".tl-chart__meta").inner_text().startswith("Moving-range chart")
    assert mr.locator("svg .tl-chart__point").count() == 24
    # No moving range for the first point of each phase: the line breaks there.
    assert mr.locator("svg .tl-chart__marker").count() == 22
    labels = mr.locator(".tl-chart__ref-label").all_text_contents()
    assert any(t.startswith("MR\u0304 ") for t in labels) and any(t.startswith("UCL ") for t in labels)
    phase = data["phases"][1]["mr"]
    assert f"UCL {phase['ucl']:.1f}" in labels
    mr.locator("details.tl-chart__data summary").click()
    table = mr.locator("table")
    assert [t.strip() for t in table.locator("thead th").all_inner_texts()] == [
        "Date",
        "Moving range (%)",
        "Phase",
        "Against the upper limit",
    ]
    rows = table.locator("tbody tr")
    assert rows.count() == 24
    assert rows.nth(12).inner_text().split("\t") == [
        "Jan 2024",
        "\u2014",
        "2",
        "First point of a phase: no moving range",
    ]
    assert rows.nth(13).inner_text().split("\t")[1:] == [f"{data['points'][13]['mr']:.1f}", "2", "Within the limit"]
    assert page.errors == []


def test_a_row_lists_every_signal_on_its_point(page):
    data = copy.deepcopy(demo_data())
    # Point 22 carries two XmR signals: the improvement leads, and the row names both.
    data["xmr"]["signals"].append(
        {
            "rule": "two_of_three",
            "start": 21,
            "end": 22,
            "indices": [22],
            "kind": "concern",
            "description": "Two of three.",
        }
    )
    add_chart(page, "both", "xmr", data)
    chart = page.locator("#both")
    chart.locator("svg .tl-chart__point").first.wait_for()
    assert "tl-chart__point--improvement" in chart.locator("svg .tl-chart__point").nth(22).get_attribute("class")
    chart.locator("details.tl-chart__data summary").click()
    cell = chart.locator("tbody tr").nth(22).locator("td").last
    items = cell.locator("li").all_inner_texts()
    assert "Two of three. (concern)" in items
    assert any(i.endswith("(improvement)") for i in items) and len(items) >= 2
    assert cell.inner_text().startswith("Special cause (improvement)")
    assert page.errors == []
