"""The work plan's indicators (DESIGN §1: the yearly targets leadership tracks), as data.

Each indicator says how its actual is obtained: `entered` (staff type or import a value
per month) or `computed` (the system counts it from its own records, workplan.figures).
`aggregate` says how the months make the year: `sum` adds them; `latest` takes the last
month entered (a level, such as R&D intensity, is not a flow and does not add up).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from funding.amounts import AmountError, parse_plain_number

ENTERED = "entered"
COMPUTED = "computed"
SUM = "sum"
LATEST = "latest"

# Units as the bureau reports them.
WAN_YUAN = gettext_lazy("10,000 yuan (万元)")
YI_YUAN = gettext_lazy("100 million yuan (亿元)")
PERCENT = "%"
ENTERPRISES = gettext_lazy("enterprises (家)")
PEOPLE = gettext_lazy("people (人)")
ITEMS = gettext_lazy("items (条)")
PLATFORMS = gettext_lazy("platforms (个)")
PROJECTS = gettext_lazy("projects (项)")

# The database column holds numeric(14, 2); no indicator comes near it.
BIG = Decimal("9999999999.99")


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str | Promise
    unit: str | Promise
    source: str = ENTERED
    aggregate: str = SUM
    places: int = 2  # decimals a value may have (counts are whole numbers)
    maximum: Decimal = BIG
    negative_allowed: bool = False

    @property
    def entered(self) -> bool:
        return self.source == ENTERED

    @property
    def computed(self) -> bool:
        return self.source == COMPUTED


INDICATORS: tuple[Indicator, ...] = (
    Indicator("rd_spending", gettext_lazy("R&D spending (研发经费投入)"), WAN_YUAN),
    Indicator(
        "rd_intensity",
        gettext_lazy("R&D intensity (研发投入强度)"),
        PERCENT,
        aggregate=LATEST,
        maximum=Decimal(100),
    ),
    Indicator(
        "high_tech_enterprises",
        gettext_lazy("New high-tech enterprises (新认定高新技术企业)"),
        ENTERPRISES,
        places=0,
    ),
    Indicator(
        "tech_smes",
        gettext_lazy("Registered tech-based SMEs (科技型中小企业入库)"),
        ENTERPRISES,
        places=0,
    ),
    Indicator(
        "high_tech_output", gettext_lazy("High-tech industry output (高新技术产业产值)"), YI_YUAN
    ),
    Indicator(
        "tech_contracts", gettext_lazy("Technology-contract turnover (技术合同成交额)"), WAN_YUAN
    ),
    Indicator("funds_won", gettext_lazy("Funds won from higher levels (向上争取资金)"), WAN_YUAN),
    Indicator("talents", gettext_lazy("Talents recruited (引进人才)"), PEOPLE, places=0),
    Indicator("sci_tech_finance", gettext_lazy("Sci-tech finance raised (科技金融)"), WAN_YUAN),
    Indicator(
        "information_items",
        gettext_lazy("Information items published (科技信息发布)"),
        ITEMS,
        places=0,
    ),
    Indicator(
        "platforms",
        gettext_lazy("Platforms and incubators created (创新平台与孵化载体)"),
        PLATFORMS,
        places=0,
    ),
    # Computed from the system's own records (workplan.figures).
    Indicator(
        "projects_approved",
        gettext_lazy("Projects approved (立项项目数)"),
        PROJECTS,
        source=COMPUTED,
        places=0,
    ),
    Indicator(
        "money_disbursed", gettext_lazy("Money disbursed (拨付资金)"), WAN_YUAN, source=COMPUTED
    ),
    Indicator(
        "funds_won_recommended",
        gettext_lazy("Funds won through projects recommended upward (推荐项目争取资金)"),
        WAN_YUAN,
        source=COMPUTED,
    ),
)

BY_CODE: dict[str, Indicator] = {indicator.code: indicator for indicator in INDICATORS}
ENTERED_INDICATORS = tuple(i for i in INDICATORS if i.entered)
CODE_MAX = max(len(code) for code in BY_CODE)


def indicator_choices(indicators=INDICATORS) -> list[tuple[str, str | Promise]]:
    return [(i.code, i.label) for i in indicators]


def parse_value(indicator: Indicator, text: str) -> Decimal:
    """A value of `indicator` as typed (or read from a cell): digits written in full, at
    most its decimals and its maximum; negative only where the indicator allows it.

    Raises ValidationError whose message names the rule broken.
    """
    try:
        value = parse_plain_number(text, places=indicator.places, maximum=indicator.maximum)
    except AmountError as error:
        if indicator.places == 0 and error.code == "decimals":
            raise ValidationError(_("a whole number"), code="decimals") from None
        raise ValidationError(error.why, code=error.code) from None
    if value < 0 and not indicator.negative_allowed:
        raise ValidationError(_("not below zero"), code="negative")
    return value


def check_value(indicator: Indicator, value: Decimal) -> Decimal:
    """A value handed to a service as a number: the same rules as typed text."""
    return parse_value(indicator, f"{value:f}" if isinstance(value, Decimal) else str(value))
