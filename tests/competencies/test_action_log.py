"""Every change to the library, the scales, appraisal forms and the assignment rules is written to
the action log in its transaction: who, what, old → new, and the request that did it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from competencies import selectors, services
from competencies.models import AppraisalForm, FormVersion
from core.models import ActionLogEntry
from tests.competencies.helpers import PLAIN_LEVELS

pytestmark = pytest.mark.django_db


def entries(obj: models.Model) -> list[ActionLogEntry]:
    """The object's entries, oldest first."""
    return list(
        ActionLogEntry.objects.filter(content_type__model=obj._meta.model_name, object_id=obj.pk).order_by("at", "pk")
    )


def actions(obj: models.Model) -> list[str]:
    return [entry.action for entry in entries(obj)]


def test_a_competency_is_logged_when_created_edited_retired_and_reinstated(cast, hr, process_thinking):
    services.competency_update(
        user=hr,
        competency=process_thinking,
        expected_version=process_thinking.version,
        data={"category": "Lean"},
        indicators=["Describes own tasks.", "Maps end to end."],
    )
    services.competency_retire(user=hr, competency=process_thinking, expected_version=process_thinking.version)
    services.competency_reinstate(user=hr, competency=process_thinking, expected_version=process_thinking.version)

    created, updated, retired, reinstated = entries(process_thinking)
    assert [created.action, updated.action, retired.action, reinstated.action] == [
        "competency.created",
        "competency.updated",
        "competency.retired",
        "competency.reinstated",
    ]
    assert {entry.actor_id for entry in (created, updated, retired, reinstated)} == {cast.hr.user_id}
    assert created.data["name"] == "Process thinking"
    assert updated.changes["category"] == ["Quality improvement", "Lean"]
    assert updated.changes["indicators"][1] == ["Describes own tasks.", "Maps end to end."]
    assert "name" not in updated.changes  # only what changed
    assert retired.changes == {"status": ["active", "retired"]}
    assert reinstated.changes == {"status": ["retired", "active"]}


def test_a_scales_new_levels_are_logged_old_to_new(hr, scale):
    three = [{"value": level["value"], "label": level["label"]} for level in PLAIN_LEVELS[:3]]
    services.scale_update(user=hr, scale=scale, expected_version=scale.version, data={}, levels=three)
    created, updated = entries(scale)
    assert (created.action, updated.action) == ("rating_scale.created", "rating_scale.updated")
    old, new = updated.changes["levels"]
    assert len(old) == 5 and new == [["1", "Unsatisfactory"], ["2", "Needs improvement"], ["3", "Meets expectations"]]


def test_building_and_publishing_a_form_is_logged_on_the_form_and_its_version(cast, hr, built, published):
    form, draft = built.form, published
    assert actions(form) == ["appraisal_form.created"]
    assert actions(draft) == [
        "form_version.competency_added",
        "form_version.competency_added",
        "form_version.published",
    ]
    published_entry = entries(draft)[-1]
    assert published_entry.actor_id == cast.hr.user_id
    assert published_entry.changes == {"status": ["draft", "published"]}
    assert published_entry.data == {"form": form.pk, "number": 1}

    second = services.form_start_new_draft(user=hr, form=form)
    services.draft_set_weights(
        user=hr, version=second, expected_version=second.version, goals_weight=50, competencies_weight=50
    )
    services.form_publish(user=hr, version=second, expected_version=second.version)
    assert actions(second) == ["form_version.draft_started", "form_version.edited", "form_version.published"]
    edited = entries(second)[1]
    assert edited.changes == {"goals_weight": [60, 50], "competencies_weight": [40, 50]}
    retired = entries(draft)[-1]
    assert (retired.action, retired.changes, retired.data["superseded_by"]) == (
        "form_version.retired",
        {"status": ["published", "retired"]},
        2,
    )


def test_row_and_question_changes_name_what_changed(hr, built, data_informed):
    draft = built.draft
    row = draft.competencies.get(competency=data_informed)
    services.draft_update_competency(user=hr, version=draft, expected_version=draft.version, row=row, weight=30)
    services.draft_move_competency(user=hr, version=draft, expected_version=draft.version, row=row, offset=-1)
    question = services.draft_add_question(
        user=hr, version=draft, expected_version=draft.version, text="Anything else?"
    )
    services.draft_remove_question(user=hr, version=draft, expected_version=draft.version, question=question)
    changed, moved, added, removed = entries(draft)[-4:]
    assert (changed.action, changed.changes, changed.data["competency"]) == (
        "form_version.competency_changed",
        {"weight": [40, 30]},
        "Data-informed decision making",
    )
    assert moved.changes == {
        "order": [
            ["Process thinking", "Data-informed decision making"],
            ["Data-informed decision making", "Process thinking"],
        ]
    }
    assert (added.action, added.data["text"]) == ("form_version.question_added", "Anything else?")
    assert (removed.action, removed.data["key"]) == ("form_version.question_removed", question.key)


def test_a_discarded_draft_and_a_deleted_form_keep_their_entries(hr, scale):
    form = services.form_create(user=hr, name="Short lived", goals_scale=scale)
    draft = selectors.draft_of(form)
    services.draft_discard(user=hr, version=draft, expected_version=draft.version)
    assert not FormVersion.objects.filter(form=form).exists()
    discarded = ActionLogEntry.objects.get(action="form_version.discarded")
    assert discarded.data == {"form": form.pk, "number": 1}
    form_pk = form.pk
    services.form_delete(user=hr, form=form)
    assert not AppraisalForm.objects.filter(pk=form_pk).exists()
    deleted = ActionLogEntry.objects.get(action="appraisal_form.deleted")
    assert (deleted.object_id, deleted.object_repr) == (form_pk, "Short lived")


def test_a_refused_change_writes_no_entry(hr, built):
    before = ActionLogEntry.objects.count()
    with pytest.raises(ValidationError):
        services.draft_set_weights(
            user=hr, version=built.draft, expected_version=built.draft.version, goals_weight=70, competencies_weight=40
        )
    assert ActionLogEntry.objects.count() == before


def test_assignment_rules_are_logged_old_to_new(cast, hr, published):
    rule = services.rule_create(user=hr, form=published.form, job_title="Staff nurse")
    services.rule_update(user=hr, rule=rule, expected_version=rule.version, data={"priority": 50})
    rule_pk = rule.pk
    services.rule_delete(user=hr, rule=rule)
    created, updated, deleted = ActionLogEntry.objects.filter(
        content_type__model="assignmentrule", object_id=rule_pk
    ).order_by("at", "pk")
    assert (created.action, created.data["job_title"]) == ("assignment_rule.created", "Staff nurse")
    assert updated.changes == {"priority": [100, 50]}
    assert deleted.action == "assignment_rule.deleted"


def test_a_change_made_on_a_page_names_the_request(cast, client_for, process_thinking):
    url = reverse("competencies:competency_retire", args=[process_thinking.pk])
    response = client_for(cast.hr).post(url, {"action": "retire", "version": process_thinking.version})
    assert response.status_code == 302
    entry = entries(process_thinking)[-1]
    assert entry.action == "competency.retired"
    assert entry.source.startswith(f"POST {url}")
    assert entry.actor_id == cast.hr.user_id
