"""Writes for assignment rules: which appraisal form applies to a department, a job title, or by default.

HR admins only (competencies.access); each change is written to the action log. Which rule
wins for a person is decided in competencies.selectors.forms_for.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from competencies import access
from competencies.models import AppraisalForm, AssignmentRule
from competencies.services._common import apply, changes_since, save_or_explain, save_versioned, stored
from core.access import deny_unless
from core.log import log_action
from people.models import Department

RULE_FIELDS = frozenset({"form", "department", "job_title", "is_default", "priority"})


def rule_create(
    *,
    user,
    form: AppraisalForm,
    department: Department | None = None,
    job_title: str = "",
    is_default: bool = False,
    priority: int = 100,
) -> AssignmentRule:
    """A rule for a department (and the departments under it), a job title, both, or — ``is_default`` — everyone else."""
    deny_unless(access.can_manage_assignment_rules(user), access.RULES_ONLY_HR)
    rule = AssignmentRule()
    apply(
        rule,
        {
            "form": form,
            "department": department,
            "job_title": job_title,
            "is_default": is_default,
            "priority": priority,
        },
        RULE_FIELDS,
    )
    with transaction.atomic():
        rule.full_clean()
        save_or_explain(rule, field="job_title")
        log_action(rule, "assignment_rule.created", user=user, data=stored(AssignmentRule, rule.pk, RULE_FIELDS))
    return rule


def rule_update(
    *, user, rule: AssignmentRule, expected_version: int | None, data: Mapping[str, object]
) -> AssignmentRule:
    deny_unless(access.can_manage_assignment_rules(user), access.RULES_ONLY_HR)
    with transaction.atomic():
        before = stored(AssignmentRule, rule.pk, RULE_FIELDS)
        apply(rule, data, RULE_FIELDS)
        rule.full_clean()
        save_versioned(AssignmentRule, rule, expected_version)
        log_action(rule, "assignment_rule.updated", user=user, changes=changes_since(before, rule))
    return rule


def rule_delete(*, user, rule: AssignmentRule) -> None:
    deny_unless(access.can_manage_assignment_rules(user), access.RULES_ONLY_HR)
    with transaction.atomic():
        log_action(rule, "assignment_rule.deleted", user=user, data=stored(AssignmentRule, rule.pk, RULE_FIELDS))
        rule.delete()
