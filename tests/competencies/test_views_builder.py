"""Pages for appraisal forms: the list, a form's versions, the builder, the preview and the
assignment rules — who sees and changes what, the refusals (weights with the numbers
that are off, frozen versions, stale pages), reordering, and the cost in queries."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from competencies import selectors, services
from competencies.models import AppraisalForm, AssignmentRule, FormVersion, VersionStatus

pytestmark = pytest.mark.django_db

ROLES = ("employee", "manager", "stranger", "hr")


def page_of(response) -> str:
    return response.content.decode()


def builder_url(version: FormVersion) -> str:
    return reverse("competencies:version_builder", args=[version.form_id, version.number])


def builder_data(version: FormVersion, **changes: object) -> dict[str, object]:
    """The builder's main form as the page shows it for ``version``, with ``changes``."""
    version = FormVersion.objects.get(pk=version.pk)
    data: dict[str, object] = {
        "action": "save",
        "version": version.version,
        "goals_weight": version.goals_weight,
        "goals_scale": version.goals_scale_id or "",
        "competencies_weight": version.competencies_weight,
    }
    for row in version.competencies.all():
        data[f"weight-{row.pk}"] = row.weight
        data[f"scale-{row.pk}"] = row.scale_id
    for q in version.questions.all():
        data[f"question-{q.pk}-text"] = q.text
        data[f"question-{q.pk}-help"] = q.help_text
    data.update(changes)
    return data


def rows_of(version: FormVersion) -> list[tuple[str, int]]:
    return [(r.competency.name, r.weight) for r in version.competencies.select_related("competency")]


def state(version: FormVersion) -> tuple:
    version = FormVersion.objects.get(pk=version.pk)
    return (
        version.status,
        version.version,
        version.goals_weight,
        version.competencies_weight,
        version.goals_scale_id,
        list(version.competencies.values_list("competency_id", "weight", "scale_id", "order")),
        list(version.questions.values_list("text", "help_text", "order")),
    )


@pytest.fixture
def draft_form(hr, scale) -> AppraisalForm:
    """A form that was never published: its draft is HR's alone."""
    return services.form_create(user=hr, name="Pharmacy appraisal", goals_scale=scale)


# ---------------------------------------------------------------- who may see and change what

EVERYONE = dict.fromkeys(ROLES, 200)
HR_ONLY = {"employee": 403, "manager": 403, "stranger": 403, "hr": 200}
HR_SEES_DRAFTS = {"employee": 404, "manager": 404, "stranger": 404, "hr": 200}


def url_for(name: str, published: FormVersion, draft_form: AppraisalForm) -> str:
    draft = selectors.draft_of(draft_form)
    return {
        "form_list": reverse("competencies:form_list"),
        "form_create": reverse("competencies:form_create"),
        "rule_list": reverse("competencies:rule_list"),
        "form_detail:published": reverse("competencies:form_detail", args=[published.form_id]),
        "form_detail:draft": reverse("competencies:form_detail", args=[draft_form.pk]),
        "builder:published": builder_url(published),
        "builder:draft": builder_url(draft),
        "preview:published": reverse("competencies:version_preview", args=[published.form_id, 1]),
        "preview:draft": reverse("competencies:version_preview", args=[draft_form.pk, 1]) + "?audience=manager",
    }[name]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("form_list", EVERYONE),
        ("form_create", HR_ONLY),
        ("rule_list", HR_ONLY),
        ("form_detail:published", EVERYONE),
        ("form_detail:draft", HR_SEES_DRAFTS),
        ("builder:published", EVERYONE),
        ("builder:draft", HR_SEES_DRAFTS),
        ("preview:published", EVERYONE),
        ("preview:draft", HR_SEES_DRAFTS),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_each_page_answers_each_role_as_the_permission_table_says(
    client_for, cast, published, draft_form, name, expected, role
):
    response = client_for(getattr(cast, role)).get(url_for(name, published, draft_form))
    assert response.status_code == expected[role]


@pytest.mark.parametrize("name", ["form_list", "form_create", "rule_list", "builder:published", "preview:draft"])
def test_anonymous_visitors_are_sent_to_sign_in(client, published, draft_form, name):
    response = client.get(url_for(name, published, draft_form))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["employee", "manager", "stranger"])
