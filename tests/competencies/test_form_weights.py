"""Weights: sections total 100, competencies total 100 within their section, refused
with the numbers that are off; and the results/process balance with its floor."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from competencies import selectors, services
from competencies.models import FormVersion, VersionStatus


def rows_of(draft: FormVersion) -> dict[str, int]:
    return {row.competency.name: row.pk for row in draft.competencies.select_related("competency")}


def test_it_refuses_section_weights_that_do_not_total_100_with_the_numbers(hr, built):
    with pytest.raises(ValidationError) as excinfo:
        services.draft_update(
            user=hr, version=built.draft, expected_version=built.draft.version,
            data={"goals_weight": 40, "competencies_weight": 50},
        )  # fmt: skip
    assert excinfo.value.message_dict == {
        "weights": ["The section weights total 90 (goals 40, competencies 50); they must total 100."]
    }
    built.draft.refresh_from_db()
    assert (built.draft.goals_weight, built.draft.competencies_weight) == (60, 40)


def test_changing_one_section_weight_is_checked_against_the_other(hr, built):
    with pytest.raises(ValidationError) as excinfo:
        services.draft_update(user=hr, version=built.draft, expected_version=None, data={"goals_weight": 70})
    assert "total 110 (goals 70, competencies 40)" in excinfo.value.message_dict["weights"][0]


def test_it_refuses_competency_weights_that_do_not_total_100_with_the_numbers(hr, built):
    ids = rows_of(built.draft)
    with pytest.raises(ValidationError) as excinfo:
        services.draft_set_weights(
            user=hr, version=built.draft, expected_version=built.draft.version,
            goals_weight=50, competencies_weight=50,
            competency_weights={ids["Process thinking"]: 50, ids["Data-informed decision making"]: 30},
        )  # fmt: skip
    assert excinfo.value.message_dict == {
        "competencies": [
            "The competency weights total 80 (Process thinking 50, Data-informed decision making 30); "
            "they must total 100."
        ]
    }
    built.draft.refresh_from_db()
    assert built.draft.goals_weight == 60  # nothing was saved


def test_it_reports_both_sums_at_once(hr, built):
    ids = rows_of(built.draft)
    with pytest.raises(ValidationError) as excinfo:
        services.draft_set_weights(
            user=hr, version=built.draft, expected_version=None, goals_weight=40, competencies_weight=50,
            competency_weights={ids["Process thinking"]: 70, ids["Data-informed decision making"]: 40},
        )  # fmt: skip
    assert set(excinfo.value.message_dict) == {"weights", "competencies"}


def test_weights_that_add_up_are_saved_together(hr, built):
    ids = rows_of(built.draft)
    services.draft_set_weights(
        user=hr, version=built.draft, expected_version=built.draft.version, goals_weight=50, competencies_weight=50,
        competency_weights={ids["Process thinking"]: 30, ids["Data-informed decision making"]: 70},
    )  # fmt: skip
    assert (built.draft.goals_weight, built.draft.competencies_weight) == (50, 50)
    assert sorted(built.draft.competencies.values_list("weight", flat=True)) == [30, 70]


def test_it_refuses_a_competency_weight_outside_1_to_100(hr, built):
    ids = rows_of(built.draft)
    with pytest.raises(ValidationError) as excinfo:
        services.draft_set_weights(
            user=hr, version=built.draft, expected_version=None, goals_weight=60, competencies_weight=40,
            competency_weights={ids["Process thinking"]: 0, ids["Data-informed decision making"]: 100},
        )  # fmt: skip
    assert "“Process thinking” needs a weight between 1 and 100, not 0." in excinfo.value.message_dict["competencies"]


def test_a_draft_may_be_half_built_but_publishing_checks_everything(hr, built, scale, data_informed):
    row = built.draft.competencies.get(competency=data_informed)
    services.draft_update_competency(user=hr, version=built.draft, expected_version=None, row=row, weight=25)
    problems = selectors.version_problems(built.draft)
    assert problems == {
        "competencies": [
            "The competency weights total 85 (Process thinking 60, Data-informed decision making 25); "
            "they must total 100."
        ]
    }
    built.draft.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.form_publish(user=hr, version=built.draft, expected_version=built.draft.version)
    assert excinfo.value.message_dict == problems
    assert FormVersion.objects.get(pk=built.draft.pk).status == VersionStatus.DRAFT


def test_publishing_needs_a_competency_and_the_goals_scale(hr):
    form = services.form_create(user=hr, name="Empty")
    draft = selectors.draft_of(form)
    with pytest.raises(ValidationError) as excinfo:
        services.form_publish(user=hr, version=draft, expected_version=draft.version)
    assert excinfo.value.message_dict == {
        "goals_scale": ["Choose the rating scale for the goals section."],
        "competencies": ["Add at least one competency."],
    }


def test_the_balance_warns_below_the_floor(hr, built):
    assert selectors.version_balance(built.draft).below_floor is False  # 40% process, floor 30
    services.draft_update(
        user=hr, version=built.draft, expected_version=None, data={"goals_weight": 80, "competencies_weight": 20}
    )
    balance = selectors.version_balance(built.draft)
    assert (balance.results_weight, balance.process_weight, balance.floor) == (80, 20, 30)
    assert balance.below_floor
    assert balance.warning.startswith("Over-emphasis on end results: only 20% of this form")


@override_settings(THROUGHLINE_MIN_PROCESS_WEIGHT=50)
def test_the_floor_comes_from_settings(built):
    balance = selectors.version_balance(built.draft)
    assert (balance.floor, balance.below_floor) == (50, True)


def test_a_form_below_the_floor_may_still_be_published(hr, built):
    services.draft_update(
        user=hr, version=built.draft, expected_version=None, data={"goals_weight": 80, "competencies_weight": 20}
    )
    version = services.form_publish(user=hr, version=built.draft, expected_version=None)
    assert version.status == VersionStatus.PUBLISHED
