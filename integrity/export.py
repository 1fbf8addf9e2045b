"""The register as a spreadsheet, outside a page: the rows the register's table exports.

The page's own exports (?export=xlsx|csv) go through lists.pages with the same table, so
a workbook made here holds the same columns: no full ID number of a person (credit codes
of organisations are public and stay whole), and no cell a spreadsheet would run.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from lists.export import safe_text, workbook_bytes
from lists.pages import table_values

from .models import Sanction
from .tables import SanctionTable

__all__ = ["register_workbook", "safe_text"]  # safe_text: kept for those importing it here


def register_workbook(sanctions: Iterable[Sanction]) -> bytes:
    """One sheet: a header row, then one row per sanction, as the register exports them."""
    headers, rows = table_values(SanctionTable(list(sanctions)))
    return workbook_bytes(_("Register of sanctions"), headers, rows)
