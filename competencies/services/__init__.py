"""Writes for the competencies app, by topic; import from here.

- library: competencies (with indicators) and rating scales (with levels)
- appraisal_forms: forms, their drafts' sections and rows, publish, new draft, retire
- assignment: which form applies to whom
- validation: the rules every write (and the admin) checks, in the words a person reads

Every function takes ``user`` (asked of competencies.access: HR admins only, else
PermissionDenied), runs in one transaction, writes what it changed to the action log
(core.log) in that transaction, and raises ValidationError (field → messages) or, for a
stale ``expected_version``, core.errors.ConflictError (409).
"""

from __future__ import annotations

from competencies.services.appraisal_forms import (
    DEFAULT_QUESTIONS,
    CompetencySpec,
    QuestionSpec,
    draft_add_competency,
    draft_add_question,
    draft_discard,
    draft_move_competency,
    draft_move_question,
    draft_remove_competency,
    draft_remove_question,
    draft_reorder_competencies,
    draft_reorder_questions,
    draft_replace_content,
    draft_set_weights,
    draft_update,
    draft_update_competency,
    draft_update_question,
    form_create,
    form_delete,
    form_publish,
    form_start_new_draft,
    form_update,
    publish_version,
    snapshot,
    version_retire,
)
from competencies.services.assignment import rule_create, rule_delete, rule_update
from competencies.services.library import (
    competency_create,
    competency_reinstate,
    competency_retire,
    competency_update,
    scale_create,
    scale_delete,
    scale_update,
)
from competencies.services.validation import LevelSpec

__all__ = [
    "DEFAULT_QUESTIONS",
    "CompetencySpec",
    "LevelSpec",
    "QuestionSpec",
    "competency_create",
    "competency_reinstate",
    "competency_retire",
    "competency_update",
    "draft_add_competency",
    "draft_add_question",
    "draft_discard",
    "draft_move_competency",
    "draft_move_question",
    "draft_remove_competency",
    "draft_remove_question",
    "draft_reorder_competencies",
    "draft_reorder_questions",
    "draft_replace_content",
    "draft_set_weights",
    "draft_update",
    "draft_update_competency",
    "draft_update_question",
    "form_create",
    "form_delete",
    "form_publish",
    "form_start_new_draft",
    "form_update",
    "publish_version",
    "rule_create",
    "rule_delete",
    "rule_update",
    "scale_create",
    "scale_delete",
    "scale_update",
    "snapshot",
    "version_retire",
]
