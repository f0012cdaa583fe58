"""Every incentive state change writes its action-log entry, with the actor and old → new."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import TestCase

from appraisals.models import Appraisal
from core.models import ActionLogEntry
from incentives.models.plans import Payout
from incentives.services import pathways as pathway_service
from incentives.services import plans as services
from incentives.services import recognition as recognition_service
from tests.appraisals.factories import ParticipantFactory, PublishedFormVersionFactory, ReviewCycleFactory

pytestmark = pytest.mark.django_db


def entries(action: str) -> list[ActionLogEntry]:
    return list(ActionLogEntry.objects.filter(action=action).order_by("pk"))


def test_a_plan_from_set_up_to_publication_is_in_the_log(cast):
    hr = cast.hr.user
    cycle = ReviewCycleFactory()
    form = PublishedFormVersionFactory()
    participant = ParticipantFactory(cycle=cycle, employee=cast.employee, form_version=form)
    Appraisal.objects.create(participant=participant, score=Decimal("80"))
    plan = services.plan_create(user=hr, cycle=cycle, data={"name": "Clinical bonus"})
    plan = services.plan_update(user=hr, plan=plan, expected_version=plan.version, data={"minimum_tenure_months": 6})
    services.components_set(
        user=hr,
        plan=plan,
        expected_version=None,
        components=[{"kind": "appraisal_score", "name": "Score", "weight": 100}],
    )
    services.target_bonuses_set(user=hr, plan=plan, amounts={cast.employee.pk: "1000"})
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.compute_start(user=hr, plan=plan)
    payout = Payout.objects.get(plan=plan, employee=cast.employee)
    old_amount = payout.amount
    services.payout_adjust(user=hr, payout=payout, amount="1234.50", reason="Covered nights", expected_version=None)
    plan.refresh_from_db()
    plan = services.plan_approve(user=hr, plan=plan)
    services.plan_publish(user=hr, plan=plan)

    [created] = entries("incentive_plan.created")
    assert created.actor == hr and created.object_id == plan.pk and created.data["name"] == "Clinical bonus"
    [updated] = entries("incentive_plan.eligibility_changed")
    assert updated.changes["minimum_tenure_months"] == [0, 6]
    [components] = entries("incentive_plan.components_set")
    assert components.changes["components"] == [[], ["Score (appraisal_score) 100 %"]]
    [targets] = entries("incentive_plan.target_bonuses_set")
    assert targets.changes[f"target_bonus[{cast.employee.pk}]"] == [None, "1000"]
    assert entries("incentive_plan.compute_started")[0].actor == hr
    assert [e.object_id for e in entries("payout.computed")] == [payout.pk]
    assert entries("incentive_plan.computed")[0].changes["state"] == ["computing", "computed"]
    [adjusted] = entries("payout.adjusted")
    assert adjusted.actor == hr and adjusted.data["reason"] == "Covered nights"
    assert adjusted.changes["amount"] == [format(old_amount.normalize(), "f"), "1234.5"]
    assert entries("incentive_plan.approved")[0].changes["state"] == ["computed", "approved"]
    assert entries("incentive_plan.published")[0].changes["state"] == ["approved", "published"]


def test_recognition_and_pathway_decisions_are_in_the_log(cast):
    pathway_service.save_pathway(user=cast.hr.user, data={"name": "Quality Champion", "min_recognitions": 1})
    post = recognition_service.post_recognition(
        user=cast.stranger.user, recipients=[cast.employee], message="Thanks", send_email=False
    )
    [posted] = entries("recognition.posted")
    assert posted.actor == cast.stranger.user and posted.object_id == post.pk
    [candidate] = pathway_service.find_candidates()
    assert [e.object_id for e in entries("pathway_candidate.proposed")] == [candidate.pk]
    pathway_service.confirm(user=cast.hr.user, candidate=candidate, send_email=False)
    [awarded] = entries("pathway_candidate.awarded")
    assert awarded.actor == cast.hr.user and awarded.changes["status"] == ["pending", "awarded"]
    recognition_service.hide_recognition(user=cast.hr.user, post=post, reason="Names a patient")
    [hidden] = entries("recognition.hidden")
    assert hidden.changes["is_hidden"] == [False, True] and hidden.data["reason"] == "Names a patient"
    assert entries("pathway.created")[0].actor == cast.hr.user
