"""cascade.charts: change points split a series into phases, each with its own charts.

Pure functions: no database.
"""

from __future__ import annotations

from datetime import date, datetime

from cascade.charts import chart_for, has_special_cause


def monthly(values, start_year: int = 2025):
    return [(date(start_year + i // 12, i % 12 + 1, 1), value) for i, value in enumerate(values)]


# test_charts.COMMON_CAUSE_20: mean 12, MR̄ 2, UCL 17.32, LCL 6.68, median 12.5.
BEFORE = [13, 13, 13, 13, 12, 14, 10, 13, 9, 11, 13, 11, 13, 15, 12, 10, 11, 10, 9, 15]
# After the change (from September 2026), twelve points:
# sum 5+6+4+5+6+5+4+6+5+5+6+4 = 61 → mean 5.0833; moving ranges 1,2,1,1,1,1,2,1,0,1,2 = 13 → MR̄ 1.1818
# UCL = 61/12 + 2.66 × 13/11 = 5.0833 + 3.1436 = 8.2270; LCL = 1.9397; MR chart UCL 3.267 × 13/11 = 3.861.
AFTER = [5, 6, 4, 5, 6, 5, 4, 6, 5, 5, 6, 4]
CHANGE = (date(2026, 9, 1), "Discharge checklist adopted")


def stepped(**options):
    return chart_for(monthly(BEFORE + AFTER), direction="down", target=9, change_points=[CHANGE], **options)


def test_a_change_point_starts_a_phase_with_its_own_limits_and_earlier_ones_keep_theirs():
    result = stepped().as_dict()
    first, second = result["phases"]
    assert {k: first[k] for k in ("index", "start", "end", "first", "last", "reason")} == {
        "index": 0,
        "start": "2025-01-01",
        "end": "2026-08-01",
        "first": 0,
        "last": 19,
        "reason": None,
    }
    assert {k: second[k] for k in ("index", "start", "end", "first", "last", "reason")} == {
        "index": 1,
        "start": "2026-09-01",
        "end": "2027-08-01",
        "first": 20,
        "last": 31,
        "reason": "Discharge checklist adopted",
    }
    assert (first["xmr"]["status"], first["xmr"]["mean"], first["xmr"]["ucl"], first["xmr"]["lcl"]) == (
        "final",
        12.0,
        17.32,
        6.68,
    )
    assert (second["xmr"]["status"], second["xmr"]["mean"], second["xmr"]["ucl"], second["xmr"]["lcl"]) == (
        "provisional",
        5.0833,
        8.227,
        1.9397,
    )
    assert (first["run"]["median"], second["run"]["median"]) == (12.5, 5.0)
    assert second["mr"] == {"mean": 1.1818, "ucl": 3.861, "status": "provisional"}


def test_the_top_level_charts_and_the_verdicts_are_the_current_phase_s():
    chart = stepped()
    result = chart.as_dict()
    assert (result["run"], result["xmr"], result["mr"]) == (
        result["phases"][1]["run"],
        result["phases"][1]["xmr"],
        result["phases"][1]["mr"],
    )
    # Lower is better, target 9: the new process (UCL 8.227) always meets it; the old one
    # (6.68 to 17.32) did only sometimes.
    assert result["xmr"]["assurance"] == "always"
    assert result["phases"][0]["xmr"]["assurance"] == "inconsistent"
    assert not has_special_cause(chart)
    assert chart.summary == (
        "Since the change point in Sep 2026, common-cause variation only: no special cause detected; changes are "
        "within the expected range (limits are provisional until 20 points)."
    )


def test_without_the_change_point_the_step_is_a_special_cause_on_mixed_limits():
    result = chart_for(monthly(BEFORE + AFTER), direction="down", target=9).as_dict()
    assert len(result["phases"]) == 1
    assert result["xmr"]["assurance"] == "inconsistent"  # judged on limits from the old process
    assert [s["start"] for s in result["xmr"]["signals"] if s["rule"] == "outside_limits"] == list(range(20, 32))


def test_no_rule_runs_across_a_change_point():
    # 10,11,12 then 13,14,15,16 after the change: seven rising across it, three and four within each phase.
    values = [12, 9, 14, 8, 13, 10, 15, 9, 10, 11, 12, 13, 14, 15, 16, 13, 17, 12, 18, 13, 16, 14]
    whole = chart_for(monthly(values), direction="up").as_dict()
    assert ("trend", 7, 14) in [(s["rule"], s["start"], s["end"]) for s in whole["run"]["signals"]]
    split = chart_for(monthly(values), direction="up", change_points=[(date(2025, 12, 1), "New rota")]).as_dict()
    assert [phase["first"] for phase in split["phases"]] == [0, 11]
    for phase in split["phases"]:
        assert "trend" not in [s["rule"] for s in phase["run"]["signals"] + phase["xmr"]["signals"]]
    assert split["points"][11]["mr"] is None  # a phase's first point has no moving range
    assert split["points"][12]["mr"] == 1.0


def test_points_say_which_phase_they_belong_to():
    points = stepped().as_dict()["points"]
    assert [p["phase"] for p in points] == [0] * 20 + [1] * 12


def test_change_points_outside_the_data_or_leaving_an_empty_phase_start_none_but_are_annotated():
    change_points = [
        (date(2024, 6, 1), "Before the data"),
        (date(2025, 1, 1), "On the first observation"),
        (datetime(2026, 8, 15, 9, 0), "Mid-month: the next observation starts the phase"),
        (date(2026, 9, 1), "Same first point, later: names the phase"),
        (date(2030, 1, 1), "After the data"),
    ]
    result = chart_for(monthly(BEFORE + AFTER), direction="down", change_points=change_points).as_dict()
    assert [(p["first"], p["reason"]) for p in result["phases"]] == [
        (0, None),
        (20, "Same first point, later: names the phase"),
    ]
    assert [a["date"] for a in result["annotations"]] == [
        "2024-06-01",
        "2025-01-01",
        "2026-08-15",
        "2026-09-01",
        "2030-01-01",
    ]
    assert {a["kind"] for a in result["annotations"]} == {"change_point"}


def test_other_annotations_are_passed_through_sorted_by_date():
    result = chart_for(
        monthly(BEFORE),
        direction="up",
        change_points=[(date(2025, 6, 1), "Adopted")],
        annotations=[(date(2025, 8, 1), "test_of_change", "PDSA 2"), (date(2025, 3, 1), "test_of_change", "PDSA 1")],
    ).as_dict()
    assert result["annotations"] == [
        {"date": "2025-03-01", "kind": "test_of_change", "label": "PDSA 1"},
        {"date": "2025-06-01", "kind": "change_point", "label": "Adopted"},
        {"date": "2025-08-01", "kind": "test_of_change", "label": "PDSA 2"},
    ]


def test_a_short_new_phase_has_no_limits_and_says_so():
    chart = chart_for(monthly(BEFORE + AFTER[:5]), direction="down", change_points=[CHANGE])
    result = chart.as_dict()
    assert (result["xmr"]["status"], result["xmr"]["ucl"], result["mr"]["ucl"]) == ("insufficient", None, None)
    assert result["run"]["rules_apply"] is False
    assert result["phases"][0]["xmr"]["ucl"] == 17.32  # the earlier phase keeps its limits
    assert chart.summary == (
        "Since the change point in Sep 2026, too few points to judge yet: 5 so far; run-chart rules need 10 "
        "and control limits 12."
    )


def test_limits_come_from_the_first_20_points_of_their_own_phase():
    # A 25-point second phase: its limits use its first 20 points only (as BEFORE + five 30s).
    result = chart_for(
        monthly([50] * 12 + BEFORE + [30] * 5), direction="up", change_points=[(date(2026, 1, 1), "Reset")]
    ).as_dict()
    second = result["phases"][1]
    assert (second["first"], second["last"], second["xmr"]["mean"], second["xmr"]["ucl"]) == (12, 36, 12.0, 17.32)
    assert [s["indices"] for s in second["xmr"]["signals"] if s["rule"] == "outside_limits"] == [
        [32],
        [33],
        [34],
        [35],
        [36],
    ]


def test_no_observations_give_no_phases():
    result = chart_for([], direction="up", change_points=[CHANGE]).as_dict()
    assert (result["phases"], result["mr"]) == ([], {"mean": None, "ucl": None, "status": "insufficient"})
    assert result["annotations"] == [{"date": "2026-09-01", "kind": "change_point", "label": CHANGE[1]}]
