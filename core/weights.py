"""The "weights total 100" rule, said the same way wherever weights are shared out
(goals of a set, a form's sections and competencies, a plan's components)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["WEIGHTS_TOTAL", "weights_total_problem"]

WEIGHTS_TOTAL = 100


def weights_total_problem(
    weights: Sequence[tuple[str, int]],
    *,
    what: str = "weights",
    joiner: str = ", ",
    empty_ok: bool = False,
    none: str = "none given",
) -> str | None:
    """None when the named weights total 100; otherwise a message naming each weight and the total.

    ``weights`` are (name, weight) pairs in the order people see them; ``what`` names them in the
    message ("competency weights"); ``empty_ok`` lets an empty list pass (nothing to share out yet);
    ``none`` stands in the brackets when the list is empty.
    """
    total = sum(weight for _, weight in weights)
    if total == WEIGHTS_TOTAL or (empty_ok and not weights):
        return None
    listing = joiner.join(f"{name} {weight}" for name, weight in weights) or none
    return f"The {what} total {total} ({listing}); they must total {WEIGHTS_TOTAL}."
