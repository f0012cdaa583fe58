"""Incentive plans and payouts (plans.py), target-bonus uploads (imports.py); recognition and career
pathways (recognition.py)."""

from incentives.models.imports import *  # noqa: F403
from incentives.models.plans import *  # noqa: F403
from incentives.models.recognition import *  # noqa: F403
