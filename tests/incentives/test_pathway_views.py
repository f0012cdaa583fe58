"""Career-pathway pages: the list for HR and for everyone else, defining a pathway and its
refusals, the candidates with confirm / decline (a reason required), "Run now" through the
Celery task, and the "Titles" panel on a person's profile. The four kinds of user on each."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from competencies.models import Competency
from incentives.models import CandidateStatus, Pathway, PathwayCandidate, Recognition, RecognitionKind
from incentives.services import pathways as service
from incentives.services import recognition as recognition_service
from people.models import Employee
from people.profile import registered_panels
from tests.appraisals.factories import CompetencyFactory
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

ROLES = ("employee", "manager", "stranger", "hr")
LIST = reverse("incentives:pathway_list")
CREATE = reverse("incentives:pathway_create")
RUN = reverse("incentives:pathway_run")


def page_of(response) -> str:
    return response.content.decode()


def champion(hr: Employee, **criteria) -> Pathway:
    levels = criteria.pop("levels", [])
    data = {"name": "Quality Champion", "description": "Leads improvement on the ward.", **criteria}
    if not any(k.startswith("min_") for k in criteria) and not levels:
        data["min_recognitions"] = 1
    return service.save_pathway(user=hr.user, data=data, levels=levels)


def thank(author: Employee, recipient: Employee) -> Recognition:
    return recognition_service.post_recognition(
        user=author.user, recipients=[recipient], message="Thanks for the audit", send_email=False
    )


def candidate_for(cast, pathway: Pathway | None = None) -> PathwayCandidate:
    """The employee, thanked once, proposed for a one-recognition pathway."""
    pathway = pathway or champion(cast.hr)
    thank(cast.manager, cast.employee)
    [candidate] = service.find_candidates([pathway])
    return candidate


def form_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Process Excellence",
        "description": "Sustained process improvement.",
        "is_active": "on",
        "min_achieved_goals": "2",
        "goal_cycles": "2",
        "min_recognitions": "0",
        "min_development_actions": "0",
        "levels-TOTAL_FORMS": "2",
        "levels-INITIAL_FORMS": "2",
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "50",
        "levels-0-competency": "",
        "levels-0-min_rating": "",
        "levels-1-competency": "",
        "levels-1-min_rating": "",
    }
    data.update(changes)
    return data


def detail_url(pathway: Pathway) -> str:
    return reverse("incentives:pathway_detail", args=[pathway.pk])


def edit_url(pathway: Pathway) -> str:
    return reverse("incentives:pathway_edit", args=[pathway.pk])


def confirm_url(candidate: PathwayCandidate) -> str:
    return reverse("incentives:candidate_confirm", args=[candidate.pk])


def decline_url(candidate: PathwayCandidate) -> str:
    return reverse("incentives:candidate_decline", args=[candidate.pk])


# ---------------------------------------------------------------- the list


@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_the_titles_and_their_holders(cast, role, client_for):
    pathway = champion(cast.hr)
    candidate = candidate_for(cast, pathway)
    service.confirm(user=cast.hr.user, candidate=candidate, send_email=False)
    response = client_for(getattr(cast, role)).get(LIST)
    assert response.status_code == 200
    html = page_of(response)
    assert "Quality Champion" in html
    assert "1 recognition received" in html
    if role == "hr":
        assert "Run now" in html and "New pathway" in html
    else:
        assert "Run now" not in html and "New pathway" not in html
        assert "Staff Nurse" in html  # the holder, named for everyone


def test_hr_sees_pending_counts_and_inactive_pathways_others_only_what_can_be_earned(cast, client_for):
    candidate_for(cast, champion(cast.hr))
    service.save_pathway(user=cast.hr.user, data={"name": "Retired title", "min_recognitions": 9, "is_active": False})
    hr_html = page_of(client_for(cast.hr).get(LIST))
    assert "1 candidate waiting for a decision" in hr_html
    assert "Retired title" in hr_html and "Inactive" in hr_html
    assert "Retired title" not in page_of(client_for(cast.stranger).get(LIST))


def test_the_list_costs_the_same_queries_however_many_pathways_and_holders(
    cast, django_assert_max_num_queries, client_for
):
    def add(n: int) -> None:
        for i in range(n):
            pathway = service.save_pathway(
                user=cast.hr.user,
                data={"name": f"Title {Pathway.objects.count()}-{i}", "min_recognitions": 1},
                levels=[(CompetencyFactory(), Decimal("3"))],
            )
            for _ in range(3):
                person = EmployeeFactory()
                PathwayCandidate.objects.create(pathway=pathway, employee=person, status=CandidateStatus.AWARDED)

    add(1)
    for role in ("hr", "stranger"):
        client = client_for(getattr(cast, role))
        with django_assert_max_num_queries(10) as small:
            assert client.get(LIST).status_code == 200
        add(5)
        with django_assert_max_num_queries(len(small.captured_queries)):
            assert client.get(LIST).status_code == 200


# ---------------------------------------------------------------- defining a pathway


@pytest.mark.parametrize("role", ("employee", "manager", "stranger"))
def test_only_hr_defines_or_edits_pathways(cast, role, client_for):
    """ "New pathway" is HR's set-up page (403); one pathway's edit page is outside anyone else's
    scope (404), as in the API."""
    pathway = champion(cast.hr)
    client = client_for(getattr(cast, role))
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, form_data()).status_code == 403
    assert client.get(edit_url(pathway)).status_code == 404
    assert client.post(edit_url(pathway), form_data(version=pathway.version)).status_code == 404
    assert not Pathway.objects.filter(name="Process Excellence").exists()
    assert "Edit pathway" not in page_of(client.get(detail_url(pathway)))


def test_an_unknown_pathway_is_404(cast, client_for):
    for role in ROLES:
        client = client_for(getattr(cast, role))
        assert client.get(reverse("incentives:pathway_detail", args=[999999])).status_code == 404
    assert client_for(cast.hr).get(reverse("incentives:pathway_edit", args=[999999])).status_code == 404


def test_hr_creates_a_pathway_with_competency_levels(cast, client_for):
    competency = CompetencyFactory(name="Process thinking")
    client = client_for(cast.hr)
    page = page_of(client.get(CREATE))
    for label in ("Title", "Achieved QI goals", "Over how many closed cycles", "Recognitions received"):
        assert label in page
    assert "Development actions completed" in page and "Competency levels" in page
    response = client.post(CREATE, form_data(**{"levels-0-competency": str(competency.pk), "levels-0-min_rating": "4"}))
    assert response.status_code == 302
    pathway = Pathway.objects.get(name="Process Excellence")
    assert response["Location"] == detail_url(pathway)
    assert (pathway.min_achieved_goals, pathway.goal_cycles, pathway.is_active) == (2, 2, True)
    assert [(row.competency, row.min_rating) for row in pathway.competency_levels.all()] == [(competency, Decimal("4"))]
    html = page_of(client.get(detail_url(pathway)))
    assert "2 achieved QI goals over the last 2 closed review cycles" in html
    assert "Process thinking rated at least 4 in a locked appraisal" in html


def test_a_pathway_without_any_criterion_is_refused_with_the_services_message(cast, client_for):
    response = client_for(cast.hr).post(CREATE, form_data(min_achieved_goals="0"))
    assert response.status_code == 400
    assert "Set at least one criterion" in page_of(response)
    assert 'value="Process Excellence"' in page_of(response)  # what HR typed stays
    assert not Pathway.objects.filter(name="Process Excellence").exists()


def test_pathway_errors_are_shown_beside_their_fields(cast, client_for):
    champion(cast.hr)
    competency = CompetencyFactory()
    client = client_for(cast.hr)
    duplicate = client.post(CREATE, form_data(name="quality champion"))
    assert duplicate.status_code == 400
    assert "There is already a pathway with this name." in page_of(duplicate)
    no_cycles = client.post(CREATE, form_data(goal_cycles="0"))
    assert no_cycles.status_code == 400
    assert "Count achieved goals over at least one closed cycle." in page_of(no_cycles)
    half_row = client.post(CREATE, form_data(**{"levels-0-competency": str(competency.pk)}))
    assert half_row.status_code == 400
    assert "Give the lowest rating that counts for this competency." in page_of(half_row)
    twice = client.post(
        CREATE,
        form_data(
            **{
                "levels-0-competency": str(competency.pk),
                "levels-0-min_rating": "3",
                "levels-1-competency": str(competency.pk),
                "levels-1-min_rating": "4",
            }
        ),
    )
    assert twice.status_code == 400
    assert "Name each competency once." in page_of(twice)
    negative = client.post(CREATE, form_data(min_recognitions="-1"))
    assert negative.status_code == 400
    assert Pathway.objects.count() == 1


def test_hr_edits_a_pathway_and_a_stale_edit_is_refused_keeping_the_input(cast, client_for):
    pathway = champion(cast.hr)
    client = client_for(cast.hr)
    page = page_of(client.get(edit_url(pathway)))
    assert 'value="Quality Champion"' in page
    saved = client.post(edit_url(pathway), form_data(name="Quality Champion", version=str(pathway.version)))
    assert saved.status_code == 302
    pathway.refresh_from_db()
    assert pathway.min_achieved_goals == 2 and pathway.version == 2
    stale = client.post(edit_url(pathway), form_data(name="Renamed meanwhile", version="1"))
    assert stale.status_code == 409
    assert "Someone else changed this record" in page_of(stale)
    assert 'value="Renamed meanwhile"' in page_of(stale)
    pathway.refresh_from_db()
    assert pathway.name == "Quality Champion"


def test_removing_every_competency_row_clears_the_levels(cast, client_for):
    competency = CompetencyFactory()
    pathway = champion(cast.hr, min_recognitions=1, levels=[(competency, Decimal("3"))])
    response = client_for(cast.hr).post(
        edit_url(pathway), form_data(name=pathway.name, min_recognitions="1", version=str(pathway.version))
    )
    assert response.status_code == 302
    assert not pathway.competency_levels.exists()


# ---------------------------------------------------------------- candidates


def test_hr_sees_each_pending_candidate_with_the_evidence(cast, client_for):
    pathway = champion(cast.hr)
    candidate_for(cast, pathway)
    html = page_of(client_for(cast.hr).get(detail_url(pathway)))
    assert "Waiting for a decision (1)" in html
    assert "Staff Nurse" in html
    assert "1 recognition received" in html
    assert "Award the title to Staff Nurse" in html
    assert "Why is Staff Nurse declined?" in html


@pytest.mark.parametrize("role", ("employee", "manager", "stranger"))
def test_others_see_the_criteria_and_holders_but_not_the_candidates(cast, role, client_for):
    pathway = champion(cast.hr)
    candidate = candidate_for(cast, pathway)
    response = client_for(getattr(cast, role)).get(detail_url(pathway))
    assert response.status_code == 200
    html = page_of(response)
    assert "What it takes" in html and "1 recognition received" in html
    assert "Waiting for a decision" not in html and "Award the title" not in html and "declined?" not in html
    client = client_for(getattr(cast, role))
    # Candidates are outside their scope: 404, as in the API.
    assert client.post(confirm_url(candidate)).status_code == 404
    assert client.post(decline_url(candidate), {"reason": "No"}).status_code == 404
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.PENDING


def test_an_unknown_candidate_is_404_for_hr(cast, client_for):
    assert client_for(cast.hr).post(reverse("incentives:candidate_confirm", args=[999999])).status_code == 404
    assert client_for(cast.hr).post(reverse("incentives:candidate_decline", args=[999999])).status_code == 404


def test_confirming_awards_the_title_announces_it_and_shows_it_to_everyone(cast, client_for):
    pathway = champion(cast.hr)
    candidate = candidate_for(cast, pathway)
    client = client_for(cast.hr)
    assert client.get(confirm_url(candidate)).status_code == 405
    response = client.post(confirm_url(candidate))
    assert response.status_code == 302 and response["Location"] == detail_url(pathway)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.AWARDED and candidate.decided_by == cast.hr
    assert Recognition.objects.filter(kind=RecognitionKind.AWARD, pathway=pathway).exists()
    html = page_of(client.get(detail_url(pathway)))
    assert "now holds the title “Quality Champion”" in html
    assert "Held by (1)" in html and "Waiting for a decision (0)" in html
    assert "Staff Nurse" in page_of(client_for(cast.stranger).get(detail_url(pathway)))
    again = client.post(confirm_url(candidate))
    assert again.status_code == 400
    assert "already awarded" in page_of(again)


def test_declining_needs_a_reason_which_is_kept(cast, client_for):
    pathway = champion(cast.hr)
    candidate = candidate_for(cast, pathway)
    client = client_for(cast.hr)
    refused = client.post(decline_url(candidate), {"reason": " "})
    assert refused.status_code == 400
    html = page_of(refused)
    assert "Say why the candidate is declined" in html
    assert '<details class="candidate__decline" open>' in html
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.PENDING
    response = client.post(decline_url(candidate), {"reason": "Recognition was from one week only"})
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.DECLINED
    assert candidate.decline_reason == "Recognition was from one week only"
    html = page_of(client.get(detail_url(pathway)))
    assert "Declined (1)" in html and "Recognition was from one week only" in html
    assert "Declined" not in page_of(client_for(cast.manager).get(detail_url(pathway)))


# ---------------------------------------------------------------- run now


@pytest.mark.parametrize("role", ("employee", "manager", "stranger"))
def test_only_hr_runs_the_search(cast, role, client_for):
    champion(cast.hr)
    thank(cast.manager, cast.employee)
    assert client_for(getattr(cast, role)).post(RUN).status_code == 403
    assert not PathwayCandidate.objects.exists()


def test_run_now_finds_the_new_candidates_through_the_task(cast, client_for):
    pathway = champion(cast.hr)
    thank(cast.manager, cast.employee)
    client = client_for(cast.hr)
    assert client.get(RUN).status_code == 405
    response = client.post(RUN, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "The search found 1 new candidate." in page_of(response)
    candidate = PathwayCandidate.objects.get()
    assert (candidate.pathway, candidate.employee, candidate.status) == (pathway, cast.employee, "pending")
    assert candidate.evidence == {"recognitions": 1}
    again = client.post(RUN, follow=True)
    assert "The search found no new candidates" in page_of(again)


def test_run_now_with_a_worker_says_it_is_queued(cast, monkeypatch, client_for):
    from celery.result import AsyncResult

    from incentives.views import pathways as views

    monkeypatch.setattr(views.find_pathway_candidates, "delay", lambda: AsyncResult("queued-id"))
    response = client_for(cast.hr).post(RUN, follow=True)
    assert "The search for new candidates is queued." in page_of(response)


# ---------------------------------------------------------------- the title on the profile


def test_the_titles_panel_is_registered_with_the_profile(cast):
    from incentives.views.pathways import titles_panel

    assert titles_panel in registered_panels()


@pytest.mark.parametrize("role", ("employee", "manager", "hr"))
def test_an_awarded_title_shows_on_the_persons_profile(cast, role, client_for):
    pathway = champion(cast.hr)
    service.confirm(user=cast.hr.user, candidate=candidate_for(cast, pathway), send_email=False)
    response = client_for(getattr(cast, role)).get(reverse("people:detail", args=[cast.employee.pk]))
    assert response.status_code == 200
    html = page_of(response)
    assert '<h2 id="titles-title">Titles</h2>' in html
    assert "Quality Champion" in html
    assert "Thanks for the audit" in html  # their recent thanks
    assert ("Thank Staff Nurse" in html) is (role != "employee")  # not themselves


def test_the_profile_stays_out_of_reach_for_a_stranger(cast, client_for):
    champion(cast.hr)
    assert client_for(cast.stranger).get(reverse("people:detail", args=[cast.employee.pk])).status_code == 404


def test_a_profile_without_titles_says_so(cast, client_for):
    html = page_of(client_for(cast.manager).get(reverse("people:detail", args=[cast.manager.pk])))
    assert "No titles yet." in html
    assert "No thanks received yet." in html


def test_a_hidden_thank_you_is_not_on_the_profile(cast, client_for):
    post = thank(cast.manager, cast.employee)
    recognition_service.hide_recognition(user=cast.hr.user, post=post, reason="Duplicate")
    for role in ("employee", "hr"):
        html = page_of(client_for(getattr(cast, role)).get(reverse("people:detail", args=[cast.employee.pk])))
        assert "Thanks for the audit" not in html


def test_competencies_offered_are_the_active_ones(cast, client_for):
    active = CompetencyFactory(name="Change management")
    CompetencyFactory(name="Old competency", status="retired")
    html = page_of(client_for(cast.hr).get(CREATE))
    assert f'<option value="{active.pk}">Change management</option>' in html
    assert "Old competency" not in html
    assert Competency.objects.count() >= 2
