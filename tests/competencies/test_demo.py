"""The demo library and forms: loaded once, assigned to the hospital's departments."""

from __future__ import annotations

import pytest

from competencies import demo, selectors
from competencies.models import (
    AppraisalForm,
    AssignmentRule,
    BehaviouralIndicator,
    Competency,
    FormVersion,
    RatingScale,
    ScaleLevel,
    VersionStatus,
)
from competencies.selectors import preview
from people import demo as people_demo
from people.models import Employee

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Competency,
            BehaviouralIndicator,
            RatingScale,
            ScaleLevel,
            AppraisalForm,
            FormVersion,
            AssignmentRule,
        )
    )


@pytest.fixture
def hospital() -> None:
    people_demo.seed_hospital()


def test_it_loads_the_four_qi_competencies_with_five_levels_each(hospital):
    assert demo.seed_hospital().created
    assert list(Competency.objects.values_list("name", flat=True)) == [
        "Change management",
        "Collaborative problem solving",
        "Data-informed decision making",
        "Process thinking",
    ]
    for competency in Competency.objects.all():
        assert list(competency.indicators.values_list("level", flat=True)) == [1, 2, 3, 4, 5]


def test_it_loads_the_four_scales(hospital):
    demo.seed_hospital()
    belts = RatingScale.objects.get(name="Six Sigma belt scale")
    assert list(belts.levels.values_list("label", flat=True)) == [
        "White Belt",
        "Yellow Belt",
        "Green Belt",
        "Black Belt",
        "Master Black Belt",
    ]
    assert [str(v) for v in belts.levels.values_list("value", flat=True)] == ["1.00", "2.00", "3.00", "4.00", "5.00"]
    assert set(RatingScale.objects.values_list("methodology", flat=True)) == {"lean", "six_sigma", "pdsa", "generic"}


def test_seeding_twice_changes_nothing(hospital):
    demo.seed_hospital()
    before = counts()
    again = demo.seed_hospital()
    assert not again.created
    assert "already loaded" in again.message
    assert counts() == before


def test_each_methodology_has_a_published_form_assigned_to_its_departments(hospital):
    demo.seed_hospital()
    assert FormVersion.objects.filter(status=VersionStatus.PUBLISHED).count() == 4

    def form_of(department: str) -> str:
        person = Employee.objects.filter(department__name=department).first()
        return selectors.form_for(person).form.name

    assert form_of("Claims processing") == "Lean appraisal"
    assert form_of("Radiology") == "Six Sigma appraisal"
    assert form_of("Pharmacy") == form_of("Nursing") == "PDSA appraisal"
    assert form_of("Finance") == form_of("HR") == "General appraisal"


def test_one_demo_form_shows_the_over_emphasis_warning(hospital):
    demo.seed_hospital()
    below = {
        version.form.name
        for version in FormVersion.objects.select_related("form")
        if selectors.version_balance(version).below_floor
    }
    assert below == {"Six Sigma appraisal"}


def test_the_demo_forms_preview_with_indicators_beside_each_level(hospital):
    demo.seed_hospital()
    version = FormVersion.objects.get(form__name="Lean appraisal")
    shown = preview.preview(version, audience="manager")
    first = shown.competencies.items[0]
    assert (first.name, first.scale.name, len(first.scale.levels)) == ("Process thinking", "Lean 1–5", 5)
    assert all(level.indicator for level in first.scale.levels)
    assert [q.key for q in shown.dialogue.questions][2] == "next_cycle_goals"


def test_rules_for_departments_are_added_once_the_hospital_exists(db):
    demo.seed_hospital()  # before the people app has loaded the hospital: only the default rule
    assert list(AssignmentRule.objects.values_list("is_default", flat=True)) == [True]
    people_demo.seed_hospital()
    assert demo.seed_hospital().created
    assert AssignmentRule.objects.count() == 5
