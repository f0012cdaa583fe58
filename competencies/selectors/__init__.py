"""Reads for the competencies app, by topic; import from here.

- library: the competency library and the rating scales
- appraisal_forms: appraisal forms, their versions, what the builder shows and the results/process balance
- assignment: which appraisal form applies to whom (``forms_for``, used when a cycle is launched)
- preview: a version exactly as the people appraised with it will see it

Who sees what is decided in competencies.access; these functions start from its querysets.
"""

from __future__ import annotations

from competencies.selectors.appraisal_forms import (
    Balance,
    BuilderContent,
    balance_of,
    builder_content,
    draft_of,
    forms_with_versions,
    get_form,
    get_version,
    published_version,
    rules_of,
    scales_for_choice,
    version_balance,
    version_problems,
    versions_visible_to,
    with_rows,
)
from competencies.selectors.assignment import (
    LOOKUP_LIMIT,
    form_for,
    forms_for,
    get_rule,
    rules_with_published,
    who_gets_what,
)
from competencies.selectors.library import (
    categories,
    competencies,
    get_competency,
    get_scale,
    library_by_category,
    rating_scales,
    versions_using,
    with_lock_state,
)

__all__ = [
    "LOOKUP_LIMIT",
    "Balance",
    "BuilderContent",
    "balance_of",
    "builder_content",
    "categories",
    "competencies",
    "draft_of",
    "form_for",
    "forms_for",
    "forms_with_versions",
    "get_competency",
    "get_form",
    "get_rule",
    "get_scale",
    "get_version",
    "library_by_category",
    "published_version",
    "rating_scales",
    "rules_of",
    "rules_with_published",
    "scales_for_choice",
    "version_balance",
    "version_problems",
    "versions_using",
    "versions_visible_to",
    "who_gets_what",
    "with_lock_state",
    "with_rows",
]