def test_it_validates_that_only_hr_changes_forms_and_rules(client_for, cast, published, draft_form, role):
    client = client_for(getattr(cast, role))
    draft = selectors.draft_of(draft_form)
    before = (state(published), state(draft), AppraisalForm.objects.count(), AssignmentRule.objects.count())
    assert client.post(reverse("competencies:form_create"), {"name": "Mine", "methodology": "lean"}).status_code == 403
    new_draft = reverse("competencies:form_new_draft", args=[published.form_id])
    assert client.post(new_draft).status_code == 403
    # A published version: they may read it, not change it.
    response = client.post(builder_url(published), builder_data(published, goals_weight=50, competencies_weight=50))
    assert response.status_code == 403
    publish = reverse("competencies:version_publish", args=[published.form_id, 1])
    assert client.post(publish, {"version": published.version}).status_code == 403
    # A draft they may not see: changing forms is HR's, whichever version is named (as in the API).
    assert client.get(builder_url(draft)).status_code == 404
    assert client.post(builder_url(draft), builder_data(draft, goals_weight=50)).status_code == 403
    publish = reverse("competencies:version_publish", args=[draft_form.pk, 1])
    assert client.post(publish, {"version": draft.version}).status_code == 403
    rule = {"action": "create", "form": published.form_id, "is_default": "on", "priority": 100}
    assert client.post(reverse("competencies:rule_list"), rule).status_code == 403
    after = (state(published), state(draft), AppraisalForm.objects.count(), AssignmentRule.objects.count())
    assert after == before


def test_others_see_neither_drafts_nor_the_new_form_button_in_the_list(client_for, cast, published, draft_form):
    page = page_of(client_for(cast.employee).get(reverse("competencies:form_list")))
    assert "Nursing appraisal" in page
    assert "Pharmacy appraisal" not in page
    assert "New form" not in page and "Draft in progress" not in page


def test_the_list_shows_versions_rules_and_balance(client_for, cast, hr, published, draft_form):
    services.rule_create(user=hr, form=published.form, department=cast.employee.department)
    services.rule_create(user=hr, form=published.form, job_title="Pharmacist")
    services.draft_set_weights(
        user=hr, version=selectors.draft_of(draft_form), expected_version=None, goals_weight=80, competencies_weight=20
    )
    page = page_of(client_for(cast.hr).get(reverse("competencies:form_list")))
    assert "Version 1" in page  # Nursing's published version
    assert "Not published" in page  # Pharmacy's
    assert "Nursing" in page and "Pharmacist" in page  # assigned to
    assert "60% results · 40% process" in page
    assert "80% results · 20% process" in page and "(draft)" in page
    assert "Below 30% process" in page
    assert "New form" in page


# ---------------------------------------------------------------- creating a form


def test_hr_creates_a_form_and_lands_in_its_draft(client_for, cast, scale):
    response = client_for(cast.hr).post(
        reverse("competencies:form_create"),
        {"name": "Radiology appraisal", "methodology": "six_sigma", "goals_scale": scale.pk, "description": ""},
    )
    form = AppraisalForm.objects.get(name="Radiology appraisal")
    assert response.status_code == 302
    assert response["Location"] == reverse("competencies:version_builder", args=[form.pk, 1])
    assert selectors.draft_of(form).goals_scale == scale


def test_a_form_name_already_taken_is_a_400_that_keeps_the_input(client_for, cast, published):
    response = client_for(cast.hr).post(
        reverse("competencies:form_create"),
        {"name": "nursing APPRAISAL", "methodology": "pdsa", "description": "For wards"},
    )
    assert response.status_code == 400
    assert "An appraisal form with this name already exists." in page_of(response)
    assert "For wards" in page_of(response)


# ---------------------------------------------------------------- the builder: weights


