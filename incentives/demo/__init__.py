"""The demo hospital's incentives, for ``manage.py seed_demo``: the plans (plans.py), then the
recognition posts and career pathways (recognition.py)."""

from __future__ import annotations

from incentives.demo import plans, recognition
from incentives.demo.plans import SeedResult


def seed_hospital() -> SeedResult:
    first = plans.seed_hospital()
    then = recognition.seed_hospital()
    return SeedResult(first.created or then.created, f"{first.message} {then.message}")
