"""Writes for assignment rules: which appraisal form applies to a department, a job title, or by default.

HR admins only. Which rule wins for a person is decided in competencies.selectors.forms_for.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from competencies.models import AppraisalForm, AssignmentRule
from competencies.services._common import apply, require_hr, save_or_explain, save_versioned
from people.models import Department

RULES_ONLY_HR = "Only HR admins can decide which form applies to whom."
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
    require_hr(user, RULES_ONLY_HR)
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
    return rule


def rule_update(
    *, user, rule: AssignmentRule, expected_version: int | None, data: Mapping[str, object]
) -> AssignmentRule:
    require_hr(user, RULES_ONLY_HR)
    with transaction.atomic():
        apply(rule, data, RULE_FIELDS)
        rule.full_clean()
        save_versioned(AssignmentRule, rule, expected_version)
    return rule


def rule_delete(*, user, rule: AssignmentRule) -> None:
    require_hr(user, RULES_ONLY_HR)
    rule.delete()
