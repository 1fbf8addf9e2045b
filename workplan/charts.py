"""Small charts drawn on the server as inline SVG (templates/workplan/_*.svg.html).

No script and no style attribute (the CSP allows neither inline): these helpers only
work out the geometry, as strings, and the templates draw it with SVG's own
presentation attributes. Numbers shown are formatted here, so every language reads the
same digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

MONTH_LABELS = [str(month) for month in range(1, 13)]


def number(value: Decimal | int | None, places: int = 2) -> str:
    """1234567.5 as “1,234,567.50” (a count as “1,234”); nothing as “—”."""
    if value is None:
        return "—"
    return f"{Decimal(value):,.{places}f}"


def _f(x: float) -> str:
    return f"{x:.1f}"


@dataclass(frozen=True)
class Progress:
    percent: Decimal | None
    fill: str  # width of the filled part, out of 100
    over: bool  # the target is passed
    text: str


def progress(percent: Decimal | None) -> Progress:
    if percent is None:
        return Progress(None, "0", False, "—")
    fill = max(Decimal(0), min(percent, Decimal(100)))
    return Progress(percent, _f(float(fill)), percent >= 100, f"{percent}%")


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    label_x: str
    text: str  # the value, above the bar
    text_y: str
    label: str  # under the axis


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    axis_y: str
    bars: list[Bar]
    line: str  # polyline points ("" for a bar chart)
    empty: bool


def monthly(values: list[Decimal | None], places: int, *, line: bool = False) -> Chart:
    """Twelve months as bars (a flow) or as a line through the months entered (a level)."""
    width, height, top, bottom, left = 480, 150, 18, 20, 4
    plot = height - top - bottom
    slot = (width - left) / len(values)
    biggest = max((v for v in values if v is not None), default=Decimal(0))
    scale = plot / float(biggest) if biggest > 0 else 0.0
    bars, points = [], []
    for n, value in enumerate(values):
        x = left + n * slot
        h = float(value or 0) * scale
        y = top + plot - h
        centre = x + slot / 2
        if value is not None:
            points.append(f"{_f(centre)},{_f(y)}")
        bars.append(
            Bar(
                x=_f(x + slot * 0.15),
                y=_f(y),
                width=_f(slot * 0.7),
                height=_f(h) if value is not None and not line else "0",
                label_x=_f(centre),
                text="" if value is None else number(value, places),
                text_y=_f(max(y - 4, 10)),
                label=MONTH_LABELS[n],
            )
        )
    return Chart(
        width=width,
        height=height,
        axis_y=_f(top + plot),
        bars=bars,
        line=" ".join(points) if line else "",
        empty=not any(v is not None for v in values),
    )


@dataclass(frozen=True)
class Row:
    y: str
    text_y: str
    label: str
    width: str
    value_x: str
    text: str
    key: str


@dataclass(frozen=True)
class HBars:
    width: int
    height: int
    bar_x: str
    rows: list[Row]


def hbars(items: list[tuple[str, str, Decimal | int, str]]) -> HBars:
    """Horizontal bars: (key, label, value, text shown) per row, scaled to the largest."""
    width, row_h, label_w, text_w = 560, 22, 210, 110
    span = width - label_w - text_w
    biggest = max((Decimal(v) for _k, _l, v, _t in items), default=Decimal(0))
    rows = []
    for n, (key, label, value, text) in enumerate(items):
        w = span * float(Decimal(value) / biggest) if biggest > 0 else 0.0
        rows.append(
            Row(
                y=_f(n * row_h + 4),
                text_y=_f(n * row_h + 17),
                label=str(label),
                width=_f(w),
                value_x=_f(label_w + w + 6),
                text=text,
                key=key,
            )
        )
    return HBars(width=width, height=max(len(items), 1) * row_h + 4, bar_x=str(label_w), rows=rows)
