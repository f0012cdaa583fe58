"""The permission table: every URL the resolver knows (pages and API) × nine roles × method → status.

Built from the resolver, so that a new URL without a row in ``TABLE`` fails
``test_every_url_has_a_row``. The expectations follow PRODUCT.md "Access" and the shape of
issue 12:

* a record outside a user's scope answers 404, on the page and in the API alike;
* a page or endpoint reserved to a role (HR set-up, quality-lead set-up) answers 403, on the
  page and in the API alike; an HR-only *record* (a plan, an import) answers 404 to others;
* anonymous visitors are sent to sign in on pages (302) and get 401 from the API (the token
  authentication comes first and challenges);
* a role that may act gets anything but a refusal (the form may still find the input wrong).

One organisation serves every row (built once for the module, each request rolled back):
Nursing, where the skip-level manager heads the manager, who manages the employee and a peer;
Pharmacy, where another manager manages an employee of another department; the quality lead;
HR. The records named in URLs belong to the employee where they are someone's.

Where the app as it stands answers otherwise, the row is marked ``xfail(strict=True)`` with the
app whose helper is fixing it; the list is ``DEVIATIONS`` at the bottom.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from appraisals.models import AppraisalState
from audits.models import AuditRun, Finding, RunState, Severity, SubjectType, Survey, SurveyInvitation, SurveyState
from cascade.models import Approval, CascadeImport, ChangePoint, ImportKind
from competencies.models import FormVersion, VersionStatus
from core.log import log_action
from incentives.models.imports import TargetBonusImport
from incentives.models.plans import Payout
from incentives.models.recognition import CandidateStatus, Pathway, PathwayCandidate, Recognition
from incentives.services import plans as plan_services
from people.models import Department, ImportStatus, OrgChartImport
from tests.appraisals.factories import ParticipantFactory, appraisal_scenario
from tests.cascade.factories import FunctionalGoalFactory, IndividualGoalFactory, QualityMeasureFactory
from tests.factories import DepartmentFactory, EmployeeFactory

ROLES = [
    "anonymous",
    "employee",
    "peer",
    "other_department",
    "manager",
    "other_manager",
    "skip_level",
    "quality_lead",
    "hr",
]
SIGNED_IN = ROLES[1:]

# URLs with no access rule of their own: Django's admin (its own permissions), the schema and
# its documentation page (anyone signed in, or public in development: THROUGHLINE_API_DOCS_PUBLIC,
# tests/core/test_api_docs_and_headers.py), format-suffix twins of API routes (the same view).
EXCLUDED_PREFIXES = ("admin/",)
EXCLUDED_NAMES = {"api-schema", "api-docs"}

ALLOWED = "allowed"  # anything but 401, 403, 404 (and no server error): the role may act
ANON_PAGE = 302  # to the sign-in page
ANON_API = 401


# ---------------------------------------------------------------- the URLs


@dataclass(frozen=True)
class Url:
    name: str
    pattern: str
    api: bool
    methods: frozenset[str]  # for API routes, the methods the router maps; pages: empty (any)


@functools.cache
def known_urls() -> dict[str, Url]:
    """Every named URL the resolver knows, pages and API, bar the excluded ones."""
    found: dict[str, Url] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern) and entry.name:
                pattern = prefix + str(entry.pattern)
                name = namespace + entry.name
                if pattern.startswith(EXCLUDED_PREFIXES) or name in EXCLUDED_NAMES or "format" in pattern:
                    continue
                actions = getattr(entry.callback, "actions", None) or {}
                api = pattern.startswith("api/")
                found.setdefault(name, Url(name, pattern, api, frozenset(m.upper() for m in actions)))

    walk(get_resolver().url_patterns, "", "")
    return found


# ---------------------------------------------------------------- expectations


def only(*roles: str, ok: object = 200, deny: int = 403) -> dict[str, object]:
    return {role: ok if role in roles else deny for role in SIGNED_IN}


def everyone(ok: object = 200) -> dict[str, object]:
    return only(*SIGNED_IN, ok=ok)


HR = ("hr",)
QL_HR = ("quality_lead", "hr")
# The employee's private records (appraisal, check-in, plan, profile): theirs, their managers', HR's.
CHAIN = ("employee", "manager", "skip_level", "hr")
# The employee's goals: their chain, plus the quality lead (goals are not private; PRODUCT.md).
GOAL_READERS = (*CHAIN, "quality_lead")
MANAGERS = ("manager", "other_manager", "skip_level", "hr")


@dataclass
class Row:
    """One URL's expectations per signed-in role; ``kwargs`` names the records in the URL."""

    get: dict[str, object] | None = None  # None: the URL takes no GET (POST-only)
    post: dict[str, object] | None = None  # None: no POST row
    kwargs: Callable[[Any], dict[str, object]] = field(default=lambda w: {})
    data: Callable[[Any], dict[str, object]] = field(default=lambda w: {})  # the POST body
    query: Callable[[Any], dict[str, object]] = field(default=lambda w: {})  # the GET query
    anonymous_get: int | None = None  # when the URL is open to anonymous visitors
    anonymous_post: int | None = None


def record(kind: str) -> Callable[[Any], dict[str, object]]:
    return lambda w: {"pk": getattr(w, kind).pk}


