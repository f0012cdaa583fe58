"""Who reads and writes one person's records: the person, their reviewer (the manager),
the skip-level chief, a peer or stranger, and HR; and what each sees on the page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from appraisals import access as rules
from appraisals import selectors
from appraisals.access import access_for
from appraisals.models import Appraisal, AppraisalState
from appraisals.services import appraisals as svc
from tests.appraisals.factories import appraisal_scenario, fill_blank_ratings
from tests.factories import EmployeeFactory


def user_of(employee):  # type: ignore[no-untyped-def]
    return get_user_model().objects.get(pk=employee.user_id)


@pytest.fixture
def s(cast):  # type: ignore[no-untyped-def]
    return appraisal_scenario(employee=cast.employee)


def _access(s, employee, state=None):  # type: ignore[no-untyped-def]
    appraisal = Appraisal.objects.select_related("participant__employee").get(pk=s.appraisal.pk)
    if state is not None:
        appraisal.state = state
    return access_for(user_of(employee), appraisal.participant, appraisal)


# (who, can_read, is_employee, is_reviewer, is_skip_level, is_hr)
RELATIONSHIPS = [
    ("employee", True, True, False, False, False),
    ("manager", True, False, True, False, False),
    ("chief", True, False, False, True, False),
    ("stranger", False, False, False, False, False),
    ("hr", True, False, False, False, True),
]


@pytest.mark.parametrize(("who", "read", "employee", "reviewer", "skip", "hr"), RELATIONSHIPS)
def test_relationships(s, cast, who, read, employee, reviewer, skip, hr):
    access = _access(s, getattr(cast, who))
    assert (access.can_read, access.is_employee, access.is_reviewer, access.is_skip_level, access.is_hr) == (
        read,
        employee,
        reviewer,
        skip,
        hr,
    )


# (state, who, can_edit_self, can_edit_manager)
EDITING = [
    (AppraisalState.DRAFT, "employee", False, False),
    (AppraisalState.SELF_ASSESSMENT, "employee", True, False),
    (AppraisalState.SELF_ASSESSMENT, "manager", False, False),
    (AppraisalState.MANAGER_REVIEW, "employee", False, False),
    (AppraisalState.MANAGER_REVIEW, "manager", False, True),
    (AppraisalState.DIALOGUE, "manager", False, True),
    (AppraisalState.ACKNOWLEDGED, "manager", False, False),
    (AppraisalState.LOCKED, "employee", False, False),
    (AppraisalState.LOCKED, "manager", False, False),
    (AppraisalState.MANAGER_REVIEW, "chief", False, False),
    (AppraisalState.MANAGER_REVIEW, "hr", False, False),
    (AppraisalState.SELF_ASSESSMENT, "hr", False, False),
]


@pytest.mark.parametrize(("state", "who", "edit_self", "edit_manager"), EDITING)
def test_who_edits_which_side_in_each_state(s, cast, state, who, edit_self, edit_manager):
    access = _access(s, getattr(cast, who), state)
    assert (access.can_edit_self, access.can_edit_manager) == (edit_self, edit_manager)


def test_only_hr_may_lock_and_see_the_full_history(s, cast):
    assert _access(s, cast.hr).can_lock and _access(s, cast.hr).sees_history
    for who in ("employee", "manager", "chief"):
        access = _access(s, getattr(cast, who))
        assert not access.can_lock and not access.sees_history


def test_an_hr_admin_appraised_is_an_employee_first(cast):
    s = appraisal_scenario(employee=cast.hr, reviewer=cast.chief)
    access = _access(s, cast.hr)
    assert access.is_employee and access.can_edit_self
    assert not access.sees_manager_ratings  # like anyone appraised, until shared


def test_anonymous_users_have_no_access(s):
    assert not access_for(AnonymousUser(), s.participant).can_read


# ---------------------------------------------------------------- the selectors' scope


@pytest.mark.parametrize(("who", "read"), [(row[0], row[1]) for row in RELATIONSHIPS])
def test_get_appraisal_check_in_and_plan_answer_404_outside_scope(s, cast, who, read):
    user = user_of(getattr(cast, who))
    getters = [
        (selectors.get_appraisal, s.appraisal.pk),
        (selectors.get_check_in, s.check_in.pk),
        (selectors.get_plan, s.plan.pk),
    ]
    for getter, pk in getters:
        if read:
            record, access = getter(user=user, pk=pk)
            assert record.pk == pk and access.can_read
        else:
            with pytest.raises(Http404):
                getter(user=user, pk=pk)


def test_a_peer_sees_nothing_of_a_colleague(s, cast):
    peer = user_of(EmployeeFactory(manager=cast.manager, department=cast.employee.department))
    assert not rules.appraisals_visible_to(peer).exists()
    assert not rules.checkins_visible_to(peer).exists()
    assert not rules.development_plans_visible_to(peer).exists()
    with pytest.raises(Http404):
        selectors.get_appraisal(user=peer, pk=s.appraisal.pk)


def test_a_person_whose_manager_path_is_missing_sees_only_their_own(s, cast):
    from people.models import Employee

    Employee.objects.filter(pk=cast.chief.pk).update(path="")
    chief = user_of(cast.chief)
    assert not rules.appraisals_visible_to(chief).exists()
    assert not access_for(chief, s.participant).can_read


def test_a_manager_sees_their_reports_below_but_not_above(s, cast):
    mine = appraisal_scenario(employee=cast.manager, reviewer=cast.chief, cycle=s.cycle)
    visible = set(rules.appraisals_visible_to(user_of(cast.manager)).values_list("pk", flat=True))
    assert visible == {s.appraisal.pk, mine.appraisal.pk}
    assert set(rules.appraisals_visible_to(user_of(cast.employee)).values_list("pk", flat=True)) == {s.appraisal.pk}


def test_an_override_reviewer_outside_the_chain_reads_and_writes(cast):
    s = appraisal_scenario(employee=cast.employee, reviewer=cast.stranger)
    _, access = selectors.get_appraisal(user=user_of(cast.stranger), pk=s.appraisal.pk)
    assert access.is_reviewer and not access.is_skip_level
    _, manager_access = selectors.get_appraisal(user=user_of(cast.manager), pk=s.appraisal.pk)
    assert manager_access.is_skip_level and not manager_access.is_reviewer  # the manager above only reads


def test_cycles_are_visible_to_hr_and_to_those_involved(s, cast):
    for who in ("employee", "manager", "chief", "hr"):
        assert selectors.get_cycle(user=user_of(getattr(cast, who)), pk=s.cycle.pk) == s.cycle
    with pytest.raises(Http404):
        selectors.get_cycle(user=user_of(cast.stranger), pk=s.cycle.pk)


def test_team_and_own_lists(s, cast):
    assert selectors.team_appraisals(manager=cast.manager) == [s.appraisal]
    assert selectors.team_appraisals(manager=cast.chief) == []  # the chief reviews nobody here
    assert selectors.my_appraisals(employee=cast.employee) == [s.appraisal]
    assert selectors.team_check_ins(manager=cast.manager, cycle=s.cycle) == [s.check_in]
    assert selectors.my_plans(employee=cast.employee) == [s.plan]


# ---------------------------------------------------------------- what the page shows to whom


def _page(s, employee):  # type: ignore[no-untyped-def]
    appraisal, access = selectors.get_appraisal(user=user_of(employee), pk=s.appraisal.pk)
    return selectors.appraisal_page(appraisal=appraisal, access=access)


def _reviewed(s, cast) -> None:  # type: ignore[no-untyped-def]
    e, m = user_of(cast.employee), user_of(cast.manager)
    a = Appraisal.objects.get(pk=s.appraisal.pk)
    a = svc.appraisal_save_draft(
        user=e, appraisal=a, expected_version=a.version, goal_ratings={s.goals[0].pk: {"rating": 2, "comment": "Mine"}}
    )
    fill_blank_ratings(a, side="self")  # a submission needs every rating
    a = svc.appraisal_submit_self(user=e, appraisal=a, expected_version=a.version)
    svc.appraisal_save_draft(
        user=m,
        appraisal=a,
        expected_version=a.version,
        goal_ratings={s.goals[0].pk: {"rating": 4, "comment": "Strong"}},
        competency_ratings={s.rows[0].pk: {"rating": 3, "evidence": "Seen"}},
    )


def test_the_employee_sees_the_managers_ratings_only_once_shared(s, cast):
    _reviewed(s, cast)
    page = _page(s, cast.employee)
    assert page.manager_hidden and page.score is None
    assert (page.goals[0].manager_rating, page.goals[0].manager_comment) == (None, "")
    assert page.competencies[0].manager_rating is None
    assert page.goals[0].self_rating == 2  # their own, always
    for who in ("manager", "chief", "hr"):
        seen = _page(s, getattr(cast, who))
        assert seen.goals[0].manager_rating == 4 and seen.score is not None
    a = Appraisal.objects.get(pk=s.appraisal.pk)
    svc.appraisal_share(user=user_of(cast.manager), appraisal=a, expected_version=a.version)
    page = _page(s, cast.employee)
    assert not page.manager_hidden
    assert (page.goals[0].manager_rating, page.goals[0].manager_comment) == (4, "Strong")
    assert page.score is not None


def test_others_see_the_self_assessment_only_once_submitted(s, cast):
    a = Appraisal.objects.get(pk=s.appraisal.pk)
    svc.appraisal_save_draft(
        user=user_of(cast.employee),
        appraisal=a,
        expected_version=a.version,
        goal_ratings={s.goals[0].pk: {"rating": 2}},
    )
    assert _page(s, cast.employee).goals[0].self_rating == 2
    draft_view = _page(s, cast.manager)
    assert draft_view.self_hidden and draft_view.goals[0].self_rating is None
    fill_blank_ratings(a, side="self")
    svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version)
    assert _page(s, cast.manager).goals[0].self_rating == 2


def test_the_page_has_charts_cautions_scales_and_questions(s, cast):
    page = _page(s, cast.employee)
    first, second = page.goals
    assert first.chart["n"] == 12 and first.common_cause_caution and not first.special_cause
    assert "common-cause variation" in first.caution
    assert second.chart is None and not second.common_cause_caution
    assert page.goals_scale.levels[0].label == "Unsatisfactory"
    row = page.competencies[0]
    assert len(row.scale.levels) == 5 and row.scale.levels[0].indicator == row.indicators[0].text
    assert len(page.questions) == 4


def test_a_short_series_gets_the_too_few_points_caution(cast):
    s = appraisal_scenario(employee=cast.employee, measure_values=[50, 55, 60])
    first = _page(s, cast.employee).goals[0]
    assert first.common_cause_caution
    assert first.caution.startswith("Only 3 data points")


def test_history_on_the_page_is_hrs_others_get_the_last_change(s, cast):
    _reviewed(s, cast)
    hr_page = _page(s, cast.hr)
    assert len(hr_page.history) > 3
    assert hr_page.last_change.who == "Ward Manager"
    for who in ("employee", "manager", "chief"):
        page = _page(s, getattr(cast, who))
        assert page.history == []
        assert page.last_change.who == "Ward Manager"


@pytest.mark.parametrize(
    ("who", "before_sharing"),
    [("employee", False), ("manager", True), ("chief", True), ("hr", True), ("stranger", False)],
)
def test_who_sees_the_score_is_decided_once_for_lists_pages_and_the_api(s, cast, who, before_sharing):
    """appraisals.access.can_see_score: the person once it is shared, the chain and HR always,
    anyone outside the scope never."""
    appraisal = Appraisal.objects.select_related("participant__employee").get(pk=s.appraisal.pk)
    user = user_of(getattr(cast, who))
    assert rules.can_see_score(user, appraisal.participant, appraisal) is before_sharing
    appraisal.shared_at = appraisal.updated_at
    assert rules.can_see_score(user, appraisal.participant, appraisal) is (who != "stranger")


@pytest.mark.parametrize(("who", "allowed"), [("employee", False), ("manager", False), ("chief", False), ("hr", True)])
def test_only_hr_manages_cycles(cast, who, allowed):
    assert rules.can_manage_cycles(user_of(getattr(cast, who))) is allowed
    assert rules.can_manage_cycles(AnonymousUser()) is False
