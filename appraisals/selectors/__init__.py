"""Reads for review cycles, by topic: ``records`` (one person's appraisal, check-in and
development plan, and what their pages show) and ``cycles`` (HR's cycle list, dashboard,
late list and exports). Who may see what is appraisals.access's to decide; these read
within it. The record reads are re-exported here, as the pages and the API call them."""

from appraisals.selectors.records import (
    COMMON_CAUSE_CAUTION,
    AppraisalPage,
    CompetencyRow,
    GoalRow,
    LastChange,
    QuestionRow,
    appraisal_page,
    get_appraisal,
    get_check_in,
    get_cycle,
    get_plan,
    my_appraisals,
    my_check_ins,
    my_plans,
    running_cycle_period,
    team_appraisals,
    team_check_ins,
    team_plans,
)

__all__ = [
    "COMMON_CAUSE_CAUTION",
    "AppraisalPage",
    "CompetencyRow",
    "GoalRow",
    "LastChange",
    "QuestionRow",
    "appraisal_page",
    "get_appraisal",
    "get_check_in",
    "get_cycle",
    "get_plan",
    "my_appraisals",
    "my_check_ins",
    "my_plans",
    "running_cycle_period",
    "team_appraisals",
    "team_check_ins",
    "team_plans",
]
