"""Who may see and do what in the competencies app — the one place that decides it.

Pages, the API, selectors, templates (through the views' context) and services ask
these functions; none re-derives a rule.

Seeing: the competency library and the rating scales are not secret, so anyone signed
in reads them. Appraisal forms are read by anyone signed in once they have a published
version; their published and retired versions too. Drafts are HR's work in progress:
to anyone else a draft, or a form never published, does not exist (404).

Doing: the library, the scales, building appraisal forms and the assignment rules are
HR set-up, so to anyone else those pages and endpoints answer 403 with the message
below — the same on a page and in the API, whichever record is named.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet

from competencies.models import AppraisalForm, AssignmentRule, Competency, FormVersion, RatingScale, VersionStatus
from people.access import is_hr_admin

User = AbstractBaseUser | AnonymousUser

LIBRARY_ONLY_HR = "Only HR admins can change the competency library."
SCALES_ONLY_HR = "Only HR admins can change rating scales."
FORMS_ONLY_HR = "Only HR admins can build appraisal forms."
RULES_ONLY_HR = "Only HR admins can decide which form applies to whom."


# ---------------------------------------------------------------- what a user may see


def competencies_visible_to(user: User) -> QuerySet[Competency]:
    """Everyone signed in reads the whole library, retired competencies included
    (forms that used them still show them)."""
    if not user.is_authenticated:
        return Competency.objects.none()
    return Competency.objects.all()


def rating_scales_visible_to(user: User) -> QuerySet[RatingScale]:
    if not user.is_authenticated:
        return RatingScale.objects.none()
    return RatingScale.objects.all()


def forms_visible_to(user: User) -> QuerySet[AppraisalForm]:
    """HR sees every appraisal form; anyone else signed in, the forms with a published version."""
    if not user.is_authenticated:
        return AppraisalForm.objects.none()
    if is_hr_admin(user):
        return AppraisalForm.objects.all()
    published = FormVersion.objects.filter(form=OuterRef("pk"), status=VersionStatus.PUBLISHED)
    return AppraisalForm.objects.filter(Exists(published))


def form_versions_visible_to(user: User) -> QuerySet[FormVersion]:
    """HR sees drafts too; anyone else the published and retired versions of the forms they may see."""
    if is_hr_admin(user):
        return FormVersion.objects.all()
    return FormVersion.objects.filter(form__in=forms_visible_to(user)).exclude(status=VersionStatus.DRAFT)


def rules_visible_to(user: User) -> QuerySet[AssignmentRule]:
    """Who gets which form is shown beside each form to everyone signed in; changing it is HR's."""
    if not user.is_authenticated:
        return AssignmentRule.objects.none()
    return AssignmentRule.objects.all()


# ---------------------------------------------------------------- what a user may do


def can_manage_library(user: User) -> bool:
    """Add, edit, retire and reinstate competencies."""
    return is_hr_admin(user)


def can_manage_scales(user: User) -> bool:
    """Add and edit rating scales (a scale a published form uses keeps its levels whoever asks)."""
    return is_hr_admin(user)


def can_build_forms(user: User) -> bool:
    """Create appraisal forms, edit their drafts, publish, retire and discard versions."""
    return is_hr_admin(user)


def can_manage_assignment_rules(user: User) -> bool:
    """Decide which appraisal form applies to a department, a job title or everyone else."""
    return is_hr_admin(user)
