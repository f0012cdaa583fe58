"""Who may see and do what in the audits app — the one place that decides it.

HR admins and quality leads read the audits (dashboard, findings, runs, settings, the
correlation analysis, whose per-person points only HR sees); only HR acts on them (acknowledge
or resolve a finding, run an audit, change the settings and the schedule). Surveys are HR's: HR
sets them up and reads their results; everyone else only answers the surveys they were invited to.

Pages and the API apply these rules through ``core.access``: a record outside a user's
querysets answers 404; a role-reserved page or endpoint answers 403 with the message below,
on the page as in the API. Services re-check the ``can_*`` rules before they write.

The privacy floor of survey results (no group under 5 answers shown) is not here: it is a
rule of the aggregates themselves, kept where they are computed (``audits.selectors.surveys``).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from audits.models import AuditRun, CorrelationResult, Finding, Survey, SurveyInvitation
from people import access as people

User = AbstractBaseUser | AnonymousUser

READ_MESSAGE = "Only HR admins and quality leads can see the alignment audits."
CORRELATION_MESSAGE = "Only HR admins and quality leads can see the correlation analysis."
ACT_MESSAGE = "Only HR admins can acknowledge or resolve findings."
RUN_MESSAGE = "Only HR admins can start, rerun or resume an audit."
SETTINGS_MESSAGE = "Only HR admins can change the audit settings."
SCHEDULE_MESSAGE = "Only HR admins can change the audit schedule."
SURVEYS_MESSAGE = "Only HR admins manage surveys and read their results."
ANSWER_MESSAGE = "You were not asked to answer this survey."


# ---------------------------------------------------------------- roles


def can_read_audits(user: User) -> bool:
    """HR admins and quality leads read the audits; nobody else does."""
    return people.is_hr_admin(user) or people.is_quality_lead(user)


def can_read_correlation(user: User) -> bool:
    return can_read_audits(user)


def can_see_individual_scores(user: User) -> bool:
    """Whether the correlation analysis shows ``user`` each person's point — their exact appraisal
    score beside their QI goal achievement — and each department's mean score.

    Only a reader who may see every scored person's score may: HR admins, for whom
    ``appraisals.access.can_see_score`` holds whoever the person is. A quality lead reads the
    analysis (ρ, its interval, n) but may not see one person's score (PRODUCT.md: ratings are
    private, charts included); and since goals are not private, a point's achievement names the
    person it belongs to. Pages and the API ask this; none re-derives it.
    """
    return people.is_hr_admin(user)


def can_act_on_findings(user: User, finding: Finding | None = None) -> bool:
    """Acknowledge or resolve a finding: HR only (a quality lead reads them)."""
    return people.is_hr_admin(user)


def can_run_audits(user: User) -> bool:
    """Run an audit now, run a failed one again, resume a stalled one."""
    return people.is_hr_admin(user)


def can_edit_audit_settings(user: User) -> bool:
    """Change a rule's thresholds or the audit schedule (a quality lead sees them read-only)."""
    return people.is_hr_admin(user)


def can_use_audit_admin(user: User) -> bool:
    """The admin pages for runs, findings and rule settings: HR's power-user tools."""
    return people.is_hr_admin(user)


def can_manage_surveys(user: User) -> bool:
    """Set up a survey, change it, open or close it, send reminders."""
    return people.is_hr_admin(user)


def can_read_survey_results(user: User, survey: Survey | None = None) -> bool:
    """Who may read results at all; which groups are shown is the aggregates' floor."""
    return people.is_hr_admin(user)


# ---------------------------------------------------------------- what each user sees


def findings_visible_to(user: User) -> QuerySet[Finding]:
    return Finding.objects.all() if can_read_audits(user) else Finding.objects.none()


def runs_visible_to(user: User) -> QuerySet[AuditRun]:
    return AuditRun.objects.all() if can_read_audits(user) else AuditRun.objects.none()


def correlation_results_visible_to(user: User) -> QuerySet[CorrelationResult]:
    return CorrelationResult.objects.all() if can_read_correlation(user) else CorrelationResult.objects.none()


def surveys_visible_to(user: User) -> QuerySet[Survey]:
    """Every survey for HR; none for anyone else (who reaches a survey through an invitation)."""
    return Survey.objects.all() if can_manage_surveys(user) else Survey.objects.none()


def invitations_visible_to(user: User) -> QuerySet[SurveyInvitation]:
    """The user's own invitations: a survey nobody asked them to answer does not exist for them."""
    me = people.employee_for_user(user)
    if me is None:
        return SurveyInvitation.objects.none()
    return SurveyInvitation.objects.filter(employee=me)


def can_answer_survey(user: User, invitation: SurveyInvitation) -> bool:
    me = people.employee_for_user(user)
    return me is not None and invitation.employee_id == me.pk
