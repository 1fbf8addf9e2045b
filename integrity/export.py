"""The register as an Excel workbook: the rows the page shows, ID numbers masked.

A workbook leaves the system, so it carries no full ID number (credit codes of
organisations are public and stay whole), and no cell can run as a formula.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .models import Sanction
from .tables import shown_number

# A text cell starting with one of these may be read as a formula (or a DDE call) by
# Excel or LibreOffice, here or after a round trip through CSV (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"


def safe_text(value: str) -> str:
    """Text that no spreadsheet will evaluate: a leading apostrophe marks it as text."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _headers() -> list[tuple[str, int]]:
    return [
        (_("Subject"), 24),
        (_("Subject kind"), 14),
        (_("ID number or credit code"), 22),
        (_("Unit"), 24),
        (_("Severity"), 14),
        (_("Measures"), 40),
        (_("Barred actions"), 40),
        (_("Starts on"), 12),
        (_("Ends on"), 12),
        (_("Status"), 12),
        (_("Under appeal"), 10),
        (_("Rectify by"), 12),
        (_("Rectified on"), 12),
        (_("Decision number"), 22),
        (_("Recorded on"), 12),
    ]


def _row(sanction: Sanction) -> list:
    return [
        sanction.subject_name,
        sanction.get_subject_kind_display(),
        shown_number(sanction),
        sanction.subject_unit,
        sanction.get_severity_display(),
        "；".join(sanction.measure_labels()),
        "；".join(sanction.gate_labels()),
        sanction.starts_on,
        sanction.ends_on or _("permanent"),
        sanction.get_status_display(),
        _("yes") if sanction.under_appeal else _("no"),
        sanction.rectify_by,
        sanction.rectified_on,
        sanction.decision_no,
        timezone.localtime(sanction.recorded_at).date() if sanction.recorded_at else None,
    ]


def _cell(sheet, value) -> WriteOnlyCell:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=safe_text(value))
        cell.data_type = "s"  # never "f", whatever the text
        return cell
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, datetime.date):
        cell.number_format = DATE_FORMAT
    return cell


def register_workbook(sanctions: Iterable[Sanction]) -> bytes:
    """One sheet: a header row, then one row per sanction."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Register of sanctions")[:31])
    headers = _headers()
    for index, (_title, width) in enumerate(headers):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for title, _width in headers:
        cell = _cell(sheet, title)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for sanction in sanctions:
        sheet.append([_cell(sheet, value) for value in _row(sanction)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
