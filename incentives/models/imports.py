"""An upload of target bonuses for a plan, checked and applied in the background like the org
chart's and the cascade's imports (people.models.ImportRecord: the file, status, progress, problems)."""

from __future__ import annotations

from django.db import models

from incentives.models.plans import IncentivePlan
from people.models import ImportRecord

__all__ = ["TargetBonusImport"]


class TargetBonusImport(ImportRecord):
    """One file of (employee_id, amount) rows for a plan: every row checked, then all written or none."""

    plan = models.ForeignKey(IncentivePlan, on_delete=models.CASCADE, related_name="target_imports")

    class Meta(ImportRecord.Meta):
        pass

    def __str__(self) -> str:
        return f"Target bonuses for {self.plan}: {self.file_name} ({self.get_status_display()})"
