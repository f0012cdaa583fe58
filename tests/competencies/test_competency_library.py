"""The competency library: indicators per level, retiring, and who may change it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from competencies import selectors, services
from competencies.models import Competency, CompetencyStatus, FormCompetency
from competencies.selectors import preview
from core.errors import ConflictError
from tests.competencies.helpers import user_of


def test_it_creates_a_competency_with_an_indicator_per_level(process_thinking):
    assert [(i.level, i.text) for i in process_thinking.indicators.all()][:2] == [
        (1, "Describes own tasks."),
        (2, "Helps map."),
    ]
    assert process_thinking.status == CompetencyStatus.ACTIVE


def test_it_replaces_the_indicators_as_a_whole(hr, process_thinking):
    services.competency_update(
        user=hr, competency=process_thinking, expected_version=1, data={"category": "Lean"}, indicators=["One", "Two"]
    )
    assert [i.text for i in process_thinking.indicators.all()] == ["One", "Two"]
    assert (process_thinking.category, process_thinking.version) == ("Lean", 2)


def test_it_refuses_an_empty_indicator(hr):
    with pytest.raises(ValidationError) as excinfo:
        services.competency_create(user=hr, name="Coaching", indicators=["Listens.", " "])
    assert excinfo.value.message_dict == {"indicators": ["The indicator for level 2 is empty."]}
    assert not Competency.objects.filter(name="Coaching").exists()


def test_it_refuses_a_second_competency_with_the_same_name_ignoring_case(hr, process_thinking):
    with pytest.raises(ValidationError) as excinfo:
        services.competency_create(user=hr, name="process THINKING")
    assert "already exists" in str(excinfo.value)


def test_it_refuses_a_stale_edit(hr, process_thinking):
    services.competency_update(user=hr, competency=process_thinking, expected_version=1, data={"description": "A"})
    stale = Competency.objects.get(pk=process_thinking.pk)
    stale.version = 1
    with pytest.raises(ConflictError):
        services.competency_update(user=hr, competency=stale, expected_version=1, data={"description": "B"})
    assert Competency.objects.get(pk=process_thinking.pk).description == "A"


def test_a_retired_competency_cannot_be_added_to_a_new_draft(hr, built, scale):
    change = services.competency_create(user=hr, name="Change management")
    services.competency_retire(user=hr, competency=change, expected_version=1)
    with pytest.raises(ValidationError) as excinfo:
        services.draft_add_competency(user=hr, version=built.draft, expected_version=None, competency=change, weight=10)
    assert excinfo.value.message_dict == {
        "competency": ["“Change management” is retired, so it cannot be added to a form."]
    }
    with pytest.raises(ValidationError) as excinfo:
        services.draft_replace_content(
            user=hr,
            version=built.draft,
            expected_version=None,
            data={"competencies": [services.CompetencySpec(change, 100)]},
        )
    assert "“Change management” is retired" in excinfo.value.message_dict["competencies"][0]
    assert not FormCompetency.objects.filter(competency=change).exists()


def test_a_retired_competency_stays_on_the_forms_that_used_it(hr, built, published, process_thinking):
    services.competency_retire(user=hr, competency=process_thinking, expected_version=1)
    shown = preview.preview(published)
    assert [c.name for c in shown.competencies.items] == ["Process thinking", "Data-informed decision making"]
    assert shown.competencies.items[0].retired
    # A new draft keeps it too, but it must go before that draft can be published.
    draft = services.form_start_new_draft(user=hr, form=built.form)
    assert draft.competencies.filter(competency=process_thinking).exists()
    assert (
        "“Process thinking” is retired; remove it before publishing."
        in selectors.version_problems(draft)["competencies"]
    )
    with pytest.raises(ValidationError):
        services.form_publish(user=hr, version=draft, expected_version=draft.version)


def test_a_retired_competency_can_be_reinstated(hr, process_thinking):
    services.competency_retire(user=hr, competency=process_thinking, expected_version=1)
    services.competency_reinstate(user=hr, competency=process_thinking, expected_version=2)
    assert Competency.objects.get(pk=process_thinking.pk).status == CompetencyStatus.ACTIVE


@pytest.mark.parametrize("role", ["employee", "manager", "chief", "stranger"])
def test_only_hr_changes_the_library(cast, process_thinking, role):
    user = user_of(getattr(cast, role))
    with pytest.raises(PermissionDenied):
        services.competency_create(user=user, name="Mine")
    with pytest.raises(PermissionDenied):
        services.competency_retire(user=user, competency=process_thinking, expected_version=1)
    assert Competency.objects.get(pk=process_thinking.pk).status == CompetencyStatus.ACTIVE
