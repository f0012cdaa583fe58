"""HR's settings for the audit rules: on or off, thresholds checked against each rule's declared bounds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from audits.models import RuleConfig
from audits.rules.base import Threshold
from audits.services import runs
from audits.services import settings as services
from core.errors import ConflictError
from tests.audits.engine import make_rule
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

SHARE = Threshold(
    key="min_share", label="Minimum shared share", default=Decimal("20"), minimum=Decimal("0"), maximum=Decimal("100")
)
DAYS = Threshold(
    key="days",
    label="Days without an update",
    default=Decimal("60"),
    minimum=Decimal("7"),
    maximum=Decimal("365"),
    whole=True,
)


@pytest.fixture
def rules(only_rules):
    silo = make_rule("silo", thresholds=(SHARE, DAYS))
    plain = make_rule("plain")
    only_rules(silo, plain)
    return silo, plain


def save(cast, **kwargs):
    values = {"key": "silo", "enabled": True, "thresholds": {"min_share": "30", "days": "90"}, "expected_version": None}
    values.update(kwargs)
    return services.update_rule(user=cast.hr.user, **values)


def test_every_rule_is_listed_in_run_order_with_its_defaults(rules):
    settings = services.rule_settings()
    assert [s.rule.key for s in settings] == ["silo", "plain"]
    silo = settings[0]
    assert (silo.config, silo.enabled, silo.limits) == (None, True, {"min_share": Decimal("20"), "days": Decimal("60")})


def test_hrs_values_are_stored_exactly_and_used_by_the_next_run(cast, rules):
    config = save(cast, thresholds={"min_share": "37.5", "days": 90})
    assert config.thresholds == {"min_share": "37.5", "days": "90"}
    assert (config.version, config.updated_by, config.enabled) == (1, cast.hr, True)
    assert services.rule_settings()[0].limits == {"min_share": Decimal("37.5"), "days": Decimal("90")}

    runs.start_run(user=cast.hr.user, queue=False)
    assert rules[0].calls == [{"min_share": Decimal("37.5"), "days": Decimal("90")}]


def test_saving_again_bumps_the_version_and_a_stale_one_is_refused(cast, rules):
    save(cast)
    config = save(cast, thresholds={"min_share": "40", "days": "90"}, expected_version=1)
    assert config.version == 2
    with pytest.raises(ConflictError):
        save(cast, thresholds={"min_share": "50", "days": "90"}, expected_version=1)
    config.refresh_from_db()
    assert config.thresholds["min_share"] == "40"


@pytest.mark.parametrize(
    ("thresholds", "key", "message"),
    [
        ({"days": "90"}, "min_share", "Enter a value for “Minimum shared share”."),
        ({"min_share": "", "days": "90"}, "min_share", "Enter a value for “Minimum shared share”."),
        ({"min_share": "lots", "days": "90"}, "min_share", "Enter a number, such as 60 or 12.5."),
        ({"min_share": "NaN", "days": "90"}, "min_share", "Enter a number, such as 60 or 12.5."),
        ({"min_share": True, "days": "90"}, "min_share", "Enter a number, such as 60 or 12.5."),
        ({"min_share": "100.5", "days": "90"}, "min_share", "Enter a value from 0 to 100."),
        ({"min_share": "-1", "days": "90"}, "min_share", "Enter a value from 0 to 100."),
        ({"min_share": "30", "days": "6"}, "days", "Enter a value from 7 to 365."),
        ({"min_share": "30", "days": "30.5"}, "days", "Enter a whole number."),
        ({"min_share": "30", "days": "90", "colour": "red"}, "colour", "“Check silo” has no setting called “colour”."),
    ],
)
def test_a_bad_value_is_refused_with_a_message_by_its_field(cast, rules, thresholds, key, message):
    with pytest.raises(ValidationError) as error:
        save(cast, thresholds=thresholds)
    assert error.value.message_dict == {key: [message]}
    assert not RuleConfig.objects.exists()


def test_whole_numbers_may_be_written_with_zero_decimals(cast, rules):
    assert save(cast, thresholds={"min_share": "30", "days": "30.0"}).thresholds["days"] == "30"


def test_a_rule_can_be_switched_off(cast, rules):
    save(cast, key="plain", enabled=False, thresholds={})
    assert [s.enabled for s in services.rule_settings()] == [True, False]


def test_an_unknown_rule_is_404(cast, rules):
    with pytest.raises(Http404):
        save(cast, key="nope", thresholds={})


def test_only_hr_changes_settings(cast, rules):
    for person in (cast.employee, cast.manager, cast.stranger, EmployeeFactory(is_quality_lead=True)):
        with pytest.raises(PermissionDenied):
            services.update_rule(user=person.user, key="silo", enabled=False, thresholds={}, expected_version=None)
    assert not RuleConfig.objects.exists()


def test_a_stored_value_that_no_longer_fits_falls_back_to_the_default(rules, caplog):
    config = RuleConfig.objects.create(rule="silo", thresholds={"min_share": "150", "days": "abc", "old": "1"})
    assert services.effective_limits(rules[0], config) == {"min_share": Decimal("20"), "days": Decimal("60")}
    assert "the stored min_share" in caplog.text


def test_the_real_rules_declare_thresholds_their_defaults_satisfy():
    """Every registered rule's defaults pass its own validation (so the settings page can always save)."""
    settings = services.rule_settings()
    assert settings, "no audit rule is registered"
    for setting in settings:
        assert services.validate_thresholds(setting.rule, setting.rule.defaults()) == setting.rule.defaults()
