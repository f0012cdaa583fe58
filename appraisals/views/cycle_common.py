"""What HR's cycle pages share: the cycle of the URL and the service's messages.

Every cycle page is HR's (appraisals.access.can_manage_cycles): anyone else signed in gets
403 with a message saying so, as the API answers; a cycle that does not exist answers 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from appraisals.access import cycles_visible_to
from appraisals.forms.cycles import (
    OverrideForm,
)
from appraisals.models import (
    CycleState,
    ReviewCycle,
)
from appraisals.selectors import cycles as cycle_selectors
from appraisals.services import cycles as services
from core.access import get_visible_or_404


def cycle_or_404(request: HttpRequest, pk: int) -> ReviewCycle:
    return get_visible_or_404(cycles_visible_to(request.user), pk=pk)


def errors_of(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def setup_context(cycle: ReviewCycle, override_form: OverrideForm | None = None) -> dict[str, object]:
    return {
        "overrides": cycle_selectors.cycle_overrides(cycle),
        "override_form": override_form or OverrideForm(prefix="override"),
        "preview": services.launch_preview(cycle) if cycle.state == CycleState.SETUP else None,
    }
