"""Versions: publishing freezes one, editing a published form makes a new draft, and
a frozen version never changes — through the services, the models, or bulk writes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from competencies import selectors, services
from competencies.models import (
    DialogueQuestion,
    FormCompetency,
    FormVersion,
    QuestionKey,
    VersionStatus,
)
from competencies.selectors import preview
from core.errors import ConflictError
from tests.competencies.helpers import user_of

FROZEN = "Version 1 of “Nursing appraisal” is published, so it cannot change."


def test_a_new_form_starts_with_a_draft_and_the_four_dialogue_questions(hr):
    form = services.form_create(user=hr, name="Radiology appraisal")
    draft = selectors.draft_of(form)
    assert (draft.number, draft.status, draft.goals_weight, draft.competencies_weight) == (1, "draft", 60, 40)
    assert list(draft.questions.values_list("key", flat=True)) == [
        "successes",
        "learning_moments",
        "next_cycle_goals",
        "peer_sharing",
    ]


def test_publishing_freezes_the_version(hr, published):
    assert (published.status, published.number) == (VersionStatus.PUBLISHED, 1)
    assert published.published_at is not None
    assert published.published_by.user_id == hr.pk
    assert selectors.draft_of(published.form) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda hr, v: services.draft_update(user=hr, version=v, expected_version=None, data={"goals_scale": None}),
        lambda hr, v: services.draft_set_weights(
            user=hr, version=v, expected_version=None, goals_weight=50, competencies_weight=50
        ),
        lambda hr, v: services.draft_add_question(user=hr, version=v, expected_version=None, text="Anything else?"),
        lambda hr, v: services.draft_remove_competency(
            user=hr, version=v, expected_version=None, row=v.competencies.first()
        ),
        lambda hr, v: services.draft_move_question(
            user=hr, version=v, expected_version=None, question=v.questions.first(), offset=1
        ),
        lambda hr, v: services.draft_replace_content(user=hr, version=v, expected_version=None, data={"questions": []}),
        lambda hr, v: services.draft_discard(user=hr, version=v, expected_version=None),
        lambda hr, v: services.form_publish(user=hr, version=v, expected_version=None),
    ],
    ids=["update", "weights", "add-question", "remove-competency", "move-question", "replace", "discard", "publish"],
)
def test_the_services_refuse_to_change_a_published_version(hr, published, change):
    before = snapshot_of(published)
    with pytest.raises(ValidationError) as excinfo:
        change(hr, published)
    assert FROZEN in " ".join(excinfo.value.messages)
    assert snapshot_of(published) == before


def snapshot_of(version: FormVersion) -> tuple:
    version = FormVersion.objects.get(pk=version.pk)
    return (
        version.status,
        version.version,
        version.goals_weight,
        version.goals_scale_id,
        list(version.competencies.values_list("competency_id", "weight", "order")),
        list(version.questions.values_list("key", "text", "order")),
    )


def test_the_models_refuse_to_change_a_published_version(published):
    before = snapshot_of(published)
    version = FormVersion.objects.get(pk=published.pk)
    version.goals_weight = 10
    version.competencies_weight = 90
    with pytest.raises(ValidationError, match="cannot change"):
        version.save()
    with pytest.raises(ValidationError):
        FormVersion.objects.get(pk=published.pk).delete()
    row = FormCompetency.objects.filter(version=published).first()
    row.weight = 99
    with pytest.raises(ValidationError):
        row.save()
    with pytest.raises(ValidationError):
        row.delete()
    question = DialogueQuestion.objects.filter(version=published).first()
    question.text = "Changed?"
    with pytest.raises(ValidationError):
        question.save()
    with pytest.raises(ValidationError):
        DialogueQuestion(version=published, key="new", text="New?").save()
    assert snapshot_of(published) == before


def test_bulk_writes_are_refused_on_a_published_version_too(published):
    before = snapshot_of(published)
    for attempt in (
        lambda: FormVersion.objects.filter(pk=published.pk).update(goals_weight=10),
        lambda: FormVersion.objects.filter(pk=published.pk).update(status=VersionStatus.DRAFT),
        lambda: FormVersion.objects.filter(pk=published.pk).delete(),
        lambda: FormCompetency.objects.filter(version=published).update(weight=1),
        lambda: FormCompetency.objects.filter(version=published).delete(),
        lambda: DialogueQuestion.objects.filter(version=published).delete(),
        lambda: DialogueQuestion.objects.bulk_create([DialogueQuestion(version=published, key="x", text="X?")]),
    ):
        with pytest.raises(ValidationError):
            attempt()
    assert snapshot_of(published) == before


def test_a_published_version_may_only_be_retired(hr, published):
    version = FormVersion.objects.get(pk=published.pk)
    version.status = VersionStatus.DRAFT
    with pytest.raises(ValidationError):
        version.save()
    version = FormVersion.objects.get(pk=published.pk)
    version.published_at = None
    with pytest.raises(ValidationError):
        version.save()
    services.version_retire(user=hr, version=published, expected_version=published.version)
    assert FormVersion.objects.get(pk=published.pk).status == VersionStatus.RETIRED
    version = FormVersion.objects.get(pk=published.pk)
    version.status = VersionStatus.PUBLISHED
    with pytest.raises(ValidationError, match="is retired, so it cannot change"):
        version.save()


def test_editing_a_published_form_makes_a_new_draft_with_its_content(hr, built, published):
    draft = services.form_start_new_draft(user=hr, form=built.form)
    assert (draft.number, draft.status) == (2, VersionStatus.DRAFT)
    assert (draft.goals_weight, draft.goals_scale_id, draft.competencies_weight) == (
        published.goals_weight,
        published.goals_scale_id,
        published.competencies_weight,
    )

    def rows(version: FormVersion) -> list:
        return list(version.competencies.values_list("competency_id", "weight", "scale_id", "order"))

    assert rows(draft) == rows(published)
    assert list(draft.questions.values_list("key", "text", "help_text", "order")) == list(
        published.questions.values_list("key", "text", "help_text", "order")
    )
    # Editing the draft leaves the published version as it was.
    services.draft_update(user=hr, version=draft, expected_version=draft.version,
                          data={"goals_weight": 50, "competencies_weight": 50})  # fmt: skip
    assert FormVersion.objects.get(pk=published.pk).goals_weight == 60


def test_a_form_has_one_draft_at_a_time(hr, built, published):
    services.form_start_new_draft(user=hr, form=built.form)
    with pytest.raises(ValidationError) as excinfo:
        services.form_start_new_draft(user=hr, form=built.form)
    assert excinfo.value.messages == ["Version 2 of “Nursing appraisal” is already a draft; edit that one instead."]
    assert built.form.versions.count() == 2


def test_publishing_a_new_version_retires_the_previous_one(hr, built, published):
    draft = services.form_start_new_draft(user=hr, form=built.form)
    services.form_publish(user=hr, version=draft, expected_version=draft.version)
    assert dict(built.form.versions.values_list("number", "status")) == {1: "retired", 2: "published"}
    assert selectors.published_version(built.form).pk == draft.pk


def test_a_published_version_keeps_the_wording_it_was_published_with(hr, built, published, process_thinking):
    services.competency_update(
        user=hr, competency=process_thinking, expected_version=1, data={"name": "Systems thinking"},
        indicators=["New one", "New two"],
    )  # fmt: skip
    item = preview.preview(published).competencies.items[0]
    assert (item.name, item.indicators[0].text) == ("Process thinking", "Describes own tasks.")
    draft = services.form_start_new_draft(user=hr, form=built.form)
    item = preview.preview(draft).competencies.items[0]
    assert (item.name, item.indicators[0].text) == ("Systems thinking", "New one")


def test_a_stale_edit_of_a_draft_is_refused_with_a_friendly_409(hr, built):
    read = built.draft.version
    services.draft_add_question(user=hr, version=built.draft, expected_version=read, text="What surprised you?")
    with pytest.raises(ConflictError) as excinfo:
        services.draft_update(
            user=hr, version=built.draft, expected_version=read, data={"goals_weight": 50, "competencies_weight": 50}
        )
    assert excinfo.value.message.startswith("Someone else changed this form while you were editing it.")
    assert FormVersion.objects.get(pk=built.draft.pk).goals_weight == 60
    with pytest.raises(ConflictError):
        services.form_publish(user=hr, version=built.draft, expected_version=read)


def test_every_change_to_a_draft_bumps_its_version(hr, built, process_thinking):
    draft = built.draft
    start = draft.version
    row = draft.competencies.get(competency=process_thinking)
    services.draft_move_competency(user=hr, version=draft, expected_version=start, row=row, offset=1)
    services.draft_update_competency(user=hr, version=draft, expected_version=start + 1, row=row, weight=50)
    question = draft.questions.get(key=QuestionKey.PEER_SHARING)
    services.draft_update_question(user=hr, version=draft, expected_version=start + 2, question=question, text="Share?")
    assert FormVersion.objects.get(pk=draft.pk).version == start + 3


def test_rows_and_questions_reorder_by_list_or_one_step_at_a_time(hr, built):
    draft = built.draft
    keys = list(draft.questions.values_list("key", flat=True))
    ids = list(draft.questions.values_list("pk", flat=True))
    services.draft_reorder_questions(user=hr, version=draft, expected_version=None, question_ids=ids[::-1])
    assert list(draft.questions.values_list("key", flat=True)) == keys[::-1]
    first = draft.questions.first()
    services.draft_move_question(user=hr, version=draft, expected_version=None, question=first, offset=-1)  # stays
    services.draft_move_question(user=hr, version=draft, expected_version=None, question=first, offset=1)
    assert list(draft.questions.values_list("key", flat=True))[:2] == [keys[2], keys[3]]
    with pytest.raises(ValidationError):
        services.draft_reorder_questions(user=hr, version=draft, expected_version=None, question_ids=ids[:2])


def test_custom_questions_get_a_key_and_keys_are_unique(hr, built):
    question = services.draft_add_question(
        user=hr, version=built.draft, expected_version=None, text="What support do you need?"
    )
    assert question.key == "what_support_do_you_need"
    with pytest.raises(ValidationError) as excinfo:
        services.draft_add_question(
            user=hr, version=built.draft, expected_version=None, text="Goals?", key="next_cycle_goals"
        )
    assert excinfo.value.message_dict == {"key": ["Another question on this form has the key “next_cycle_goals”."]}


def test_a_draft_can_be_discarded_but_a_published_form_cannot_be_deleted(hr, built, published):
    draft = services.form_start_new_draft(user=hr, form=built.form)
    services.draft_discard(user=hr, version=draft, expected_version=draft.version)
    assert list(built.form.versions.values_list("number", flat=True)) == [1]
    with pytest.raises(ValidationError, match="retire it instead"):
        services.form_delete(user=hr, form=built.form)


@pytest.mark.parametrize("role", ["employee", "manager", "chief", "stranger"])
def test_only_hr_builds_forms(cast, built, published, role):
    user = user_of(getattr(cast, role))
    for attempt in (
        lambda: services.form_create(user=user, name="Mine"),
        lambda: services.form_update(user=user, form=built.form, expected_version=None, data={"name": "Mine"}),
        lambda: services.form_start_new_draft(user=user, form=built.form),
        lambda: services.form_publish(user=user, version=published, expected_version=None),
        lambda: services.version_retire(user=user, version=published, expected_version=None),
        lambda: services.draft_add_question(user=user, version=published, expected_version=None, text="Mine?"),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert snapshot_of(published)[0] == VersionStatus.PUBLISHED
    assert built.form.versions.count() == 1
