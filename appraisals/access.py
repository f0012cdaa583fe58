"""Who may see and do what in review cycles — the one place that decides it.

The shape every app's ``access.py`` follows: ``<things>_visible_to(user)`` querysets
(a record outside them answers 404) and ``can_<verb>(user[, obj])`` checks (a
role-reserved page or endpoint answers 403). Cycle set-up, launch, phase moves,
closing, nudges, the HR dashboard, exports and the cycle history are HR's
(``can_manage_cycles``). For one person's records, pages, the API and the services
ask ``access_for``:

- the person appraised (the employee) reads their own records and writes the
  self side while the self-assessment is open;
- the reviewer (``Participant.reviewer``, normally the direct manager at launch)
  reads them and writes the manager side during the manager review and dialogue;
- anyone else above the employee in the reporting chain (a skip-level manager)
  reads but never writes;
- HR admins read everything and change records only through HR actions (lock);
- anyone else (a peer, a stranger) has no access, which the selectors answer with 404.

The employee sees the manager's ratings, comments and the score only once the
reviewer has shared them; the others see the employee's self-assessment only
once it has been submitted, so that a draft is the employee's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from appraisals.models import Appraisal, AppraisalState, CheckIn, DevelopmentPlan, Participant, ReviewCycle
from core.access import among
from people import access as people

HR_ONLY_CYCLES = "Only HR admins may set up and run review cycles."
TEAM_REVIEWS_ONLY = "This page lists the appraisals you review: it is for managers and reviewers."

PARTICIPANT_RELATED = (
    "participant__cycle",
    "participant__cycle__period",
    "participant__employee",
    "participant__employee__department",
    "participant__reviewer",
    "participant__form_version",
    "participant__form_version__form",
)

# States in which each side of an appraisal is open for writing.
SELF_STATES = frozenset({AppraisalState.SELF_ASSESSMENT})
MANAGER_STATES = frozenset({AppraisalState.MANAGER_REVIEW, AppraisalState.DIALOGUE})
# The dialogue answers are prepared by the employee during the self-assessment, by
# the reviewer during the review, and written up together during the dialogue.
EMPLOYEE_ANSWER_STATES = frozenset({AppraisalState.SELF_ASSESSMENT, AppraisalState.DIALOGUE})
REVIEWER_ANSWER_STATES = frozenset({AppraisalState.MANAGER_REVIEW, AppraisalState.DIALOGUE})
SHAREABLE_STATES = frozenset({AppraisalState.MANAGER_REVIEW, AppraisalState.DIALOGUE})


@dataclass(frozen=True)
class AppraisalAccess:
    can_read: bool = False
    is_employee: bool = False
    is_reviewer: bool = False
    is_hr: bool = False
    is_skip_level: bool = False
    # Writing the appraisal's two sides in its current state.
    can_edit_self: bool = False
    can_edit_manager: bool = False
    sees_manager_ratings: bool = False
    # Beyond the contract: what the page offers, in the same vocabulary.
    sees_self_ratings: bool = False
    can_edit_answers: bool = False
    can_comment: bool = False  # the employee's comment on the appraisal, during the dialogue
    can_submit_self: bool = False
    can_submit_review: bool = False
    can_share: bool = False
    can_acknowledge: bool = False
    can_lock: bool = False
    sees_history: bool = False  # the full field-level history (HR); others see the last change only

    @property
    def can_write(self) -> bool:
        """Whether the person and reviewer may write the check-in and development plan at all."""
        return self.is_employee or self.is_reviewer


NO_ACCESS = AppraisalAccess()


def access_for(user, participant: Participant, appraisal: Appraisal | None = None) -> AppraisalAccess:
    """What ``user`` may do with ``participant``'s records.

    ``appraisal`` defaults to ``participant.appraisal`` (pass it, or load it with
    ``select_related``, to avoid a query); without one, only the relationship
    flags are set. Costs no query beyond the user's cached employee record.
    """
    if not user.is_authenticated:
        return NO_ACCESS
    me = people.employee_for_user(user)
    is_hr = people.is_hr_admin(user)
    is_employee = bool(me and participant.employee_id == me.pk)
    is_reviewer = bool(me and participant.reviewer_id == me.pk and not is_employee)
    is_skip_level = bool(
        me
        and not is_employee
        and not is_reviewer
        and bool(me.path)  # a record without its manager path is above nobody
        and participant.employee.path.startswith(me.path)
        and participant.employee.path != me.path
    )
    can_read = is_employee or is_reviewer or is_skip_level or is_hr
    if not can_read:
        return NO_ACCESS
    if appraisal is None:
        appraisal = _appraisal_of(participant)
    state = appraisal.state if appraisal is not None else None
    shared = bool(appraisal and appraisal.shared_at)
    self_submitted = bool(appraisal and appraisal.self_submitted_at)
    return AppraisalAccess(
        can_read=True,
        is_employee=is_employee,
        is_reviewer=is_reviewer,
        is_hr=is_hr,
        is_skip_level=is_skip_level,
        can_edit_self=is_employee and state in SELF_STATES,
        can_edit_manager=is_reviewer and state in MANAGER_STATES,
        sees_manager_ratings=shared or not is_employee,
        sees_self_ratings=is_employee or self_submitted,
        can_edit_answers=(is_employee and state in EMPLOYEE_ANSWER_STATES)
        or (is_reviewer and state in REVIEWER_ANSWER_STATES),
        can_comment=is_employee and state == AppraisalState.DIALOGUE,
        can_submit_self=is_employee and state == AppraisalState.SELF_ASSESSMENT,
        can_submit_review=is_reviewer and state == AppraisalState.MANAGER_REVIEW,
        can_share=is_reviewer and state in SHAREABLE_STATES and not shared,
        can_acknowledge=is_employee and state == AppraisalState.DIALOGUE and shared,
        can_lock=is_hr and state is not None and state != AppraisalState.LOCKED,
        sees_history=is_hr,
    )


def can_see_score(user, participant: Participant, appraisal: Appraisal | None = None) -> bool:
    """Whether ``user`` may see the score of ``participant``'s appraisal: the employee once the
    reviewer has shared it, the others who may read the appraisal always (it exists once the
    review is submitted). Lists, the appraisal page and the API all ask this."""
    return access_for(user, participant, appraisal).sees_manager_ratings


# ---------------------------------------------------------------- roles


def can_see_team_reviews(user) -> bool:  # type: ignore[no-untyped-def]
    """The team reviews page is for managers and for anyone named a reviewer in a cycle."""
    me = people.employee_for_user(user)
    return me is not None and (people.is_manager(me) or Participant.objects.filter(reviewer=me).exists())


def can_manage_cycles(user) -> bool:  # type: ignore[no-untyped-def]
    """HR sets cycles up, launches them, moves their phases, closes them, nudges, and reads the
    cycle dashboard, exports and history."""
    return people.is_hr_admin(user)


def can_lock(user) -> bool:  # type: ignore[no-untyped-def]
    """Locking an appraisal (and closing a cycle, which locks them all) is HR's."""
    return people.is_hr_admin(user)


