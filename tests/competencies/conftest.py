"""Competencies fixtures on top of the shared cast: a scale, competencies, a draft form and a
published one, and a stand-in for a record (an appraisal) that uses a published version."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import connection, models

from competencies import selectors, services
from competencies.models import AppraisalForm, Competency, FormVersion, RatingScale
from tests.competencies.helpers import PLAIN_LEVELS, user_of


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


@pytest.fixture
def appraisal_model() -> Iterator[type[models.Model]]:
    """A model with an ordinary foreign key to FormVersion, as an appraisal has, with a table for the
    length of the test (which needs django_db(transaction=True): SQLite refuses schema changes in one)."""

    class StandInAppraisal(models.Model):
        form_version = models.ForeignKey("competencies.FormVersion", on_delete=models.PROTECT, related_name="+")

        class Meta:
            app_label = "competencies"

        def __str__(self) -> str:
            return f"Appraisal on {self.form_version_id}"

    with connection.schema_editor() as editor:
        editor.create_model(StandInAppraisal)
    try:
        yield StandInAppraisal
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(StandInAppraisal)
        del apps.all_models["competencies"]["standinappraisal"]
        apps.clear_cache()
