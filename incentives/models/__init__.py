"""Incentive plans and payouts (plans.py); recognition and career pathways (recognition.py)."""

from incentives.models.plans import *  # noqa: F403
from incentives.models.recognition import *  # noqa: F403
