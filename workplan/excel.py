"""Monthly actuals in Excel: the template staff fill, and reading a filled one back.

The file is read whole, with openpyxl's streaming read-only mode, within the ledger
import's upload limits (funding.upload_limits), before anything is stored. Every row
is checked; one bad row refuses the file: nothing is stored, and the page lists each
bad row with why (all or nothing, so a half-imported month never shows on the
dashboard). A formula is never evaluated: its text is read as typed, and is no number.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from funding.upload_limits import (
    Deadline,
    UploadLimits,
    cell_too_long,
    check_file_size,
    check_xlsx_archive,
    too_many_rows,
)
from lists.export import safe_text

from .indicators import BY_CODE, ENTERED_INDICATORS, Indicator, parse_value
from .models import YEAR_MIN

# The template's columns; the reader uses code, year, month and value, by position.
CODE, LABEL, UNIT, YEAR, MONTH, VALUE = range(6)
COLUMNS = 6
ECHO_MAX = 40  # a bad cell is quoted back at most this long
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ActualRow:
    row: int
    indicator: Indicator
    year: int
    month: int
    value: Decimal


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: str


@dataclass
class ReadResult:
    rows: list[ActualRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    skipped: int = 0  # template rows left without a value


class ImportRefused(ValidationError):
    """The file, or some of its rows, cannot be imported; nothing was stored."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        n = len(problems)
        super().__init__(
            ngettext(
                "%(n)d row has a problem; nothing was imported.",
                "%(n)d rows have problems; nothing was imported.",
                n,
            )
            % {"n": n}
        )


def _headers() -> list[str]:
    return [
        _("Indicator code"),
        _("Indicator"),
        _("Unit"),
        _("Year"),
        _("Month (1-12)"),
        _("Value"),
    ]