def target_import_kwargs(w: Any) -> dict[str, object]:
    return {"pk": w.incentive_plan.pk, "import_pk": w.target_import.pk}


TABLE: dict[str, Row] = {
    # ------------------------------------------------------------ project
    "home": Row(get=everyone()),
    "healthz": Row(get=everyone(), anonymous_get=200),
    "login": Row(get=everyone(302), anonymous_get=200),
    "logout": Row(post=everyone(302), anonymous_post=302),
    "password_change": Row(get=everyone()),
    "password_change_done": Row(get=everyone()),
    "api-root": Row(get=everyone()),
    "api-token": Row(post=everyone(400), anonymous_post=400),  # no credentials given: a 400, whoever asks
    # ------------------------------------------------------------ people
    "people:directory": Row(get=everyone()),
    "people:detail": Row(get=only(*CHAIN, deny=404), kwargs=lambda w: {"pk": w.employee.pk}),
    "people:departments": Row(get=everyone()),
    "people:import": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "people:import_template": Row(get=only(*HR)),
    "people:import_detail": Row(get=only(*HR, deny=404), kwargs=record("org_import")),
    "people:import_resume": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("org_import")),
    "people:import_errors": Row(get=only(*HR, deny=404), kwargs=record("org_import")),
    # Sign-in locks are HR's to see and lift (people.access.can_unlock_sign_ins); the empty POST
    # names no lock, so HR is sent back to the page with the message.
    "people:sign_in_locks": Row(get=only(*HR)),
    "people:sign_in_unlock": Row(post=only(*HR, ok=ALLOWED)),
    "history:list": Row(get=only(*HR)),
    "history:csv": Row(get=only(*HR)),
    "department-list": Row(get=everyone(), post=only(*HR, ok=ALLOWED)),
    "department-detail": Row(get=everyone(), kwargs=lambda w: {"pk": w.employee.department_id}),
    "employee-list": Row(get=everyone()),
    "employee-me": Row(get=everyone()),
    "employee-detail": Row(get=only(*CHAIN, deny=404), kwargs=lambda w: {"pk": w.employee.pk}),
    "employee-chain": Row(get=only(*CHAIN, deny=404), kwargs=lambda w: {"pk": w.employee.pk}),
    "org-import-list": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "org-import-detail": Row(get=only(*HR, deny=404), kwargs=record("org_import")),
    "history-list": Row(get=only(*HR)),
    "history-detail": Row(get=only(*HR), kwargs=record("log_entry")),  # the action log is HR's to read
    # ------------------------------------------------------------ cascade: priorities and measures
    "cascade:priority_list": Row(get=everyone()),
    "cascade:priority_create": Row(get=only(*QL_HR), post=only(*QL_HR, ok=ALLOWED)),
    "cascade:priority_detail": Row(get=everyone(), kwargs=record("priority")),
    "cascade:priority_edit": Row(get=only(*QL_HR), post=only(*QL_HR, ok=ALLOWED), kwargs=record("priority")),
    "cascade:priority_tree": Row(get=everyone(), kwargs=record("priority")),
    "cascade:priority_tree_level": Row(get=everyone(), kwargs=record("priority")),
    "cascade:measure_create": Row(get=only(*QL_HR), post=only(*QL_HR, ok=ALLOWED)),
    "cascade:measure_detail": Row(get=everyone(), kwargs=record("measure")),
    "cascade:measure_edit": Row(get=only(*QL_HR), post=only(*QL_HR, ok=ALLOWED), kwargs=record("measure")),
    # The form is on the measure's page (everyone's), where a GET is sent.
    "cascade:observation_add": Row(get=everyone(302), post=only(*QL_HR, ok=ALLOWED), kwargs=record("measure")),
    "cascade:observation_import": Row(get=only(*QL_HR), post=only(*QL_HR, ok=ALLOWED), kwargs=record("measure")),
    # Change points: the measure's owner (its priority's, here the quality lead) or a quality lead;
    # HR is not named in PRODUCT.md's rule (cascade.access.can_mark_change_points).
    "cascade:change_point_add": Row(post=only("quality_lead", ok=ALLOWED), kwargs=record("measure")),
    "cascade:change_point_remove": Row(
        post=only("quality_lead", ok=ALLOWED),
        kwargs=lambda w: {"pk": w.measure.pk, "change_point_pk": w.change_point.pk},
    ),
    # An import is its uploader's (the quality lead here) and HR's.
    "cascade:import_detail": Row(get=only(*QL_HR, deny=404), kwargs=record("cascade_import")),
    "cascade:import_resume": Row(post=only(*QL_HR, ok=ALLOWED, deny=404), kwargs=record("cascade_import")),
    # ------------------------------------------------------------ cascade: goals
    "cascade:my_goals": Row(get=everyone()),
    "cascade:team_goals": Row(get=only(*MANAGERS)),
    "cascade:team_feed": Row(get=only("manager", "other_manager", "skip_level")),  # managers' page
    "cascade:goal_create": Row(get=everyone(), post=everyone(ALLOWED)),
    "cascade:goal_import": Row(get=only(*MANAGERS, "quality_lead"), post=only(*MANAGERS, "quality_lead", ok=ALLOWED)),
    # The employee's set: drafted by them and the managers above; approved or returned by their manager.
    "cascade:set_submit": Row(
        post=only("employee", "manager", "skip_level", "hr", ok=ALLOWED, deny=404),
        data=lambda w: {"period": w.period.pk, "owner": w.employee.pk},
    ),
    "cascade:set_approve": Row(
        post={**only(*CHAIN, ok=403, deny=404), "manager": ALLOWED},
        data=lambda w: {"period": w.period.pk, "owner": w.employee.pk},
    ),
    "cascade:set_return": Row(
        post={**only(*CHAIN, ok=403, deny=404), "manager": ALLOWED},
        data=lambda w: {"period": w.period.pk, "owner": w.employee.pk},
    ),
    "cascade:goal_detail": Row(get=only(*GOAL_READERS, deny=404), kwargs=record("goal")),
    "cascade:goal_edit": Row(
        get={**only(*GOAL_READERS, deny=404), "quality_lead": 403},
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403},
        kwargs=record("goal"),
    ),
    "cascade:goal_reopen": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    "cascade:goal_cancel": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    "cascade:goal_cancel_request": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    "cascade:goal_cancel_keep": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    # Closing a goal: whoever edits it asks (the approver and HR may post too, and are told to sign
    # off instead); the sign-off and declining are the approver's and HR's; anyone who edits the goal
    # or signs it off may close a measure-driven goal by its measure or reopen a result (400 here:
    # the goal is open).
    "cascade:goal_close_request": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    "cascade:goal_sign_off": Row(
        post={**only(*GOAL_READERS, ok=403, deny=404), "manager": ALLOWED, "hr": ALLOWED}, kwargs=record("goal")
    ),
    "cascade:goal_close_decline": Row(
        post={**only(*GOAL_READERS, ok=403, deny=404), "manager": ALLOWED, "hr": ALLOWED}, kwargs=record("goal")
    ),
    "cascade:goal_close_by_measure": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    "cascade:goal_reopen_result": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    # Progress is the owner's and their managers' to update; HR and the quality lead read it.
    "cascade:goal_progress": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403, "hr": 403}, kwargs=record("goal")
    ),
    "cascade:department_goals": Row(get=everyone(), kwargs=lambda w: {"pk": w.employee.department_id}),
    "cascade:period_list": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "cascade:period_make_default": Row(post=only(*HR, ok=ALLOWED), kwargs=record("period")),
    "cascade:matrix": Row(get=everyone()),
    "cascade:matrix_cell": Row(
        get=everyone(), query=lambda w: {"priority": w.priority.pk, "department": w.employee.department_id}
    ),
    "cascade:matrix_csv": Row(get=everyone()),
    "cascade:matrix_xlsx": Row(get=everyone()),
    "priority-list": Row(get=everyone(), post=only(*QL_HR, ok=ALLOWED)),
    "priority-detail": Row(get=everyone(), kwargs=record("priority")),
    "measure-list": Row(get=everyone(), post=only(*QL_HR, ok=ALLOWED)),
    "measure-detail": Row(get=everyone(), kwargs=record("measure")),
    "measure-observations": Row(get=everyone(), post=only(*QL_HR, ok=ALLOWED), kwargs=record("measure")),
    # A well-formed body, so that the refusal is the rule's (403), not the body's (400).
    "change-point-list": Row(
        get=everyone(),
        post=only("quality_lead", ok=ALLOWED),
        data=lambda w: {"measure": w.measure.pk, "date": "2026-02-01", "reason": "Triage nurse at the door"},
    ),
    "change-point-detail": Row(get=everyone(), kwargs=record("change_point")),
    "goal-list": Row(get=everyone(), post=everyone(ALLOWED)),
    "goal-approve-set": Row(
        post={**only(*CHAIN, ok=403, deny=404), "manager": ALLOWED},
        data=lambda w: {"period": w.period.pk, "owner": w.employee.pk},
    ),
    "goal-return-set": Row(
        post={**only(*CHAIN, ok=403, deny=404), "manager": ALLOWED},
        data=lambda w: {"period": w.period.pk, "owner": w.employee.pk},
    ),
    "goal-submit-set": Row(
        post=only("employee", "manager", "skip_level", "hr", ok=ALLOWED, deny=404),
        data=lambda w: {"period": w.period.pk, "owner": w.employee.pk},
    ),
    "goal-detail": Row(get=only(*GOAL_READERS, deny=404), kwargs=record("goal")),
    "goal-cancel": Row(post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")),
    "goal-cancel-keep": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    "goal-cancel-request": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    "goal-close-request": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    "goal-sign-off": Row(
        post={**only(*GOAL_READERS, ok=403, deny=404), "manager": ALLOWED, "hr": ALLOWED}, kwargs=record("goal")
    ),
    "goal-close-decline": Row(
        post={**only(*GOAL_READERS, ok=403, deny=404), "manager": ALLOWED, "hr": ALLOWED}, kwargs=record("goal")
    ),
    "goal-close-by-measure": Row(
        post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")
    ),
    "goal-reopen": Row(post={**only(*GOAL_READERS, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("goal")),
    "goal-update-list": Row(get=everyone(), post=everyone(ALLOWED)),
    "matrix-list": Row(get=everyone()),
    "matrix-cell": Row(
        get=everyone(), query=lambda w: {"priority": w.priority.pk, "department": w.employee.department_id}
    ),
    # ------------------------------------------------------------ competencies (HR set-up; readable by all)
    "competencies:competency_list": Row(get=everyone()),
    "competencies:competency_create": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "competencies:competency_detail": Row(get=everyone(), kwargs=record("competency")),
    "competencies:competency_edit": Row(get=only(*HR), post=only(*HR, ok=ALLOWED), kwargs=record("competency")),
    "competencies:competency_retire": Row(post=only(*HR, ok=ALLOWED), kwargs=record("competency")),
    "competencies:scale_list": Row(get=everyone()),
    "competencies:scale_create": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "competencies:scale_detail": Row(get=everyone(), kwargs=record("scale")),
    "competencies:scale_edit": Row(get=only(*HR), post=only(*HR, ok=ALLOWED), kwargs=record("scale")),
    "competencies:form_list": Row(get=everyone()),
    "competencies:form_create": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "competencies:form_detail": Row(get=everyone(), kwargs=lambda w: {"pk": w.form.pk}),
    "competencies:form_new_draft": Row(post=only(*HR, ok=ALLOWED), kwargs=lambda w: {"pk": w.form.pk}),
    # A draft version is HR's work in progress: to anyone else it does not exist.
    # Building forms is HR set-up: 403 to anyone else whichever version is named (competencies/access.py).
    # The named version is a draft: reading it is outside anyone's scope but HR's (404); changing any
    # version is HR's set-up (403).
    "competencies:version_builder": Row(
        get=only(*HR, deny=404), post=only(*HR, ok=ALLOWED), kwargs=lambda w: w.draft_kwargs
    ),
    "competencies:version_publish": Row(post=only(*HR, ok=ALLOWED), kwargs=lambda w: w.draft_kwargs),
    "competencies:version_preview": Row(get=everyone(), kwargs=lambda w: w.published_kwargs),
    "competencies:rule_list": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "competency-list": Row(get=everyone(), post=only(*HR, ok=ALLOWED)),
    "competency-detail": Row(get=everyone(), kwargs=record("competency")),
    "rating-scale-list": Row(get=everyone(), post=only(*HR, ok=ALLOWED)),
    "rating-scale-detail": Row(get=everyone(), kwargs=record("scale")),
    "appraisal-form-list": Row(get=everyone(), post=only(*HR, ok=ALLOWED)),
    "appraisal-form-detail": Row(get=everyone(), kwargs=lambda w: {"pk": w.form.pk}),
    "appraisal-form-new-draft": Row(post=only(*HR, ok=ALLOWED), kwargs=lambda w: {"pk": w.form.pk}),
    "form-version-list": Row(get=everyone(), kwargs=lambda w: {"form_pk": w.form.pk}),
    "form-version-detail": Row(get=everyone(), kwargs=lambda w: w.api_published_kwargs),
    "form-version-preview": Row(get=everyone(), kwargs=lambda w: w.api_published_kwargs),
    "form-version-publish": Row(post=only(*HR, ok=ALLOWED), kwargs=lambda w: w.api_draft_kwargs),
    "form-version-retire": Row(post=only(*HR, ok=ALLOWED), kwargs=lambda w: w.api_published_kwargs),
    # ------------------------------------------------------------ appraisals
    "appraisals:cycle_list": Row(get=only(*HR)),
    "appraisals:cycle_create": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "appraisals:cycle_detail": Row(get=only(*HR), kwargs=record("cycle")),
    "appraisals:cycle_edit": Row(get=only(*HR), post=only(*HR, ok=ALLOWED), kwargs=record("cycle")),
    "appraisals:cycle_launch": Row(post=only(*HR, ok=ALLOWED), kwargs=record("cycle")),
    "appraisals:launch_progress": Row(get=only(*HR), kwargs=record("cycle")),
    "appraisals:launch_resume": Row(post=only(*HR, ok=ALLOWED), kwargs=record("cycle")),
    "appraisals:participants_add": Row(get=only(*HR), post=only(*HR, ok=ALLOWED), kwargs=record("cycle")),
    "appraisals:phase_move": Row(post=only(*HR, ok=ALLOWED), kwargs=record("cycle")),
    "appraisals:cycle_close": Row(post=only(*HR, ok=ALLOWED), kwargs=record("cycle")),
    "appraisals:nudge": Row(post=only(*HR, ok=ALLOWED), kwargs=record("cycle")),
    "appraisals:export_csv": Row(get=only(*HR), kwargs=record("cycle")),
    "appraisals:export_xlsx": Row(get=only(*HR), kwargs=record("cycle")),
    "appraisals:history": Row(get=only(*HR), kwargs=record("cycle")),
    "appraisals:my_reviews": Row(get=everyone()),
    "appraisals:team_reviews": Row(get=only("manager", "other_manager", "skip_level")),  # reviewers' page
    "appraisals:todo_list": Row(get=everyone()),
    "appraisals:appraisal_detail": Row(get=only(*CHAIN, deny=404), kwargs=record("appraisal")),
    # The self-assessment is open: the employee writes; the chain reads but may not write.
    "appraisals:appraisal_save": Row(
        # The reviewer writes the manager side later; in self-assessment the field is refused as input (400).
        post={**only("employee", ok=ALLOWED, deny=404), "manager": 400, "skip_level": 403, "hr": 403},
        kwargs=record("appraisal"),
        data=lambda w: {"version": w.appraisal.version, "employee_comment": "Noted."},
    ),
    "appraisals:appraisal_action": Row(post=only(*CHAIN, ok=ALLOWED, deny=404), kwargs=record("appraisal")),
    "appraisals:appraisal_print": Row(get=only(*CHAIN, deny=404), kwargs=record("appraisal")),
    "appraisals:checkin_detail": Row(
        get=only(*CHAIN, deny=404), post=only(*CHAIN, ok=ALLOWED, deny=404), kwargs=record("check_in")
    ),
    "appraisals:plan_detail": Row(
        get=only(*CHAIN, deny=404), post=only(*CHAIN, ok=ALLOWED, deny=404), kwargs=record("plan")
    ),
    "cycle-list": Row(get=everyone()),
    # The cycle is its participants' (the employee, the peer, the other department's employee),
    # their reviewers' and managers', and HR's: not the quality lead's, who takes no part.
    "cycle-detail": Row(get={**everyone(), "quality_lead": 404}, kwargs=record("cycle")),
    "appraisal-list": Row(get=everyone()),
    "appraisal-detail": Row(get=only(*CHAIN, deny=404), kwargs=record("appraisal")),
    "appraisal-acknowledge": Row(post=only(*CHAIN, ok=ALLOWED, deny=404), kwargs=record("appraisal")),
    "appraisal-share": Row(post=only(*CHAIN, ok=ALLOWED, deny=404), kwargs=record("appraisal")),
    "appraisal-submit-review": Row(post=only(*CHAIN, ok=ALLOWED, deny=404), kwargs=record("appraisal")),
    "appraisal-submit-self": Row(post=only(*CHAIN, ok=ALLOWED, deny=404), kwargs=record("appraisal")),
    "check-in-list": Row(get=everyone()),
    "check-in-detail": Row(get=only(*CHAIN, deny=404), kwargs=record("check_in")),
    "check-in-complete": Row(post=only(*CHAIN, ok=ALLOWED, deny=404), kwargs=record("check_in")),
    "development-plan-list": Row(get=everyone()),
    "development-plan-detail": Row(get=only(*CHAIN, deny=404), kwargs=record("plan")),
    "development-plan-actions": Row(get=only(*CHAIN, deny=404), kwargs=record("plan")),
    "development-plan-add-action": Row(post=only(*CHAIN, ok=ALLOWED, deny=404), kwargs=record("plan")),
    "development-plan-agree": Row(post=only(*CHAIN, ok=ALLOWED, deny=404), kwargs=record("plan")),
    "development-plan-update-action": Row(kwargs=lambda w: {"pk": w.plan.pk, "action_pk": 1}),
    # ------------------------------------------------------------ incentives: plans and payouts (HR's)
    "incentives:plan_list": Row(get=only(*HR)),
    "incentives:plan_create": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "incentives:plan_detail": Row(get=only(*HR, deny=404), kwargs=record("incentive_plan")),
    "incentives:plan_edit": Row(
        get=only(*HR, deny=404), post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")
    ),
    "incentives:components_edit": Row(
        get=only(*HR, deny=404), post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")
    ),
    "incentives:targets_edit": Row(
        get=only(*HR, deny=404), post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")
    ),
    "incentives:targets_import": Row(
        get=only(*HR, deny=404), post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")
    ),
    "incentives:target_import_detail": Row(get=only(*HR, deny=404), kwargs=lambda w: target_import_kwargs(w)),
    "incentives:target_import_resume": Row(
        post=only(*HR, ok=ALLOWED, deny=404), kwargs=lambda w: target_import_kwargs(w)
    ),
    "incentives:compute": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")),
    "incentives:compute_progress": Row(get=only(*HR, deny=404), kwargs=record("incentive_plan")),
    "incentives:compute_resume": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")),
    "incentives:payout_list": Row(get=only(*HR, deny=404), kwargs=record("incentive_plan")),
    "incentives:plan_approve": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")),
    "incentives:plan_publish": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")),
    "incentives:export_csv": Row(get=only(*HR, deny=404), kwargs=record("incentive_plan")),
    "incentives:export_xlsx": Row(get=only(*HR, deny=404), kwargs=record("incentive_plan")),
    "incentives:my_payouts": Row(get=everyone()),
    # The plan is not published: only HR sees its payouts.
    "incentives:payout_detail": Row(get=only(*HR, deny=404), kwargs=record("payout")),
    "incentives:payout_adjust": Row(
        get=only(*HR, deny=404), post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("payout")
    ),
    "incentive-plan-list": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "incentive-plan-detail": Row(get=only(*HR, deny=404), kwargs=record("incentive_plan")),
    "incentive-plan-approve": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")),
    "incentive-plan-components": Row(kwargs=record("incentive_plan")),
    "incentive-plan-compute": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")),
    "incentive-plan-export-csv": Row(get=only(*HR, deny=404), kwargs=record("incentive_plan")),
    "incentive-plan-export-xlsx": Row(get=only(*HR, deny=404), kwargs=record("incentive_plan")),
    "incentive-plan-import-target-bonuses": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")),
    "target-bonus-import-detail": Row(get=only(*HR, deny=404), kwargs=record("target_import")),
    "incentive-plan-publish": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("incentive_plan")),
    "incentive-plan-target-bonuses": Row(get=only(*HR, deny=404), kwargs=record("incentive_plan")),
    "payout-list": Row(get=everyone()),
    "payout-detail": Row(get=only(*HR, deny=404), kwargs=record("payout")),
    # ------------------------------------------------------------ incentives: recognition and pathways
    "incentives:feed": Row(get=everyone()),
    "incentives:thank": Row(get=everyone(), post=everyone(ALLOWED)),
    "incentives:post_detail": Row(get=everyone(), kwargs=record("recognition")),
    "incentives:post_hide": Row(
        get=only(*HR), post=only(*HR, ok=ALLOWED), kwargs=record("recognition"), data=lambda w: {"reason": "Off topic"}
    ),
    "incentives:notifications": Row(get=everyone()),
    "incentives:notifications_read": Row(post=everyone(ALLOWED)),
    "incentives:pathway_list": Row(get=everyone()),
    "incentives:pathway_create": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "incentives:pathway_run": Row(post=only(*HR, ok=ALLOWED)),
    "incentives:pathway_detail": Row(get=everyone(), kwargs=record("pathway")),
    # Editing one pathway and its candidates are HR's records: outside anyone else's scope (404).
    "incentives:pathway_edit": Row(
        get=only(*HR, deny=404), post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("pathway")
    ),
    "incentives:candidate_confirm": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("candidate")),
    "incentives:candidate_decline": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("candidate")),
    "recognition-list": Row(get=everyone(), post=everyone(ALLOWED)),
    "recognition-detail": Row(get=everyone(), kwargs=record("recognition")),
    "recognition-hide": Row(
        post=only(*HR, ok=ALLOWED), kwargs=record("recognition"), data=lambda w: {"reason": "Off topic"}
    ),
    "pathway-list": Row(get=everyone(), post=only(*HR, ok=ALLOWED)),
    "pathway-detail": Row(get=everyone(), kwargs=record("pathway")),
    "pathway-candidates": Row(get=only(*HR, deny=404), kwargs=record("pathway")),
    "pathway-confirm": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("pathway")),
    "pathway-decline": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("pathway")),
    # ------------------------------------------------------------ audits (read by the quality lead and HR; HR acts)
    "audits:dashboard": Row(get=only(*QL_HR)),
    "audits:finding_list": Row(get=only(*QL_HR)),
    "audits:finding_detail": Row(get=only(*QL_HR, deny=404), kwargs=record("finding")),
    "audits:finding_act": Row(post={**only(*HR, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("finding")),
    "audits:run_list": Row(get=only(*QL_HR)),
    "audits:run_now": Row(post=only(*HR, ok=ALLOWED)),
    "audits:run_detail": Row(get=only(*QL_HR, deny=404), kwargs=record("audit_run")),
    # A finished run's progress sends the reader on to the run.
    "audits:run_progress": Row(get=only(*QL_HR, ok=ALLOWED, deny=404), kwargs=record("audit_run")),
    "audits:run_rerun": Row(post={**only(*HR, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("audit_run")),
    "audits:run_resume": Row(post={**only(*HR, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("audit_run")),
    "audits:settings": Row(get=only(*QL_HR)),
    "audits:rule_edit": Row(post=only(*HR, ok=ALLOWED), kwargs=lambda w: {"key": "unaligned_goals"}),
    "audits:schedule_edit": Row(post=only(*HR, ok=ALLOWED)),
    "audits:survey_list": Row(get=everyone()),  # HR's surveys; anyone else's invitations
    "audits:survey_create": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "audits:survey_detail": Row(get=only(*HR, deny=404), kwargs=record("survey")),
    "audits:survey_edit": Row(get=only(*HR, deny=404), post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("survey")),
    "audits:survey_state": Row(post=only(*HR, ok=ALLOWED, deny=404), kwargs=record("survey")),
    "audits:survey_results": Row(get=only(*HR, deny=404), kwargs=record("survey")),
    # Only the people invited answer; the employee is.
    "audits:survey_answer": Row(
        get=only("employee", deny=404), post=only("employee", ok=ALLOWED, deny=404), kwargs=record("survey")
    ),
    "audits:correlation": Row(get=only(*QL_HR)),
    "audit-run-list": Row(get=only(*QL_HR), post=only(*HR, ok=ALLOWED)),
    "audit-run-detail": Row(get=only(*QL_HR, deny=404), kwargs=record("audit_run")),
    "audit-run-rerun": Row(post={**only(*HR, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("audit_run")),
    "audit-run-resume": Row(post={**only(*HR, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("audit_run")),
    "finding-list": Row(get=only(*QL_HR)),
    "finding-detail": Row(get=only(*QL_HR, deny=404), kwargs=record("finding")),
    "finding-acknowledge": Row(post={**only(*HR, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("finding")),
    "finding-resolve": Row(post={**only(*HR, ok=ALLOWED, deny=404), "quality_lead": 403}, kwargs=record("finding")),
    "survey-list": Row(get=only(*HR), post=only(*HR, ok=ALLOWED)),
    "survey-detail": Row(get=only(*HR, deny=404), kwargs=record("survey")),
    "survey-results": Row(get=only(*HR, ok=ALLOWED, deny=404), kwargs=record("survey")),
}


# ---------------------------------------------------------------- the organisation


@dataclass
class World:
    people: dict[str, Any]
    users: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        extra = self.__dict__.get("extra", {})
        if name in extra:
            return extra[name]
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]
        raise AttributeError(name)


def build_world() -> World:
    nursing = DepartmentFactory(name="Nursing")
    pharmacy = DepartmentFactory(name="Pharmacy")
    quality = DepartmentFactory(name="Quality office")
    hr_dept = DepartmentFactory(name="HR")
    skip = EmployeeFactory(user__username="skip", full_name="Chief Nurse", department=nursing)
    Department.objects.filter(pk=nursing.pk).update(head=skip)
    manager = EmployeeFactory(user__username="manager", full_name="Ward Manager", department=nursing, manager=skip)
    employee = EmployeeFactory(user__username="employee", full_name="Staff Nurse", department=nursing, manager=manager)
    peer = EmployeeFactory(user__username="peer", full_name="Night Nurse", department=nursing, manager=manager)
    other_manager = EmployeeFactory(user__username="othermanager", full_name="Chief Pharmacist", department=pharmacy)
    Department.objects.filter(pk=pharmacy.pk).update(head=other_manager)
    other = EmployeeFactory(
        user__username="pharmacist", full_name="Pharmacist", department=pharmacy, manager=other_manager
    )
    ql = EmployeeFactory(user__username="quality", full_name="Director of Quality", department=quality)
    ql.is_quality_lead = True
    ql.save()
    hr = EmployeeFactory(user__username="hradmin", full_name="HR Admin", department=hr_dept, is_hr_admin=True)
    hr.user.is_staff = True
    hr.user.save(update_fields=["is_staff"])
    people = {
        "employee": employee,
        "peer": peer,
        "other_department": other,
        "manager": manager,
        "other_manager": other_manager,
        "skip_level": skip,
        "quality_lead": ql,
        "hr": hr,
    }
    for person in people.values():
        person.refresh_from_db()

    # The employee's review: goals under a priority owned by the quality lead, an appraisal in
    # self-assessment reviewed by the manager, a check-in and a development plan.
    scenario = appraisal_scenario(employee=employee, reviewer=manager, state=AppraisalState.SELF_ASSESSMENT)
    priority = scenario.priority
    priority.owner = ql
    priority.save()
    for person in (peer, other):
        ParticipantFactory(cycle=scenario.cycle, employee=person, form_version=scenario.form_version)
    goal = scenario.goals[0]
    FunctionalGoalFactory(priority=priority, period=scenario.cycle.period, department=nursing)
    IndividualGoalFactory(owner=peer, period=scenario.cycle.period, priority=priority, approval=Approval.DRAFT)
    measure = QualityMeasureFactory(priority=priority, department=quality)
    form_version = scenario.form_version
    form = form_version.form
    draft = FormVersion.objects.create(form=form, number=form_version.number + 1, status=VersionStatus.DRAFT)
    row = scenario.rows[0]
    competency, scale = row.competency, row.scale or form_version.goals_scale

    org_import = OrgChartImport.objects.create(
        created_by=hr.user, file_name="org.csv", content=b"employee_id\n", status=ImportStatus.FAILED
    )
    cascade_import = CascadeImport.objects.create(
        kind=ImportKind.OBSERVATIONS, created_by=ql.user, file_name="obs.csv", content=b"date,value\n", measure=measure
    )
    log_entry = log_action(goal, "goal.updated", user=manager.user, changes={"title": ("Old", goal.title)})

    plan = plan_services.plan_create(user=hr.user, cycle=scenario.cycle, data={"name": "Clinical bonus"})
    target_import = TargetBonusImport.objects.create(
        plan=plan, created_by=hr.user, file_name="t.csv", content=b"employee_id,amount\n", status=ImportStatus.FAILED
    )
    payout = Payout.objects.create(
        plan=plan, employee=employee, target_bonus=Decimal(2000), computed_amount=Decimal(1500), amount=Decimal(1500)
    )
    recognition = Recognition.objects.create(author=manager, message="Thank you for the audit.")
    recognition.recipients.add(employee)
    pathway = Pathway.objects.create(name="Quality Champion", min_recognitions=1)
    candidate = PathwayCandidate.objects.create(pathway=pathway, employee=employee, status=CandidateStatus.PENDING)

    now = timezone.now()
    audit_run = AuditRun.objects.create(state=RunState.SUCCEEDED, finished_at=now)
    finding = Finding.objects.create(
        rule="unaligned_goals",
        fingerprint="unaligned_goals:department:nursing",
        severity=Severity.HIGH,
        subject_type=SubjectType.DEPARTMENT,
        subject_label="Nursing",
        department=nursing,
        message="Nursing goals are not aligned.",
        mitigation="Link them.",
        first_seen_run=audit_run,
        last_seen_run=audit_run,
        first_seen_at=now,
        last_seen_at=now,
    )
    today = timezone.localdate()
    survey = Survey.objects.create(
        title="Pulse",
        state=SurveyState.OPEN,
        opens_on=today - datetime.timedelta(days=1),
        closes_on=today + datetime.timedelta(days=10),
    )
    SurveyInvitation.objects.create(survey=survey, employee=employee)

    world = World(people=people)
    world.extra.update(
        cycle=scenario.cycle,
        period=scenario.cycle.period,
        appraisal=scenario.appraisal,
        check_in=scenario.check_in,
        plan=scenario.plan,
        priority=priority,
        measure=measure,
        change_point=ChangePoint.objects.create(
            measure=measure, date=datetime.date(2026, 1, 1), reason="Standard work adopted", created_by=ql
        ),
        goal=goal,
        form=form,
        competency=competency,
        scale=scale,
        draft_kwargs={"pk": form.pk, "number": draft.number},
        published_kwargs={"pk": form.pk, "number": form_version.number},
        api_draft_kwargs={"form_pk": form.pk, "number": draft.number},
        api_published_kwargs={"form_pk": form.pk, "number": form_version.number},
        org_import=org_import,
        cascade_import=cascade_import,
        log_entry=log_entry,
        incentive_plan=plan,
        target_import=target_import,
        payout=payout,
        recognition=recognition,
        pathway=pathway,
        candidate=candidate,
        audit_run=audit_run,
        finding=finding,
        survey=survey,
    )
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The organisation, built once for the module inside a transaction rolled back at its end;
    every test's requests run in a savepoint of their own (the ``db`` fixture), rolled back too."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            for role, person in world.people.items():
                client = Client()
                client.force_login(person.user)
                world.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
                world.users[role] = get_user_model().objects.get(pk=person.user_id)
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module", autouse=True)
def quiet_refusals():
    """Thousands of expected 4xx answers: Django's request log need not write each one."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


# ---------------------------------------------------------------- the rows


def _rows() -> list[Any]:
    urls = known_urls()
    params = []
    for name in sorted(urls):
        url, row = urls[name], TABLE.get(name)
        if row is None:
            continue  # test_every_url_has_a_row says so
        for method, expected in _expectations(url, row):
            for role in ROLES:
                want = expected[role]
                marks = []
                reason = DEVIATIONS.get((name, method, role))
                if reason:
                    marks.append(pytest.mark.xfail(strict=True, reason=reason))
                params.append(pytest.param(name, method, role, want, marks=marks, id=f"{name}-{method}-{role}"))
    return params


def _expectations(url: Url, row: Row) -> list[tuple[str, dict[str, object]]]:
    anonymous = ANON_API if url.api else ANON_PAGE
    found = []
    takes_get = row.get is not None
    if url.api and url.methods:
        takes_get = takes_get and "GET" in url.methods
    if takes_get:
        found.append(("GET", {"anonymous": row.anonymous_get or anonymous, **row.get}))
    else:
        # A GET on a write-only URL must not succeed: not allowed (405) or refused as the write would be.
        refusals = row.post or everyone(ALLOWED)
        found.append(
            (
                "GET",
                {
                    "anonymous": frozenset({anonymous, 405}),
                    **{r: frozenset({405}) if v == ALLOWED else frozenset({405, v}) for r, v in refusals.items()},
                },
            )
        )
    if row.post is not None:
        found.append(("POST", {"anonymous": row.anonymous_post or anonymous, **row.post}))
    return found


def pytest_generate_tests(metafunc):
    if {"name", "method", "role", "want"} <= set(metafunc.fixturenames):
        metafunc.parametrize(("name", "method", "role", "want"), _rows())


def test_every_url_has_a_row():
    """A new URL without a row in the table fails here: say who may reach it."""
    urls = known_urls()
    assert sorted(set(urls) - set(TABLE)) == []
    assert sorted(set(TABLE) - set(urls)) == []


def test_the_table_covers_every_role_for_every_url():
    for name, row in TABLE.items():
        for expected in (row.get, row.post):
            if expected is not None:
                assert set(expected) == set(SIGNED_IN), name


def _client(world: World, role: str, api: bool) -> Client | APIClient:
    if api:
        client = APIClient()
        if role != "anonymous":
            client.force_authenticate(user=world.users[role])
        return client
    client = Client()
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def _path(world: World, url: Url, row: Row) -> str:
    kwargs = row.kwargs(world)
    if not url.api:
        return reverse(url.name, kwargs=kwargs)
    # Router patterns are regexes: put the values in for their named groups.
    path = "/" + url.pattern.replace("^", "").replace("$", "")
    for key, value in kwargs.items():
        path = re.sub(rf"\(\?P<{key}>[^)]*\)", str(value), path)
    return path


def test_status(world, db, name, method, role, want):
    url = known_urls()[name]
    row = TABLE[name]
    client = _client(world, role, url.api)
    path = _path(world, url, row)
    data = row.data(world)
    if method == "GET":
        response = client.get(path, row.query(world))
    elif url.api:
        response = client.post(path, data, format="json")
    else:
        response = client.post(path, data)
    status = response.status_code
    if want == ALLOWED:
        assert status not in (401, 403, 404) and status < 500, f"{method} {path} as {role}: {status}"
    elif isinstance(want, frozenset):
        assert status in want, f"{method} {path} as {role}: {status}, expected one of {sorted(want)}"
    else:
        assert status == want, f"{method} {path} as {role}: {status}, expected {want}"
    if role == "anonymous" and status == ANON_PAGE and not url.api and name not in ("login", "logout"):
        assert response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------- where the app deviates today

# (url name, method, role) → which app helper is fixing it and what is wrong.
DEVIATIONS: dict[tuple[str, str, str], str] = {}