def test_the_builder_shows_the_draft_with_totals_balance_and_checklist(client_for, cast, built):
    page = page_of(client_for(cast.hr).get(builder_url(built.draft)))
    assert 'name="goals_weight"' in page and 'value="60"' in page
    assert "Process thinking" in page and "Data-informed decision making" in page
    assert "Move up" in page and "Move down" in page
    assert "Ready to publish" in page
    assert 'data-floor="30"' in page
    assert f'name="version" value="{built.draft.version}"' in page


def test_competency_weights_that_do_not_total_100_are_refused_with_the_numbers(client_for, cast, built):
    draft = built.draft
    first, second = draft.competencies.order_by("order")
    before = state(draft)
    response = client_for(cast.hr).post(
        builder_url(draft), builder_data(draft, **{f"weight-{first.pk}": 60, f"weight-{second.pk}": 30})
    )
    page = page_of(response)
    assert response.status_code == 400
    assert (
        "The competency weights total 90 (Process thinking 60, Data-informed decision making 30); "
        "they must total 100." in page
    )
    assert f'name="weight-{second.pk}" value="30"' in page  # what was typed stays
    assert state(draft) == before


def test_section_weights_that_do_not_total_100_are_refused_with_the_numbers(client_for, cast, built):
    before = state(built.draft)
    response = client_for(cast.hr).post(
        builder_url(built.draft), builder_data(built.draft, goals_weight=70, competencies_weight=40)
    )
    assert response.status_code == 400
    assert "The section weights total 110 (goals 70, competencies 40); they must total 100." in page_of(response)
    assert 'value="70"' in page_of(response)
    assert state(built.draft) == before


def test_a_weight_that_is_no_number_is_a_400_beside_its_field(client_for, cast, built):
    row = built.draft.competencies.first()
    response = client_for(cast.hr).post(
        builder_url(built.draft), builder_data(built.draft, **{f"weight-{row.pk}": "a lot"})
    )
    assert response.status_code == 400
    assert "Enter a whole number." in page_of(response)


def test_saving_weights_scales_and_questions_changes_the_draft_in_one_step(client_for, cast, hr, built):
    draft = built.draft
    first, second = draft.competencies.order_by("order")
    other = services.scale_create(
        user=hr, name="Lean 1–3", levels=[{"value": 1, "label": "Starting"}, {"value": 2, "label": "Doing"}]
    )
    question = draft.questions.first()
    response = client_for(cast.hr).post(
        builder_url(draft),
        builder_data(
            draft,
            goals_weight=50,
            competencies_weight=50,
            **{
                f"weight-{first.pk}": 70,
                f"weight-{second.pk}": 30,
                f"scale-{second.pk}": other.pk,
                f"question-{question.pk}-text": "What went well?",
            },
        ),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.goals_weight, draft.competencies_weight) == (50, 50)
    assert rows_of(draft) == [("Process thinking", 70), ("Data-informed decision making", 30)]
    assert draft.competencies.get(pk=second.pk).scale == other
    assert draft.questions.get(pk=question.pk).text == "What went well?"


def test_a_save_refused_halfway_saves_nothing(client_for, cast, built, monkeypatch):
    """New weights pass, then the question's service refuses: the weights are not kept either."""
    draft = built.draft
    question = draft.questions.first()

    def refuse(**kwargs):
        raise ValidationError({"text": "This question is refused."})

    monkeypatch.setattr(services, "draft_update_question", refuse)
    before = state(draft)
    response = client_for(cast.hr).post(
        builder_url(draft),
        builder_data(draft, goals_weight=50, competencies_weight=50, **{f"question-{question.pk}-text": "Why?"}),
    )
    assert response.status_code == 400
    assert "This question is refused." in page_of(response)
    assert 'name="goals_weight" value="50"' in page_of(response)
    assert state(draft) == before


def test_a_stale_builder_page_answers_409_and_keeps_what_was_typed(client_for, cast, hr, built):
    draft = built.draft
    stale = builder_data(draft, goals_weight=55, competencies_weight=45)
    services.draft_set_weights(user=hr, version=draft, expected_version=None, goals_weight=70, competencies_weight=30)
    response = client_for(cast.hr).post(builder_url(draft), stale)
    page = page_of(response)
    assert response.status_code == 409
    assert "Someone else changed this draft" in page
    assert 'name="goals_weight" value="55"' in page  # what the person typed
    draft.refresh_from_db()
    assert f'name="version" value="{draft.version}"' in page  # saving again is deliberate
    assert (draft.goals_weight, draft.competencies_weight) == (70, 30)


