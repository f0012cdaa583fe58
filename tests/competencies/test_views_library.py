"""Pages for the competency library and the rating scales: who reads and who changes
them, each refusal shown beside what it is about, stale edits, retiring, and lists
that cost the same number of queries whatever their length."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from competencies import services
from competencies.models import Competency, CompetencyStatus, FormVersion, RatingScale
from people.models import Employee
from tests.competencies.helpers import PLAIN_LEVELS

pytestmark = pytest.mark.django_db

ROLES = ("employee", "manager", "stranger", "hr")


def page_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


@pytest.fixture
def people(cast) -> dict[str, Employee]:  # type: ignore[no-untyped-def]
    return {role: getattr(cast, role) for role in ROLES}


def competency_form(competency: Competency | None = None, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Measurement for improvement",
        "category": "Quality improvement",
        "description": "Uses data over time to learn whether a change is an improvement.",
        "indicator_1": "Reads a run chart with help.",
        "indicator_2": "Keeps a run chart for own work.",
        "indicator_3": "Annotates changes on the chart.",
        "indicator_4": "Teaches others the run chart rules.",
        "indicator_5": "Sets the measurement plan for a programme.",
    }
    if competency is not None:
        data.update(name=competency.name, category=competency.category, description=competency.description)
        data.update({f"indicator_{i.level}": i.text for i in competency.indicators.all()})
        data["version"] = competency.version
    data.update(changes)
    return data


def scale_form(levels: list[dict[str, object]], scale: RatingScale | None = None, **changes: object):  # type: ignore[no-untyped-def]
    """A posted scale form: its fields and a levels formset with one row per given level."""
    data: dict[str, object] = {
        "name": scale.name if scale else "Belts",
        "methodology": scale.methodology if scale else "six_sigma",
        "description": "",
        "levels-TOTAL_FORMS": len(levels),
        "levels-INITIAL_FORMS": len(scale.levels.all()) if scale else 0,
        "levels-MIN_NUM_FORMS": 0,
        "levels-MAX_NUM_FORMS": 10,
    }
    if scale is not None:
        data["version"] = scale.version
    for index, level in enumerate(levels):
        for name in ("value", "label", "descriptor", "order"):
            data[f"levels-{index}-{name}"] = level.get(name, "")
    data.update(changes)
    return data


def plain_rows() -> list[dict[str, object]]:
    return [{**level, "order": position} for position, level in enumerate(PLAIN_LEVELS, start=1)]


def level_row_with(page: str, label: str) -> str:
    """The HTML of the level row whose label input holds ``label``."""
    rows = page.split("data-level-row")[1:]
    found = [row for row in rows if f'value="{label}"' in row]
    assert len(found) == 1, f"one row with the label {label!r}"
    return found[0]


# ---------------------------------------------------------------- who may read and change what

EVERYONE = dict.fromkeys(ROLES, 200)
HR_ONLY = {**dict.fromkeys(ROLES, 403), "hr": 200}
PAGES = [
    ("competency_list", EVERYONE),
    ("competency_detail", EVERYONE),
    ("competency_create", HR_ONLY),
    ("competency_edit", HR_ONLY),
    ("scale_list", EVERYONE),
    ("scale_detail", EVERYONE),
    ("scale_create", HR_ONLY),
    ("scale_edit", HR_ONLY),
]


def url_for(name: str, competency: Competency, scale: RatingScale) -> str:
    args = {
        "competency_detail": [competency.pk],
        "competency_edit": [competency.pk],
        "competency_retire": [competency.pk],
        "scale_detail": [scale.pk],
        "scale_edit": [scale.pk],
    }.get(name, [])
    return reverse(f"competencies:{name}", args=args)


@pytest.mark.parametrize(("name", "expected"), PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_each_page_answers_each_role_as_the_permission_table_says(
    client_for, people, process_thinking, scale, name, expected, role
):
    response = client_for(people[role]).get(url_for(name, process_thinking, scale))
    assert response.status_code == expected[role]


@pytest.mark.parametrize("name", [name for name, _ in PAGES] + ["competency_retire"])
def test_anonymous_visitors_are_sent_to_sign_in(client, process_thinking, scale, name):
    url = url_for(name, process_thinking, scale)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["employee", "manager", "stranger"])
def test_it_refuses_every_write_by_anyone_but_hr_with_a_403(client_for, people, process_thinking, scale, role):
    client = client_for(people[role])
    posts = [
        (reverse("competencies:competency_create"), competency_form()),
        (
            reverse("competencies:competency_edit", args=[process_thinking.pk]),
            competency_form(process_thinking, name="X"),
        ),
        (
            reverse("competencies:competency_retire", args=[process_thinking.pk]),
            {"action": "retire", "version": process_thinking.version},
        ),
        (reverse("competencies:scale_create"), scale_form(plain_rows())),
        (reverse("competencies:scale_edit", args=[scale.pk]), scale_form(plain_rows(), scale, name="X")),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert Competency.objects.get(pk=process_thinking.pk).name == "Process thinking"
    assert Competency.objects.get(pk=process_thinking.pk).status == CompetencyStatus.ACTIVE
    assert not Competency.objects.filter(name="Measurement for improvement").exists()
    assert list(RatingScale.objects.values_list("name", flat=True)) == ["Plain 1–5"]


@pytest.mark.parametrize("name", ["competency_detail", "competency_edit", "scale_detail", "scale_edit"])
def test_a_missing_competency_or_scale_is_404(client_for, people, name):
    assert client_for(people["hr"]).get(reverse(f"competencies:{name}", args=[999_999])).status_code == 404


@pytest.mark.parametrize(("role", "shown"), [("hr", True), ("employee", False)])
def test_only_hr_is_offered_the_buttons_that_change_things(client_for, people, process_thinking, scale, role, shown):
    client = client_for(people[role])
    assert ("New competency" in page_of(client.get(reverse("competencies:competency_list")))) is shown
    detail = page_of(client.get(reverse("competencies:competency_detail", args=[process_thinking.pk])))
    assert ("Edit competency" in detail) is shown
    assert ("Retire competency" in detail) is shown
    assert ("New rating scale" in page_of(client.get(reverse("competencies:scale_list")))) is shown
    assert ("Edit scale" in page_of(client.get(reverse("competencies:scale_detail", args=[scale.pk])))) is shown


# ---------------------------------------------------------------- the library list and a competency's page


def test_the_list_groups_by_category_with_status_indicators_and_forms_using_it(
    client_for, people, hr, published, scale
):
    services.competency_create(user=hr, name="Coaching", category="Leadership", indicators=["Listens."])
    page = page_of(client_for(people["employee"]).get(reverse("competencies:competency_list")))
    assert page.index(">Leadership <") < page.index("Coaching") < page.index(">Quality improvement <")
    row = page[page.index("Process thinking") :]
    assert "Active" in row
    assert re.search(r'data-label="Indicators" class="comp-num">5 levels<', row)
    assert re.search(r'data-label="Forms using it" class="comp-num">1<', row)


def test_a_draft_counts_as_a_form_using_it_for_hr_only(client_for, people, built):
    def count_for(role: str) -> str:
        page = page_of(client_for(people[role]).get(reverse("competencies:competency_list")))
        row = page[page.index("Process thinking") :]
        return re.search(r'data-label="Forms using it" class="comp-num">(\d+)<', row).group(1)  # type: ignore[union-attr]

    assert count_for("hr") == "1"
    assert count_for("employee") == "0"  # an unpublished draft is HR's work in progress


def test_the_detail_shows_each_level_as_a_ladder_and_the_forms_using_it(
    client_for, people, process_thinking, published
):
    page = page_of(
        client_for(people["employee"]).get(reverse("competencies:competency_detail", args=[process_thinking.pk]))
    )
    steps = re.findall(r'comp-ladder__step comp-ladder__step--(\d+)"', page)
    assert steps == ["1", "2", "3", "4", "5"]
    assert page.index("Describes own tasks.") < page.index("Shapes design.")
    assert "Nursing appraisal" in page and "v1 · Published" in page
    assert reverse("competencies:form_detail", args=[published.form_id]) in page


# ---------------------------------------------------------------- creating and editing competencies


def test_hr_creates_a_competency_with_an_indicator_per_level(client_for, people):
    response = client_for(people["hr"]).post(reverse("competencies:competency_create"), competency_form())
    competency = Competency.objects.get(name="Measurement for improvement")
    assert response.status_code == 302
    assert response["Location"] == reverse("competencies:competency_detail", args=[competency.pk])
    assert [i.level for i in competency.indicators.all()] == [1, 2, 3, 4, 5]
    assert competency.indicators.get(level=5).text == "Sets the measurement plan for a programme."


def test_empty_levels_at_the_end_are_left_out(client_for, people):
    data = competency_form(indicator_4="", indicator_5="  ")
    client_for(people["hr"]).post(reverse("competencies:competency_create"), data)
    assert Competency.objects.get(name="Measurement for improvement").indicators.count() == 3


def test_an_empty_level_in_between_is_refused_beside_that_level_with_a_400(client_for, people):
    response = client_for(people["hr"]).post(reverse("competencies:competency_create"), competency_form(indicator_3=""))
    page = page_of(response)
    assert response.status_code == 400
    level_3 = page[page.index('for="id_indicator_3"') : page.index('for="id_indicator_4"')]
    assert "The indicator for level 3 is empty." in level_3
    assert 'value="Measurement for improvement"' in page  # the input is kept
    assert not Competency.objects.filter(name="Measurement for improvement").exists()


def test_a_name_already_in_the_library_is_refused_with_a_400(client_for, people, process_thinking):
    response = client_for(people["hr"]).post(
        reverse("competencies:competency_create"), competency_form(name="process THINKING")
    )
    assert response.status_code == 400
    assert "A competency with this name already exists." in page_of(response)
    assert Competency.objects.count() == 1


def test_add_a_level_without_javascript_draws_the_form_again_with_one_more_level_and_saves_nothing(client_for, people):
    data = competency_form(add_level="1")
    response = client_for(people["hr"]).post(reverse("competencies:competency_create"), data)
    page = page_of(response)
    assert response.status_code == 200
    assert 'name="indicator_6"' in page and 'name="indicator_7"' not in page
    assert "Sets the measurement plan for a programme." in page  # what was typed is kept
    assert not Competency.objects.exists()


def test_a_sixth_level_is_saved(client_for, people):
    data = competency_form(indicator_6="Shapes measurement across the organisation.")
    client_for(people["hr"]).post(reverse("competencies:competency_create"), data)
    assert Competency.objects.get(name="Measurement for improvement").indicators.count() == 6


def test_no_more_than_ten_levels_are_offered(client_for, people):
    data = competency_form(**{f"indicator_{n}": f"Level {n} text." for n in range(1, 11)}, add_level="1")
    page = page_of(client_for(people["hr"]).post(reverse("competencies:competency_create"), data))
    assert 'name="indicator_10"' in page and 'name="indicator_11"' not in page
    assert "Add a level</button>" not in page


def test_editing_a_competency_carries_its_version_saves_and_bumps_it(client_for, people, process_thinking):
    client = client_for(people["hr"])
    page = page_of(client.get(reverse("competencies:competency_edit", args=[process_thinking.pk])))
    assert f'name="version" value="{process_thinking.version}"' in page
    assert "Describes own tasks." in page
    data = competency_form(process_thinking, name="Systems thinking", indicator_2="Maps a process with the team.")
    response = client.post(reverse("competencies:competency_edit", args=[process_thinking.pk]), data)
    assert response.status_code == 302
    process_thinking.refresh_from_db()
    assert process_thinking.name == "Systems thinking" and process_thinking.version == 2
    assert process_thinking.indicators.get(level=2).text == "Maps a process with the team."


def test_a_stale_competency_edit_answers_409_and_keeps_what_was_typed(client_for, people, process_thinking):
    stale = competency_form(process_thinking, name="My new name", indicator_1="My level one.")
    Competency.objects.filter(pk=process_thinking.pk).update(name="Their new name", version=4)
    response = client_for(people["hr"]).post(reverse("competencies:competency_edit", args=[process_thinking.pk]), stale)
    page = page_of(response)
    assert response.status_code == 409
    assert "someone else saved this competency" in page
    assert 'value="My new name"' in page and "My level one." in page  # the person's input
    assert "Their new name" in page  # what is saved now, beside it
    assert 'name="version" value="4"' in page  # saving again is a deliberate overwrite
    assert Competency.objects.get(pk=process_thinking.pk).name == "Their new name"


# ---------------------------------------------------------------- retiring and reinstating


def test_hr_retires_a_competency_which_stays_on_the_forms_that_used_it(client_for, people, process_thinking, published):
    client = client_for(people["hr"])
    url = reverse("competencies:competency_retire", args=[process_thinking.pk])
    response = client.post(url, {"action": "retire", "version": process_thinking.version}, follow=True)
    process_thinking.refresh_from_db()
    assert process_thinking.status == CompetencyStatus.RETIRED
    assert "It stays on the forms that use it" in page_of(response)
    assert published.competencies.filter(competency=process_thinking).exists()
    assert "This competency is retired." in page_of(response)


def test_hr_reinstates_a_retired_competency(client_for, people, hr, process_thinking):
    services.competency_retire(user=hr, competency=process_thinking, expected_version=process_thinking.version)
    url = reverse("competencies:competency_retire", args=[process_thinking.pk])
    response = client_for(people["hr"]).post(url, {"action": "reinstate", "version": process_thinking.version})
    assert response.status_code == 302
    assert Competency.objects.get(pk=process_thinking.pk).status == CompetencyStatus.ACTIVE


def test_a_stale_retire_answers_409_and_changes_nothing(client_for, people, process_thinking):
    url = reverse("competencies:competency_retire", args=[process_thinking.pk])
    Competency.objects.filter(pk=process_thinking.pk).update(version=7)
    response = client_for(people["hr"]).post(url, {"action": "retire", "version": 1})
    assert response.status_code == 409
    assert "Someone else changed this record" in page_of(response)
    assert Competency.objects.get(pk=process_thinking.pk).status == CompetencyStatus.ACTIVE


def test_retiring_is_a_post(client_for, people, process_thinking):
    url = reverse("competencies:competency_retire", args=[process_thinking.pk])
    assert client_for(people["hr"]).get(url).status_code == 405


def test_retired_competencies_are_listed_for_hr_only(client_for, people, hr, process_thinking, data_informed):
    services.competency_retire(user=hr, competency=process_thinking, expected_version=process_thinking.version)
    list_url = reverse("competencies:competency_list")
    employee = client_for(people["employee"])
    assert "Process thinking" not in page_of(employee.get(list_url))
    assert "Process thinking" not in page_of(employee.get(list_url, {"status": "retired"}))
    hr_client = client_for(people["hr"])
    assert "Process thinking" not in page_of(hr_client.get(list_url))
    retired = page_of(hr_client.get(list_url, {"status": "retired"}))
    assert "Process thinking" in retired and "Data-informed decision making" not in retired


# ---------------------------------------------------------------- rating scales


def test_the_scale_list_shows_methodology_and_levels(client_for, people, scale):
    page = page_of(client_for(people["employee"]).get(reverse("competencies:scale_list")))
    assert "Plain 1–5" in page and "Any methodology" in page
    assert page.index("Unsatisfactory") < page.index("Outstanding")
    assert "Locked" not in page


def test_the_scale_detail_shows_each_level_and_the_lock_once_published_forms_use_it(
    client_for, people, scale, published
):
    page = page_of(client_for(people["employee"]).get(reverse("competencies:scale_detail", args=[scale.pk])))
    for level in PLAIN_LEVELS:
        assert str(level["label"]) in page and str(level["descriptor"]) in page
    assert "Locked because used by published forms." in page
    assert "Nursing appraisal" in page


def test_hr_creates_a_scale_with_its_levels_in_order(client_for, people):
    rows = [{"value": "2", "label": "Yellow", "order": 2}, {"value": "1", "label": "White", "order": 1}]
    data = scale_form([*rows, {}, {}])  # two rows left empty
    response = client_for(people["hr"]).post(reverse("competencies:scale_create"), data)
    scale = RatingScale.objects.get(name="Belts")
    assert response.status_code == 302
    assert response["Location"] == reverse("competencies:scale_detail", args=[scale.pk])
    assert [(lv.order, lv.label) for lv in scale.levels.all()] == [(1, "White"), (2, "Yellow")]


def test_a_scale_with_fewer_than_two_levels_is_refused_with_a_400(client_for, people):
    response = client_for(people["hr"]).post(
        reverse("competencies:scale_create"), scale_form([{"value": "1", "label": "Only", "order": 1}])
    )
    page = page_of(response)
    assert response.status_code == 400
    assert "A rating scale needs at least two levels; this one has only one." in page
    assert 'value="Only"' in page and 'value="Belts"' in page
    assert not RatingScale.objects.filter(name="Belts").exists()


def test_values_that_do_not_strictly_increase_are_refused_beside_the_row(client_for, people):
    rows = [
        {"value": "1", "label": "White", "order": 1},
        {"value": "3", "label": "Yellow", "order": 2},
        {"value": "2", "label": "Green", "order": 3},
    ]
    response = client_for(people["hr"]).post(reverse("competencies:scale_create"), scale_form(rows))
    message = "Values must strictly increase from one level to the next: level 3 “Green” (2) is not above level 2 “Yellow” (3)."
    assert response.status_code == 400
    page = page_of(response)
    assert message in level_row_with(page, "Green")
    assert message not in level_row_with(page, "Yellow")
    assert not RatingScale.objects.filter(name="Belts").exists()


def test_repeated_labels_are_refused_beside_the_repeat(client_for, people):
    rows = [
        {"value": "1", "label": "Good", "order": 1},
        {"value": "2", "label": "Better", "order": 2},
        {"value": "3", "label": "good", "order": 3},
    ]
    response = client_for(people["hr"]).post(reverse("competencies:scale_create"), scale_form(rows))
    message = "Each level needs its own label: “good” is used by levels 1 and 3."
    assert response.status_code == 400
    assert message in level_row_with(page_of(response), "good")
    assert message not in level_row_with(page_of(response), "Good")


def test_a_row_missing_its_value_is_refused_with_a_400_before_the_service_is_asked(client_for, people):
    rows = [{"value": "1", "label": "White", "order": 1}, {"value": "", "label": "Yellow", "order": 2}]
    response = client_for(people["hr"]).post(reverse("competencies:scale_create"), scale_form(rows))
    assert response.status_code == 400
    assert "This field is required." in level_row_with(page_of(response), "Yellow")


def test_add_a_level_to_a_scale_without_javascript_adds_an_empty_row_and_saves_nothing(client_for, people):
    rows = [{"value": "1", "label": "White", "order": 1}, {"value": "2", "label": "Yellow", "order": 2}]
    response = client_for(people["hr"]).post(reverse("competencies:scale_create"), scale_form(rows, add_level="1"))
    page = page_of(response)
    assert response.status_code == 200
    assert 'name="levels-TOTAL_FORMS" value="3"' in page
    assert 'value="White"' in page and 'value="Yellow"' in page
    assert not RatingScale.objects.filter(name="Belts").exists()


def test_removing_a_level_of_an_unlocked_scale_saves(client_for, people, scale):
    data = scale_form(plain_rows(), scale, **{"levels-4-DELETE": "on"})
    response = client_for(people["hr"]).post(reverse("competencies:scale_edit", args=[scale.pk]), data)
    assert response.status_code == 302
    assert [lv.label for lv in scale.levels.all()][-1] == "Exceeds expectations"


def test_changing_the_levels_of_a_locked_scale_is_refused_with_its_message(client_for, people, scale, published):
    rows = plain_rows()
    rows[4]["label"] = "Exceptional"
    response = client_for(people["hr"]).post(
        reverse("competencies:scale_edit", args=[scale.pk]), scale_form(rows, scale)
    )
    page = page_of(response)
    assert response.status_code == 400
    assert "is used by a published appraisal form, so its levels cannot change" in page
    assert 'value="Exceptional"' in page
    assert scale.levels.get(order=5).label == "Outstanding"


def test_a_locked_scale_may_still_be_renamed(client_for, people, scale, published):
    data = scale_form(plain_rows(), scale, name="Plain five-point")
    response = client_for(people["hr"]).post(reverse("competencies:scale_edit", args=[scale.pk]), data)
    assert response.status_code == 302
    assert RatingScale.objects.get(pk=scale.pk).name == "Plain five-point"


def test_the_edit_page_of_a_locked_scale_says_so_and_carries_its_version(client_for, people, scale, published):
    page = page_of(client_for(people["hr"]).get(reverse("competencies:scale_edit", args=[scale.pk])))
    assert "Locked because used by published forms." in page
    assert f'name="version" value="{scale.version}"' in page


def test_a_stale_scale_edit_answers_409_and_keeps_what_was_typed(client_for, people, scale):
    rows = plain_rows()
    rows[0]["label"] = "My lowest"
    stale = scale_form(rows, scale, name="My scale")
    RatingScale.objects.filter(pk=scale.pk).update(name="Their scale", version=3)
    response = client_for(people["hr"]).post(reverse("competencies:scale_edit", args=[scale.pk]), stale)
    page = page_of(response)
    assert response.status_code == 409
    assert "someone else saved this rating scale" in page
    assert 'value="My scale"' in page and 'value="My lowest"' in page
    assert "Their scale" in page
    assert 'name="version" value="3"' in page
    assert RatingScale.objects.get(pk=scale.pk).name == "Their scale"


# ---------------------------------------------------------------- queries


def _queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def test_the_library_list_costs_the_same_queries_for_2_or_10_competencies(client_for, people, hr, published):
    client = client_for(people["hr"])
    url = reverse("competencies:competency_list")
    client.get(url)  # warm the session and the user
    few = _queries_for(client, url)
    for n in range(8):
        services.competency_create(user=hr, name=f"Competency {n}", category=f"Category {n % 3}", indicators=["a", "b"])
    assert Competency.objects.count() == 10
    assert _queries_for(client, url) == few
    reader = client_for(people["employee"])
    reader.get(url)
    assert _queries_for(reader, url) == few


def test_the_scale_list_costs_the_same_queries_for_2_or_10_scales(client_for, people, hr, scale, published):
    services.scale_create(user=hr, name="Second", levels=PLAIN_LEVELS[:2])
    client = client_for(people["employee"])
    url = reverse("competencies:scale_list")
    client.get(url)
    few = _queries_for(client, url)
    for n in range(8):
        services.scale_create(user=hr, name=f"Scale {n}", levels=PLAIN_LEVELS)
    assert RatingScale.objects.count() == 10 and FormVersion.objects.exists()
    assert _queries_for(client, url) == few
