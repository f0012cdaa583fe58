"""The audit rules, in the order a run evaluates them; importing this package registers them all."""

from __future__ import annotations

from audits.rules import (  # noqa: F401  (imported to register)
    alignment,
    correlation,
    emphasis,
    improvement_time,
    messaging,
    rewards,
    silos,
    stale,
)
from audits.rules.base import REGISTRY, Rule


def all_rules() -> list[type[Rule]]:
    return list(REGISTRY.values())


def get_rule(key: str) -> type[Rule]:
    return REGISTRY[key]
