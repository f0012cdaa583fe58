"""The preview: a form exactly as the employee and the manager will see it."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from competencies import services
from competencies.selectors import preview
from tests.competencies.helpers import PLAIN_LEVELS


def test_the_preview_has_the_goals_competencies_and_dialogue_sections(published, scale):
    shown = preview.preview(published)
    assert (shown.form_name, shown.number, shown.status, shown.audience) == (
        "Nursing appraisal",
        1,
        "published",
        "employee",
    )
    assert (shown.goals.weight, shown.goals.scale.name) == (60, "Plain 1–5")
    assert [level.label for level in shown.goals.scale.levels] == [level["label"] for level in PLAIN_LEVELS]
    assert shown.competencies.weight == 40
    assert [(c.name, c.weight, c.share_of_score) for c in shown.competencies.items] == [
        ("Process thinking", 60, Decimal("24.00")),
        ("Data-informed decision making", 40, Decimal("16.00")),
    ]
    assert [q.key for q in shown.dialogue.questions] == [
        "successes",
        "learning_moments",
        "next_cycle_goals",
        "peer_sharing",
    ]
    assert (shown.balance.results_weight, shown.balance.process_weight) == (60, 40)
    assert shown.problems == {}


def test_each_scale_level_carries_its_descriptor_and_the_competencys_indicator(published):
    item = preview.preview(published).competencies.items[0]
    assert [(lv.order, lv.value, lv.label, lv.indicator) for lv in item.scale.levels][:2] == [
        (1, Decimal("1.00"), "Unsatisfactory", "Describes own tasks."),
        (2, Decimal("2.00"), "Needs improvement", "Helps map."),
    ]
    assert item.scale.levels[0].descriptor == "Well below what was agreed."
    # A competency with indicators for fewer levels than its scale shows blanks above them.
    second = preview.preview(published).competencies.items[1]
    assert [lv.indicator for lv in second.scale.levels] == ["Reads a figure.", "Keeps a run chart.", "", "", ""]


def test_the_employee_and_the_manager_are_addressed_differently(published):
    employee = preview.preview(published, audience="employee")
    manager = preview.preview(published, audience="manager")
    assert employee.competencies.prompt != manager.competencies.prompt
    assert "you worked" in employee.competencies.prompt
    assert "they worked" in manager.competencies.prompt
    assert employee.competencies.items == manager.competencies.items


def test_a_drafts_preview_lists_what_stops_it_being_published(hr, built, data_informed):
    row = built.draft.competencies.get(competency=data_informed)
    services.draft_remove_competency(user=hr, version=built.draft, expected_version=None, row=row)
    shown = preview.preview(built.draft)
    assert shown.status == "draft"
    assert shown.problems == {
        "competencies": ["The competency weights total 60 (Process thinking 60); they must total 100."]
    }


def test_the_preview_costs_the_same_queries_for_two_or_six_competencies(hr, built, scale):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            preview.preview(built.draft)
        return len(context)

    before = queries()
    for n in range(4):
        competency = services.competency_create(user=hr, name=f"Extra {n}", indicators=["a", "b"])
        services.draft_add_competency(
            user=hr, version=built.draft, expected_version=None, competency=competency, weight=5
        )
    assert queries() == before