def test_a_stale_add_is_a_409_that_keeps_the_choice(client_for, cast, hr, built, scale):
    competency = services.competency_create(user=hr, name="Change management", indicators=["Tries.", "Leads."])
    stale_version = built.draft.version
    services.draft_set_weights(
        user=hr, version=built.draft, expected_version=None, goals_weight=70, competencies_weight=30
    )
    response = client_for(cast.hr).post(
        builder_url(built.draft),
        {"action": "add_competency", "version": stale_version, "competency": competency.pk, "weight": 10},
    )
    assert response.status_code == 409
    assert f'<option value="{competency.pk}" selected>' in page_of(response)
    assert not built.draft.competencies.filter(competency=competency).exists()


# ---------------------------------------------------------------- the builder: rows


def test_hr_adds_and_removes_a_competency_and_a_question(client_for, cast, hr, built):
    draft = built.draft
    competency = services.competency_create(user=hr, name="Change management", indicators=["Tries.", "Leads."])
    client = client_for(cast.hr)
    response = client.post(
        builder_url(draft),
        {"action": "add_competency", "version": draft.version, "competency": competency.pk, "weight": 10},
    )
    assert response.status_code == 302
    row = draft.competencies.get(competency=competency)
    assert (row.weight, row.scale_id, row.order) == (10, draft.goals_scale_id, 2)
    draft.refresh_from_db()
    response = client.post(builder_url(draft), {"action": f"remove_competency:{row.pk}", "version": draft.version})
    assert response.status_code == 302
    assert not draft.competencies.filter(competency=competency).exists()
    draft.refresh_from_db()
    response = client.post(
        builder_url(draft), {"action": "add_question", "version": draft.version, "text": "Who helped you?"}
    )
    assert response.status_code == 302
    question = draft.questions.get(text="Who helped you?")
    draft.refresh_from_db()
    client.post(builder_url(draft), {"action": f"remove_question:{question.pk}", "version": draft.version})
    assert not draft.questions.filter(pk=question.pk).exists()


def test_adding_a_competency_without_a_weight_is_a_400(client_for, cast, hr, built):
    competency = services.competency_create(user=hr, name="Change management", indicators=["Tries.", "Leads."])
    response = client_for(cast.hr).post(
        builder_url(built.draft),
        {"action": "add_competency", "version": built.draft.version, "competency": competency.pk, "weight": ""},
    )
    assert response.status_code == 400
    assert "This field is required." in page_of(response)


def test_move_down_and_up_reorder_the_competencies(client_for, cast, built):
    draft = built.draft
    first = draft.competencies.order_by("order").first()
    client = client_for(cast.hr)
    response = client.post(builder_url(draft), {"action": f"move_competency:{first.pk}:down", "version": draft.version})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#competency-{first.pk}")
    assert rows_of(draft) == [("Data-informed decision making", 40), ("Process thinking", 60)]
    draft.refresh_from_db()
    client.post(builder_url(draft), {"action": f"move_competency:{first.pk}:up", "version": draft.version})
    assert rows_of(draft) == [("Process thinking", 60), ("Data-informed decision making", 40)]


