"""Budget rules of DESIGN §5 (国办发〔2021〕32号)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from .states import DIRECT_CATEGORIES, BudgetCategory

CENT = Decimal("0.01")


def indirect_cap(direct_total: Decimal, tiers: list[list]) -> Decimal:
    """Progressive cap: each slice of the direct cost allows its own percentage."""
    cap, lower = Decimal("0"), Decimal("0")
    for upper, percent in tiers:
        upper_d = Decimal(str(upper)) if upper is not None else None
        top = direct_total if upper_d is None else min(direct_total, upper_d)
        if top > lower:
            cap += (top - lower) * Decimal(str(percent)) / 100
        if upper_d is None or direct_total <= upper_d:
            break
        lower = upper_d
    return cap.quantize(CENT, rounding=ROUND_DOWN)


def direct_total(lines: dict[str, Decimal]) -> Decimal:
    return sum((lines.get(c.value, Decimal("0")) for c in DIRECT_CATEGORIES), Decimal("0"))


def budget_problems(lines: dict[str, Decimal], tiers: list[list]) -> list[str]:
    from django.utils.translation import gettext as _

    problems = []
    if any(amount < 0 for amount in lines.values()):
        problems.append(_("Budget amounts cannot be negative."))
    direct = direct_total(lines)
    indirect = lines.get(BudgetCategory.INDIRECT.value, Decimal("0"))
    cap = indirect_cap(direct, tiers)
    if indirect > cap:
        problems.append(
            _("Indirect costs of %(indirect)s yuan exceed the cap of %(cap)s yuan.")
            % {"indirect": indirect, "cap": cap}
        )
    return problems