def template_workbook(year: int, month: int) -> bytes:
    """One row per entered indicator for `year` and `month`, the value left to fill."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Monthly actuals"))
    for column, width in zip("ABCDEF", (24, 44, 22, 8, 12, 16), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.append([_text_cell(sheet, header, bold=True) for header in _headers()])
    for indicator in ENTERED_INDICATORS:
        sheet.append(
            [
                _text_cell(sheet, indicator.code),
                _text_cell(sheet, str(indicator.label)),
                _text_cell(sheet, str(indicator.unit)),
                year,
                month,
                None,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cell(sheet, text: str, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=safe_text(text))
    cell.data_type = "s"  # never a formula, whatever the text
    if bold:
        cell.font = Font(bold=True)
    return cell


def read_actuals(
    content: bytes, filename: str, today: datetime.date, limits: UploadLimits | None = None
) -> ReadResult:
    """Every row of a filled template checked; raises ImportRefused if any is bad."""
    limits = limits or UploadLimits.from_settings()
    if not filename.lower().endswith(".xlsx"):
        raise ValidationError(_("Upload an Excel workbook (.xlsx), made from the template."))
    check_file_size(len(content), limits)
    check_xlsx_archive(content, limits)
    result = ReadResult()
    seen: dict[tuple[str, int, int], int] = {}
    for number, cells in _rows(content, limits):
        if number == 1:
            continue  # the header
        _read_row(number, cells, today, result, seen)
    if result.problems:
        raise ImportRefused(result.problems)
    if not result.rows:
        raise ValidationError(_("The file has no values to import: fill the Value column."))
    return result


def _read_row(number, cells, today, result: ReadResult, seen: dict) -> None:
    code, year_text, month_text, value_text = (
        cells[CODE],
        cells[YEAR],
        cells[MONTH],
        cells[VALUE],
    )
    if not value_text:
        result.skipped += 1  # a template row left empty: nothing to record
        return
    problems = result.problems
    start = len(problems)
    indicator = BY_CODE.get(code)
    if indicator is None:
        problems.append(
            RowProblem(
                number,
                _("Indicator code"),
                _("“%(code)s” is not an indicator code of the template.") % {"code": _echo(code)},
            )
        )
    elif not indicator.entered:
        problems.append(
            RowProblem(
                number,
                _("Indicator code"),
                _("“%(code)s” is computed by the system; it cannot be entered.") % {"code": code},
            )
        )
    year = _whole(year_text)
    month = _whole(month_text)
    if year is None:
        problems.append(
            RowProblem(
                number, _("Year"), _("“%(text)s” is not a year.") % {"text": _echo(year_text)}
            )
        )
    if month is None or not 1 <= month <= 12:
        problems.append(
            RowProblem(
                number,
                _("Month (1-12)"),
                _("“%(text)s” is not a month from 1 to 12.") % {"text": _echo(month_text)},
            )
        )
    elif year is not None:
        why = period_problem(year, month, today)
        if why:
            problems.append(RowProblem(number, _("Month (1-12)"), why))
    value = None
    if _formula(value_text):
        problems.append(
            RowProblem(
                number,
                _("Value"),
                _("“%(text)s” is a formula, which is not read; type the number itself.")
                % {"text": _echo(value_text)},
            )
        )
    elif indicator is not None:
        try:
            value = parse_value(indicator, value_text)
        except ValidationError as error:
            problems.append(
                RowProblem(
                    number,
                    _("Value"),
                    _("“%(text)s”: %(why)s.")
                    % {"text": _echo(value_text), "why": error.messages[0]},
                )
            )
    if len(problems) > start or indicator is None or value is None:
        return
    key = (indicator.code, year, month)
    if key in seen:
        problems.append(
            RowProblem(
                number,
                _("Indicator code"),
                _("The same indicator and month as row %(row)d.") % {"row": seen[key]},
            )
        )
        return
    seen[key] = number
    result.rows.append(ActualRow(number, indicator, year, month, value))


def period_problem(year: int, month: int, today: datetime.date) -> str | None:
    """Why a month cannot have an actual, or None: before YEAR_MIN, or not begun yet."""
    if year < YEAR_MIN:
        return _("The year %(year)d is before %(min)d.") % {"year": year, "min": YEAR_MIN}
    if (year, month) > (today.year, today.month):
        return _("%(year)d-%(month)02d is not a month that has begun.") % {
            "year": year,
            "month": month,
        }
    return None


def _formula(text: str) -> bool:
    # openpyxl's read-only mode gives a formula cell's text, "=…"; a number is never one.
    return text.startswith("=")


def _whole(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        return None
    return int(text)


def _echo(text: str) -> str:
    return text if len(text) <= ECHO_MAX else f"{text[:ECHO_MAX]}…"


def _rows(content: bytes, limits: UploadLimits) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows as (row number, six cells as text), within the limits."""
    unreadable = ValidationError(_("The file is not a readable XLSX workbook."))
    try:
        # data_only=False: a formula comes as its text, never as a value Excel cached.
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a bad file
        raise unreadable from error
    try:
        sheet = book.active
        if not hasattr(sheet, "iter_rows"):
            raise unreadable
        sheet.reset_dimensions()  # the declared size is never trusted
        deadline, seen = Deadline(limits.seconds), 0
        rows = sheet.iter_rows(values_only=True, max_col=COLUMNS)
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as error:  # a broken part shows only when it is read
                raise unreadable from error
            number += 1
            deadline.check()
            cells = [_cell_text(value) for value in values]
            cells += [""] * (COLUMNS - len(cells))
            if any(len(cell) > limits.max_cell_chars for cell in cells):
                raise cell_too_long(number, limits)
            if not any(cells):
                continue
            seen += 1
            if seen > limits.max_rows + 1:  # the header is not counted
                raise too_many_rows(limits)
            yield number, cells
    finally:
        book.close()


def _cell_text(value) -> str:
    """A cell as the text it shows: numbers written in full (never 1e+20)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)  # TRUE is no number; the value check says so
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        if not number.is_finite():
            return str(value)
        if number == number.to_integral_value():
            return f"{number.to_integral_value():f}"
        # A sum's binary residue (0.30000000000000004) is not a third decimal.
        rounded = round(number, 6).normalize()
        return f"{rounded:f}"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()  # not a number; the check says so
    return str(value).strip()