def test_a_move_asked_for_by_the_script_answers_json(client_for, cast, built):
    draft = built.draft
    first, second = draft.competencies.order_by("order")
    response = client_for(cast.hr).post(
        builder_url(draft),
        {"action": f"move_competency:{second.pk}:up", "version": draft.version},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200
    body = json.loads(response.content)
    draft.refresh_from_db()
    assert body["order"] == [second.pk, first.pk]
    assert body["version"] == draft.version
    assert "is now 1 of 2" in body["message"]


def test_a_stale_move_from_the_script_is_a_409_in_json(client_for, cast, built):
    draft = built.draft
    row = draft.competencies.first()
    response = client_for(cast.hr).post(
        builder_url(draft),
        {"action": f"move_competency:{row.pk}:down", "version": draft.version + 5},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 409
    assert "Someone else changed this draft" in json.loads(response.content)["error"]


def test_the_order_post_reorders_competencies_and_questions(client_for, cast, built):
    draft = built.draft
    rows = list(draft.competencies.order_by("order").values_list("pk", flat=True))
    client = client_for(cast.hr)
    response = client.post(
        builder_url(draft), {"action": "reorder_competencies", "version": draft.version, "order": rows[::-1]}
    )
    assert response.status_code == 302
    assert list(draft.competencies.order_by("order").values_list("pk", flat=True)) == rows[::-1]
    draft.refresh_from_db()
    questions = list(draft.questions.order_by("order").values_list("pk", flat=True))
    client.post(builder_url(draft), {"action": "reorder_questions", "version": draft.version, "order": questions[::-1]})
    assert list(draft.questions.order_by("order").values_list("pk", flat=True)) == questions[::-1]


def test_a_post_without_the_drafts_version_is_refused(client_for, cast, built):
    before = state(built.draft)
    data = builder_data(built.draft, goals_weight=50, competencies_weight=50)
    del data["version"]
    response = client_for(cast.hr).post(builder_url(built.draft), data)
    assert response.status_code == 400
    assert "reload it" in page_of(response)
    assert state(built.draft) == before


def test_an_order_that_leaves_out_a_row_is_refused(client_for, cast, built):
    draft = built.draft
    before = state(draft)
    first = draft.competencies.order_by("order").first()
    response = client_for(cast.hr).post(
        builder_url(draft), {"action": "reorder_competencies", "version": draft.version, "order": [first.pk]}
    )
    assert response.status_code == 400
    assert "Give every row of this form once" in page_of(response)
    assert state(draft) == before


# ---------------------------------------------------------------- publishing and new drafts


def test_hr_publishes_a_complete_draft(client_for, cast, built):
    draft = built.draft
    response = client_for(cast.hr).post(
        reverse("competencies:version_publish", args=[built.form.pk, 1]), {"version": draft.version}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("competencies:form_detail", args=[built.form.pk])
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert draft.published_by == cast.hr


def test_publishing_an_incomplete_draft_is_a_400_naming_what_blocks_it(client_for, cast, draft_form):
    draft = selectors.draft_of(draft_form)
    response = client_for(cast.hr).post(
        reverse("competencies:version_publish", args=[draft_form.pk, 1]), {"version": draft.version}
    )
    assert response.status_code == 400
    assert "Add at least one competency." in page_of(response)
    assert selectors.draft_of(draft_form) is not None
    # The page answers at the publish URL; its forms still post to the builder.
    assert f'id="fb-builder" method="post" action="{builder_url(draft)}"' in page_of(response)


def test_publishing_from_a_stale_page_is_a_409(client_for, cast, hr, built):
    draft = built.draft
    stale = draft.version
    services.draft_set_weights(user=hr, version=draft, expected_version=None, goals_weight=70, competencies_weight=30)
    response = client_for(cast.hr).post(
        reverse("competencies:version_publish", args=[built.form.pk, 1]), {"version": stale}
    )
    assert response.status_code == 409
    assert FormVersion.objects.get(pk=draft.pk).status == VersionStatus.DRAFT


def test_edit_on_a_published_form_makes_a_new_draft_and_a_second_edit_points_to_it(client_for, cast, published):
    client = client_for(cast.hr)
    url = reverse("competencies:form_new_draft", args=[published.form_id])
    response = client.post(url)
    draft = selectors.draft_of(published.form)
    assert response.status_code == 302
    assert response["Location"] == reverse("competencies:version_builder", args=[published.form_id, 2])
    assert draft.number == 2
    assert rows_of(draft) == rows_of(published)
    response = client.post(url)
    assert response.status_code == 400
    assert "Version 2 of “Nursing appraisal” is already a draft; edit that one instead." in page_of(response)
    assert reverse("competencies:version_builder", args=[published.form_id, 2]) in page_of(response)
    assert published.form.versions.count() == 2


def test_the_form_page_lists_versions_and_the_published_content(client_for, cast, hr, published):
    services.form_start_new_draft(user=hr, form=published.form)
    page = page_of(client_for(cast.hr).get(reverse("competencies:form_detail", args=[published.form_id])))
    assert "Published version 1" in page
    assert "Version 2" in page and "Draft" in page
    assert "by HR Admin" in page
    assert "Continue the draft (version 2)" in page
    assert "Process thinking" in page and "24% of the total score" in page


def test_the_published_builder_is_read_only_with_an_edit_button(client_for, cast, published):
    page = page_of(client_for(cast.hr).get(builder_url(published)))
    assert "Edit (creates a new draft)" in page
    assert 'name="goals_weight"' not in page
    assert "so it cannot change" in page


@pytest.mark.parametrize(
    "post",
    [
        lambda v: builder_data(v, goals_weight=50, competencies_weight=50),
        lambda v: {"action": f"move_competency:{v.competencies.first().pk}:down", "version": v.version},
        lambda v: {"action": f"remove_competency:{v.competencies.first().pk}", "version": v.version},
        lambda v: {"action": "add_question", "version": v.version, "text": "Anything else?"},
        lambda v: {"action": "discard", "version": v.version},
    ],
    ids=["save", "move", "remove", "add-question", "discard"],
)
def test_a_published_version_does_not_change_through_a_form_post(client_for, cast, published, post):
    before = state(published)
    response = client_for(cast.hr).post(builder_url(published), post(published))
    assert response.status_code in (400, 409)
    assert "Version 1 of “Nursing appraisal” is published, so it cannot change." in page_of(response)
    assert state(published) == before


@pytest.mark.django_db(transaction=True)
def test_a_version_in_use_does_not_change_through_a_form_post(client_for, cast, published, appraisal_model):
    appraisal_model.objects.create(form_version=published)
    client = client_for(cast.hr)
    before = state(published)
    assert "in use by appraisals" in page_of(client.get(builder_url(published)))
    response = client.post(builder_url(published), builder_data(published, goals_weight=50, competencies_weight=50))
    assert response.status_code == 400
    publish = reverse("competencies:version_publish", args=[published.form_id, 1])
    assert client.post(publish, {"version": published.version}).status_code == 400
    assert state(published) == before


# ---------------------------------------------------------------- preview


@pytest.mark.parametrize(
    ("audience", "label"), [("employee", "Employee (self-assessment)"), ("manager", "Manager (review)")]
)
def test_the_preview_shows_levels_with_their_indicators_for_each_audience(client_for, cast, published, audience, label):
    url = reverse("competencies:version_preview", args=[published.form_id, 1])
    page = page_of(client_for(cast.employee).get(url, {"audience": audience}))
    assert "Preview — nothing you enter here is saved." in page
    assert f'aria-current="page">{label}</a>' in page
    assert "<fieldset disabled" in page
    assert "Meets expectations" in page and "As agreed." in page  # a level with its descriptor
    assert "Maps end to end." in page  # process thinking's indicator for level 3
    assert "Keeps a run chart." in page
    assert "Which of your improvement efforts made a measurable difference this cycle?" in page
    assert ("Their self-assessment" in page) is (audience == "manager")


def test_a_drafts_preview_lists_what_blocks_publishing(client_for, cast, draft_form):
    page = page_of(client_for(cast.hr).get(reverse("competencies:version_preview", args=[draft_form.pk, 1])))
    assert "This draft cannot be published yet" in page
    assert "Add at least one competency." in page


# ---------------------------------------------------------------- assignment rules


def test_hr_adds_edits_and_deletes_a_rule(client_for, cast, published):
    client = client_for(cast.hr)
    url = reverse("competencies:rule_list")
    nursing = cast.employee.department
    response = client.post(
        url, {"action": "create", "form": published.form_id, "department": nursing.pk, "priority": 10}
    )
    assert response.status_code == 302
    rule = AssignmentRule.objects.get(department=nursing)
    page = page_of(client.get(url, {"edit": rule.pk}))
    assert f'name="version" value="{rule.version}"' in page
    assert "Edit the rule for department Nursing" in page
    response = client.post(
        url,
        {
            "action": "update",
            "rule": rule.pk,
            "version": rule.version,
            "form": published.form_id,
            "department": nursing.pk,
            "job_title": "Staff nurse",
            "priority": 10,
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.job_title, rule.version) == ("Staff nurse", 2)
    response = client.post(url, {"action": "delete", "rule": rule.pk})
    assert response.status_code == 302
    assert not AssignmentRule.objects.exists()


def test_a_rule_the_model_refuses_is_a_400_with_its_message(client_for, cast, published):
    client = client_for(cast.hr)
    url = reverse("competencies:rule_list")
    response = client.post(
        url,
        {
            "action": "create",
            "form": published.form_id,
            "department": cast.employee.department_id,
            "is_default": "on",
            "priority": 1,
        },
    )
    assert response.status_code == 400
    assert "only the default names neither" in page_of(response)
    client.post(url, {"action": "create", "form": published.form_id, "is_default": "on", "priority": 100})
    response = client.post(url, {"action": "create", "form": published.form_id, "is_default": "on", "priority": 100})
    assert response.status_code == 400
    assert "There is already a default rule." in page_of(response)
    assert AssignmentRule.objects.count() == 1


def test_a_stale_rule_edit_is_a_409_that_keeps_the_input(client_for, cast, hr, published):
    rule = services.rule_create(user=hr, form=published.form, job_title="Pharmacist")
    services.rule_update(user=hr, rule=rule, expected_version=None, data={"priority": 5})
    response = client_for(cast.hr).post(
        reverse("competencies:rule_list"),
        {
            "action": "update",
            "rule": rule.pk,
            "version": 1,
            "form": published.form_id,
            "job_title": "Chief pharmacist",
            "priority": 7,
        },
    )
    assert response.status_code == 409
    assert 'value="Chief pharmacist"' in page_of(response)
    rule.refresh_from_db()
    assert (rule.job_title, rule.priority) == ("Pharmacist", 5)


def test_the_lookup_tells_which_form_would_apply_to_whom(client_for, cast, hr, published, draft_form):
    services.rule_create(user=hr, form=published.form, department=cast.employee.department)
    services.rule_create(user=hr, form=draft_form, job_title="Staff nurse", priority=1)  # never published: skipped
    page = page_of(client_for(cast.hr).get(reverse("competencies:rule_list"), {"person": "Staff Nurse"}))
    assert "Not published: skipped" in page
    lookup = page.split("Which form would apply to")[1]
    assert "Staff Nurse" in lookup
    assert 'Nursing appraisal</a> <span class="muted">version 1</span>' in lookup
    page = page_of(client_for(cast.hr).get(reverse("competencies:rule_list"), {"person": "Pharmacist"}))
    assert "No rule matches and there is no published default." in page


# ---------------------------------------------------------------- cost and CSP


def test_the_builder_page_costs_the_same_queries_for_2_or_8_competencies(client_for, cast, hr, built):
    client = client_for(cast.hr)
    url = builder_url(built.draft)
    client.get(url)  # warm-up
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for n in range(6):
        competency = services.competency_create(user=hr, name=f"Extra competency {n}", indicators=["One.", "Two."])
        services.draft_add_competency(
            user=hr, version=built.draft, expected_version=None, competency=competency, weight=5
        )
    with CaptureQueriesContext(connection) as large:
        page = page_of(client.get(url))
    assert page.count('data-sortable-item data-id="') == 8 + 4  # competencies and questions
    assert len(large) == len(small)


def test_the_pages_carry_no_inline_script_or_style(client_for, cast, hr, published, draft_form):
    services.rule_create(user=hr, form=published.form, is_default=True)
    client = client_for(cast.hr)
    for url in (
        reverse("competencies:form_list"),
        reverse("competencies:form_create"),
        reverse("competencies:form_detail", args=[published.form_id]),
        builder_url(published),
        builder_url(selectors.draft_of(draft_form)),
        reverse("competencies:version_preview", args=[published.form_id, 1]),
        reverse("competencies:rule_list") + "?person=nurse",
    ):
        page = page_of(client.get(url))
        assert " style=" not in page, url
        assert "<script>" not in page, url
        assert "form_builder.js" in page and "form_builder.css" in page
