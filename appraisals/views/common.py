"""What the record pages share: reading a person's one-to-one record without a query error."""

from __future__ import annotations

from typing import Any

from appraisals.models import (
    Appraisal,
    CheckIn,
    DevelopmentPlan,
    Participant,
)


def record_of(record: Participant, name: str) -> Any:
    """A participant's appraisal, check-in or plan, or None (a reverse one-to-one that may be missing)."""
    try:
        return getattr(record, name)
    except (Appraisal.DoesNotExist, CheckIn.DoesNotExist, DevelopmentPlan.DoesNotExist):
        return None
