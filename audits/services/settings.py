"""HR's settings for the audit rules: each rule on or off, and its thresholds within declared bounds.

A rule declares its thresholds (audits.rules.base.Threshold: default, minimum, maximum,
whole or not); a ``RuleConfig`` row keeps only what HR changed. ``effective_limits`` is what
a run uses: the defaults overlaid with HR's values. A stored value that no longer fits
(the rule's bounds were tightened in a later release, or the row was edited by hand) falls
back to the default rather than stopping the audit, and is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404

from audits import access
from audits.models import RuleConfig
from audits.rules import all_rules, get_rule
from audits.rules.base import Rule, Threshold
from core.errors import ConflictError
from core.formatting import plain
from core.log import log_action
from people import access as people

logger = logging.getLogger(__name__)


@dataclass
class RuleSetting:
    rule: type[Rule]
    config: RuleConfig | None
    enabled: bool
    limits: dict[str, Decimal]


def rule_settings() -> list[RuleSetting]:
    """Every registered rule, in run order, with HR's settings applied (one query)."""
    configs = {config.rule: config for config in RuleConfig.objects.all()}
    settings = []
    for rule in all_rules():
        config = configs.get(rule.key)
        settings.append(
            RuleSetting(
                rule=rule,
                config=config,
                enabled=config.enabled if config else True,
                limits=effective_limits(rule, config),
            )
        )
    return settings


def enabled_rules() -> list[tuple[type[Rule], dict[str, Decimal]]]:
    """The rules a run evaluates, in run order, each with its limits."""
    return [(s.rule, s.limits) for s in rule_settings() if s.enabled]


def effective_limits(rule: type[Rule], config: RuleConfig | None) -> dict[str, Decimal]:
    limits = rule.defaults()
    stored = config.thresholds if config is not None and isinstance(config.thresholds, Mapping) else {}
    for threshold in rule.thresholds:
        if threshold.key not in stored:
            continue
        value, problem = _check(threshold, stored[threshold.key])
        if problem:
            logger.warning(
                "Audit rule %s: the stored %s (%r) is not usable (%s); using the default %s.",
                rule.key,
                threshold.key,
                stored[threshold.key],
                problem,
                threshold.default,
            )
            continue
        limits[threshold.key] = value  # type: ignore[assignment]
    return limits


def _check(threshold: Threshold, raw: object) -> tuple[Decimal | None, str]:
    """The value as a Decimal, or a message a person can act on."""
    unit = f" {threshold.unit}" if threshold.unit else ""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, f"Enter a value for “{threshold.label}”."
    if isinstance(raw, bool):  # True is an int to Python, not a number to a person
        return None, "Enter a number, such as 60 or 12.5."
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None, "Enter a number, such as 60 or 12.5."
    if not value.is_finite():
        return None, "Enter a number, such as 60 or 12.5."
    if value < threshold.minimum or value > threshold.maximum:
        return None, f"Enter a value from {plain(threshold.minimum)} to {plain(threshold.maximum)}{unit}."
    if threshold.whole and value != value.to_integral_value():
        return None, "Enter a whole number."
    return value, ""


def validate_thresholds(rule: type[Rule], thresholds: Mapping[str, object]) -> dict[str, Decimal]:
    """Every declared threshold present, numeric, within its bounds and whole where it must be;
    no undeclared ones. ValidationError by threshold key otherwise."""
    errors: dict[str, str] = {}
    values: dict[str, Decimal] = {}
    declared = {t.key for t in rule.thresholds}
    for key in thresholds:
        if key not in declared:
            errors[key] = f"“{rule.title}” has no setting called “{key}”."
    for threshold in rule.thresholds:
        value, problem = _check(threshold, thresholds.get(threshold.key))
        if problem:
            errors[threshold.key] = problem
        else:
            values[threshold.key] = value  # type: ignore[assignment]
    if errors:
        raise ValidationError(errors)
    return values


def reset_rule(*, user, config: RuleConfig) -> None:
    """Put a rule back to its defaults (its row goes; a missing row means "the defaults")."""
    if not access.can_edit_audit_settings(user):
        raise PermissionDenied(access.SETTINGS_MESSAGE)
    with transaction.atomic():
        log_action(
            config,
            "audit.rule_reset",
            user=user,
            changes={"enabled": (config.enabled, None), "thresholds": (config.thresholds, None)},
        )
        config.delete()


def update_rule(
    *, user, key: str, enabled: bool, thresholds: Mapping[str, object], expected_version: int | None
) -> RuleConfig:
    """Save HR's settings for one rule. The next run uses them; findings already open stay until
    that run confirms or closes them."""
    if not access.can_edit_audit_settings(user):
        raise PermissionDenied(access.SETTINGS_MESSAGE)
    try:
        rule = get_rule(key)
    except KeyError:
        raise Http404("No such audit check.") from None
    values = validate_thresholds(rule, thresholds)
    # Stored as text: exact, and JSON has no decimals.
    stored = {k: plain(v) for k, v in values.items()}
    by = people.employee_for_user(user)
    with transaction.atomic():
        config = RuleConfig.objects.select_for_update().filter(rule=key).first()
        if config is None:
            try:
                with transaction.atomic():
                    config = RuleConfig.objects.create(
                        rule=key, enabled=bool(enabled), thresholds=stored, updated_by=by
                    )
                    log_action(
                        config,
                        "audit.rule_changed",
                        user=user,
                        changes={"enabled": (None, config.enabled), "thresholds": (None, stored)},
                    )
                    return config
            except IntegrityError:
                # Someone else saved this rule's first settings a moment ago.
                raise ConflictError() from None
        if expected_version is not None and config.version != expected_version:
            raise ConflictError()
        changes = {"enabled": (config.enabled, bool(enabled)), "thresholds": (config.thresholds, stored)}
        config.enabled = bool(enabled)
        config.thresholds = stored
        config.updated_by = by
        config.version = F("version") + 1
        config.save(update_fields=["enabled", "thresholds", "updated_by", "updated_at", "version"])
        log_action(config, "audit.rule_changed", user=user, changes=changes)
    config.refresh_from_db()
    return config
