"""Budget rules of DESIGN §5 (国办发〔2021〕32号)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from .states import DIRECT_CATEGORIES, BudgetCategory

CENT = Decimal("0.01")
ZERO = Decimal("0")


def indirect_cap(base: Decimal, tiers: list[list]) -> Decimal:
    """Progressive cap: each slice of the base allows its own percentage."""
    cap, lower = Decimal("0"), Decimal("0")
    for upper, percent in tiers:
        upper_d = Decimal(str(upper)) if upper is not None else None
        top = base if upper_d is None else min(base, upper_d)
        if top > lower:
            cap += (top - lower) * Decimal(str(percent)) / 100
        if upper_d is None or base <= upper_d:
            break
        lower = upper_d
    return cap.quantize(CENT, rounding=ROUND_DOWN)


def direct_total(lines: dict[str, Decimal]) -> Decimal:
    # A line a project does not have (an older project's trial-make line) counts as zero.
    return sum((lines.get(c.value, ZERO) for c in DIRECT_CATEGORIES), ZERO)


def cap_base(lines: dict[str, Decimal]) -> Decimal:
    """直接费用扣除设备购置费: direct costs less equipment purchase. Trial-make, upgrade
    and rental of equipment stay in the base; only purchase leaves it."""
    return direct_total(lines) - lines.get(BudgetCategory.EQUIPMENT.value, ZERO)


@dataclass(frozen=True)
class CapCheck:
    indirect: Decimal
    cap: Decimal
    base: Decimal

    @property
    def exceeded(self) -> bool:
        return self.indirect > self.cap

    def amounts(self) -> dict[str, Decimal]:
        return {"indirect": self.indirect, "cap": self.cap, "base": self.base}


def check_cap(lines: dict[str, Decimal], tiers: list[list]) -> CapCheck:
    """The indirect costs of `lines` against their cap (tiers per call)."""
    base = cap_base(lines)
    indirect = lines.get(BudgetCategory.INDIRECT.value, ZERO)
    return CapCheck(indirect=indirect, cap=indirect_cap(base, tiers), base=base)


def budget_problems(lines: dict[str, Decimal], tiers: list[list]) -> list[str]:
    from django.utils.translation import gettext as _

    problems = []
    if any(amount < 0 for amount in lines.values()):
        problems.append(_("Budget amounts cannot be negative."))
    check = check_cap(lines, tiers)
    if check.exceeded:
        problems.append(
            _(
                "Indirect costs of %(indirect)s yuan exceed the cap of %(cap)s yuan "
                "(direct costs less equipment purchase: %(base)s yuan)."
            )
            % check.amounts()
        )
    return problems