# ---------------------------------------------------------------- what a user may see


def _visible_participant_ids(user) -> QuerySet[Participant] | None:  # type: ignore[no-untyped-def]
    """The ids of the participants whose records the user may read, as a subquery; None means all
    of them (HR), an empty queryset none.

    Their own, the ones they review, and everyone under them in the chain (whose path starts with
    theirs; a record without its path is above nobody). A UNION of three branches, each answered by
    an index (participant.employee_id, participant.reviewer_id, employee.path's prefix index),
    rather than an OR across two tables, which no index can answer and which scans every record.
    """
    if not user.is_authenticated:
        return Participant.objects.none()
    if people.is_hr_admin(user):
        return None
    me = people.employee_for_user(user)
    if me is None:
        return Participant.objects.none()
    own = Participant.objects.filter(employee_id=me.pk).values("pk")
    reviewed = Participant.objects.filter(reviewer_id=me.pk).values("pk")
    if not me.path:
        return own.union(reviewed)
    below = Participant.objects.filter(employee__path__startswith=me.path).values("pk")
    return own.union(reviewed, below)


def _scoped(queryset: QuerySet, user, prefix: str) -> QuerySet:  # type: ignore[type-arg, no-untyped-def]
    """``queryset`` (reaching the Participant through ``prefix``) cut to what the user may read."""
    ids = _visible_participant_ids(user)
    if ids is None:
        return queryset
    if not ids.query.combinator and ids.query.is_empty():
        return queryset.none()
    return among(queryset, ids, f"{prefix}id" if prefix else "pk")


def participants_visible_to(user) -> QuerySet[Participant]:  # type: ignore[no-untyped-def]
    """The people in cycles this user may read the records of: their own, those they review,
    everyone below them in the chain; HR all."""
    queryset = Participant.objects.select_related("cycle", "employee__department", "reviewer", "form_version__form")
    return _scoped(queryset, user, "")


def cycles_visible_to(user) -> QuerySet[ReviewCycle]:  # type: ignore[no-untyped-def]
    """HR sees every cycle; anyone else the cycles they take part in, review in, or manage someone in."""
    if people.is_hr_admin(user):
        return ReviewCycle.objects.select_related("period", "created_by")
    visible = participants_visible_to(user).values("cycle_id")
    return ReviewCycle.objects.select_related("period", "created_by").filter(pk__in=visible)


def appraisals_visible_to(user) -> QuerySet[Appraisal]:  # type: ignore[no-untyped-def]
    return _scoped(Appraisal.objects.select_related(*PARTICIPANT_RELATED), user, "participant__")


def checkins_visible_to(user) -> QuerySet[CheckIn]:  # type: ignore[no-untyped-def]
    return _scoped(
        CheckIn.objects.select_related(*PARTICIPANT_RELATED, "participant__appraisal"), user, "participant__"
    )


def development_plans_visible_to(user) -> QuerySet[DevelopmentPlan]:  # type: ignore[no-untyped-def]
    return _scoped(
        DevelopmentPlan.objects.select_related(*PARTICIPANT_RELATED, "participant__appraisal"),
        user,
        "participant__",
    )


def _appraisal_of(participant: Participant) -> Appraisal | None:
    try:
        return participant.appraisal
    except Appraisal.DoesNotExist:
        return None
