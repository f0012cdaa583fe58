"""Competencies fixtures on top of the shared cast: a scale, competencies, a draft form and a published one."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from competencies import selectors, services
from competencies.models import AppraisalForm, Competency, FormVersion, RatingScale
from people.models import Employee

PLAIN_LEVELS = [
    {"value": 1, "label": "Unsatisfactory", "descriptor": "Well below what was agreed."},
    {"value": 2, "label": "Needs improvement", "descriptor": "Gaps."},
    {"value": 3, "label": "Meets expectations", "descriptor": "As agreed."},
    {"value": 4, "label": "Exceeds expectations", "descriptor": "More than agreed."},
    {"value": 5, "label": "Outstanding", "descriptor": "Exceptional."},
]


def user_of(employee: Employee):  # type: ignore[no-untyped-def]
    """A fresh user object: the selectors cache the employee record on it."""
    return get_user_model().objects.get(pk=employee.user_id)


@pytest.fixture
def hr(cast):  # type: ignore[no-untyped-def]
    return user_of(cast.hr)


@pytest.fixture
def scale(hr) -> RatingScale:  # type: ignore[no-untyped-def]
    return services.scale_create(user=hr, name="Plain 1–5", levels=PLAIN_LEVELS)


@pytest.fixture
def process_thinking(hr) -> Competency:  # type: ignore[no-untyped-def]
    return services.competency_create(
        user=hr,
        name="Process thinking",
        description="Maps and redesigns workflows.",
        indicators=["Describes own tasks.", "Helps map.", "Maps end to end.", "Leads redesigns.", "Shapes design."],
    )


@pytest.fixture
def data_informed(hr) -> Competency:  # type: ignore[no-untyped-def]
    return services.competency_create(
        user=hr, name="Data-informed decision making", indicators=["Reads a figure.", "Keeps a run chart."]
    )


@dataclass
class Built:
    form: AppraisalForm
    draft: FormVersion


@pytest.fixture
def built(hr, scale, process_thinking, data_informed) -> Built:  # type: ignore[no-untyped-def]
    """A draft with two competencies at 60/40 in a 60/40 form: ready to publish."""
    form = services.form_create(user=hr, name="Nursing appraisal", methodology="pdsa", goals_scale=scale)
    draft = selectors.draft_of(form)
    assert draft is not None
    services.draft_add_competency(user=hr, version=draft, expected_version=None, competency=process_thinking, weight=60)
    services.draft_add_competency(user=hr, version=draft, expected_version=None, competency=data_informed, weight=40)
    draft.refresh_from_db()
    return Built(form=form, draft=draft)


@pytest.fixture
def published(hr, built) -> FormVersion:  # type: ignore[no-untyped-def]
    return services.form_publish(user=hr, version=built.draft, expected_version=built.draft.version)
