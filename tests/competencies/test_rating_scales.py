"""Rating scales: what is refused, and that a scale in use keeps its levels."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from competencies import services
from competencies.models import RatingScale, ScaleLevel
from tests.competencies.helpers import PLAIN_LEVELS, user_of


def levels(*pairs):  # type: ignore[no-untyped-def]
    return [{"value": value, "label": label} for value, label in pairs]


def refusal(hr, scale_levels) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as excinfo:
        services.scale_create(user=hr, name="Belts", levels=scale_levels)
    assert not RatingScale.objects.filter(name="Belts").exists()
    return excinfo.value.message_dict["levels"]


def test_it_creates_a_scale_with_its_levels_in_order(hr):
    scale = services.scale_create(
        user=hr, name="Belts", methodology="six_sigma", levels=levels((1, "White"), (2, "Yellow"))
    )
    assert [(lv.order, lv.value, lv.label) for lv in scale.levels.all()] == [
        (1, Decimal("1.00"), "White"),
        (2, Decimal("2.00"), "Yellow"),
    ]


@pytest.mark.parametrize("given, have", [([], "none"), ([(1, "Only")], "only one")])
def test_it_refuses_fewer_than_two_levels(hr, given, have):
    assert refusal(hr, levels(*given)) == [f"A rating scale needs at least two levels; this one has {have}."]


def test_it_refuses_values_that_do_not_strictly_increase(hr):
    messages = refusal(hr, levels((1, "White"), (3, "Yellow"), (2, "Green")))
    assert messages == [
        "Values must strictly increase from one level to the next: level 3 “Green” (2) is not above level 2 "
        "“Yellow” (3)."
    ]


def test_it_refuses_two_levels_with_the_same_value(hr):
    messages = refusal(hr, levels((1, "White"), (1.0, "Yellow")))
    assert "level 2 “Yellow” (1) is not above level 1 “White” (1)" in messages[0]


def test_it_refuses_repeated_labels_ignoring_case(hr):
    messages = refusal(hr, levels((1, "Good"), (2, "Better"), (3, " good ")))
    assert messages == ["Each level needs its own label: “good” is used by levels 1 and 3."]


def test_it_refuses_a_blank_label_and_a_value_that_is_no_number(hr):
    assert refusal(hr, levels((1, "White"), (2, "  "))) == ["Level 2 needs a label."]
    assert refusal(hr, levels((1, "White"), ("two", "Yellow"))) == ["Level 2: 'two' is not a number."]


def test_it_refuses_a_second_scale_with_the_same_name_ignoring_case(hr, scale):
    with pytest.raises(ValidationError) as excinfo:
        services.scale_create(user=hr, name="PLAIN 1–5", levels=PLAIN_LEVELS)
    assert "already exists" in str(excinfo.value)


def test_levels_are_replaced_as_a_whole(hr, scale):
    services.scale_update(
        user=hr,
        scale=scale,
        expected_version=1,
        data={"name": "Three point"},
        levels=levels((1, "Low"), (2, "Mid"), (3, "High")),
    )
    scale.refresh_from_db()
    assert (scale.name, scale.version) == ("Three point", 2)
    assert [lv.label for lv in scale.levels.all()] == ["Low", "Mid", "High"]


def test_a_refused_replacement_keeps_the_old_levels(hr, scale):
    with pytest.raises(ValidationError):
        services.scale_update(user=hr, scale=scale, expected_version=1, data={}, levels=levels((2, "A"), (1, "B")))
    assert scale.levels.count() == 5


def test_a_scale_used_by_a_published_form_keeps_its_levels(hr, published, scale):
    assert scale.is_locked()
    with pytest.raises(ValidationError) as excinfo:
        services.scale_update(user=hr, scale=scale, expected_version=1, data={}, levels=levels((1, "Low"), (2, "High")))
    assert "ratings given on it would change meaning" in excinfo.value.message_dict["levels"][0]
    # Renaming is harmless, and sending the same levels again is not a change.
    services.scale_update(user=hr, scale=scale, expected_version=1, data={"name": "Plain five"}, levels=PLAIN_LEVELS)
    assert scale.levels.count() == 5


def test_a_locked_scales_levels_cannot_change_through_the_models_either(published, scale):
    level = scale.levels.first()
    level.label = "Dreadful"
    with pytest.raises(ValidationError):
        level.save()
    with pytest.raises(ValidationError):
        level.delete()
    with pytest.raises(ValidationError):
        ScaleLevel.objects.filter(scale=scale).update(label="x")
    with pytest.raises(ValidationError):
        ScaleLevel.objects.bulk_create([ScaleLevel(scale=scale, order=9, value=9, label="Nine")])
    assert ScaleLevel.objects.get(pk=level.pk).label == "Unsatisfactory"


def test_a_draft_form_does_not_lock_its_scales(built, scale):
    assert not scale.is_locked()


@pytest.mark.parametrize("role", ["employee", "manager", "chief", "stranger"])
def test_only_hr_changes_scales(cast, scale, role):
    user = user_of(getattr(cast, role))
    with pytest.raises(PermissionDenied):
        services.scale_create(user=user, name="Mine", levels=PLAIN_LEVELS)
    with pytest.raises(PermissionDenied):
        services.scale_update(user=user, scale=scale, expected_version=1, data={"name": "Mine"})
