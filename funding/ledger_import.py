"""Importing the expenditure ledger from finance software exports (CSV or XLSX).

Headers may be Chinese or English. Every row is checked and every problem reported with
its row number; nothing is imported until the whole file is clean. Amounts follow the
rules of every path (funding.amounts); a NUL in any cell, or a voucher number or payee
longer than its column, is an error of its row. Re-importing the same
export adds nothing: each row carries a key made from its content and its position
among identical rows.

The file is read whole, within the upload limits (`upload_limits`), before the project's
row is locked: a slow or hostile file never holds up the project's other actions (issue
6). Only then are a clean file's entries written under the lock, all or nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trail.kinds import EventKind
from trail.services import record

from .amounts import AmountError, parse_amount
from .flags import spending_warnings
from .ledger_reader import LedgerRows
from .models import Expenditure, Project
from .states import BudgetCategory
from .upload_limits import UploadLimits

HEADERS = {
    "voucher_no": {"voucher_no", "voucher", "凭证号", "凭证编号"},
    "spent_on": {"date", "spent_on", "日期", "支付日期", "记账日期"},
    "category": {"category", "科目", "预算科目", "费用类别"},
    "payee": {"payee", "收款方", "收款单位", "收款人"},
    "method": {"method", "payment method", "支付方式", "结算方式"},
    "amount": {"amount", "金额", "支出金额"},
}
CATEGORIES = {
    **{c.value: c.value for c in BudgetCategory},
    "设备费": "equipment",
    "业务费": "operations",
    "劳务费": "labour",
    "间接费用": "indirect",
}
METHODS = {
    **{m.value: m.value for m in Expenditure.Method},
    "转账": "transfer",
    "银行转账": "transfer",
    "公务卡": "card",
    "现金": "cash",
}
# Category C0 and C1 control characters (NUL among them; PostgreSQL refuses NUL in text).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
PROGRESS_EVERY = 500  # rows between two progress reports
QUOTED = 40  # characters of a bad value repeated in its row's message


@dataclass
class ImportResult:
    imported: int = 0
    already_there: int = 0
    errors: list[str] = field(default_factory=list)
    # Spending beyond what was disbursed or budgeted, once written: warned, not refused.
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParsedLedger:
    """A file read before anything is locked: its entries, or every row's problems."""

    filename: str
    sha256: str
    entries: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rows: int = 0  # data rows read
    complete: bool = True  # False: reading stopped at `stop_after` rows


def check_may_import(project: Project, by) -> None:
    from .services import SPENDING_STATES

    if by.pk != project.pi_id:
        raise PermissionDenied(_("Only the PI records this project's spending."))
    if project.status not in SPENDING_STATES:
        raise ValidationError(_("Spending is recorded only while the project runs."))


def import_ledger(project: Project, by, content: bytes, filename: str) -> ImportResult:
    """Read the whole file, then write it (the page hands large files to a job instead)."""
    check_may_import(project, by)
    parsed = parse_ledger(content, filename)
    if parsed.errors:
        return ImportResult(errors=parsed.errors)  # nothing imported until the file is clean
    return write_ledger(project, by, parsed)


def parse_ledger(
    content: bytes,
    filename: str,
    limits: UploadLimits | None = None,
    *,
    stop_after: int | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> ParsedLedger:
    """Read and check every row, locking nothing; refuse at the first limit passed.

    `stop_after`: read at most that many data rows (`complete` tells whether that was all).
    `on_progress(rows read, expected rows or None)` is called every PROGRESS_EVERY rows.
    """
    limits = limits or UploadLimits.from_settings()
    parsed = ParsedLedger(clean_filename(filename), hashlib.sha256(content).hexdigest())
    with LedgerRows(content, filename, limits) as reader:
        rows = iter(reader)
        header = next(rows, None)
        if header is None:
            raise ValidationError(_("The file is empty."))
        columns = _columns(header[1])
        today, seen = timezone.localdate(), Counter()
        for number, row in rows:
            if stop_after is not None and parsed.rows >= stop_after:
                parsed.complete = False
                break
            parsed.rows += 1
            if on_progress and parsed.rows % PROGRESS_EVERY == 0:
                on_progress(parsed.rows, reader.expected_rows)
            values = {k: (row[i] if i < len(row) else "") for k, i in columns.items()}
            entry, problems = _parse_row(values, today)
            problems += _nul_elsewhere(row, columns)
            if problems:
                parsed.errors.append(
                    _("Row %(n)d: %(p)s.") % {"n": number, "p": "; ".join(problems)}
                )
                continue
            identity = tuple(str(entry[k]) for k in sorted(entry))
            seen[identity] += 1
            entry["import_key"] = _key(entry, seen[identity])
            parsed.entries.append(entry)
    return parsed


@transaction.atomic
def write_ledger(project: Project, by, parsed: ParsedLedger) -> ImportResult:
    """Write a clean file's entries under the project's row lock, all or nothing."""
    if parsed.errors or not parsed.complete:
        raise ValueError("only a clean file, read to its end, is written")
    project = Project.objects.select_for_update().get(pk=project.pk)
    check_may_import(project, by)
    existing = set(project.expenditures.exclude(import_key="").values_list("import_key", flat=True))
    entries = parsed.entries
    new = [Expenditure(project=project, **e) for e in entries if e["import_key"] not in existing]
    Expenditure.objects.bulk_create(new, batch_size=1000)
    warnings = spending_warnings(project)
    result = ImportResult(
        imported=len(new),
        already_there=len(entries) - len(new),
        warnings=[w.message for w in warnings],
    )
    record(
        EventKind.EXPENDITURE_RECORDED,
        project,
        actor=by,
        data={
            "import": parsed.filename[:100],
            "sha256": parsed.sha256,
            "imported": result.imported,
            "already_there": result.already_there,
            "warnings": [w.kind for w in warnings],
        },
    )
    return result


def clean_filename(name: str) -> str:
    """The file's name as recorded (the trail, a job): no control characters, 255 at most."""
    return CONTROL.sub("", name)[:255]


def _columns(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    columns = {}
    for key, aliases in HEADERS.items():
        for index, name in enumerate(names):
            if name in aliases:
                columns[key] = index
    missing = [key for key in HEADERS if key not in columns]
    if missing:
        raise ValidationError(
            _("The header row lacks the columns: %(cols)s.") % {"cols": ", ".join(missing)}
        )
    return columns


def _parse_row(values: dict[str, str], today: datetime.date) -> tuple[dict, list[str]]:
    problems = _text_problems(values)
    entry: dict = {"voucher_no": values["voucher_no"], "payee": values["payee"]}
    if not entry["voucher_no"]:
        problems.append(_("no voucher number"))
    if not entry["payee"]:
        problems.append(_("no payee"))
    try:
        entry["spent_on"] = datetime.date.fromisoformat(values["spent_on"].replace("/", "-"))
        if entry["spent_on"] > today:
            problems.append(_("the date is in the future"))
    except ValueError:
        problems.append(
            _("“%(v)s” is not a date (YYYY-MM-DD)") % {"v": _quoted(values["spent_on"])}
        )
    entry["category"] = CATEGORIES.get(values["category"])
    if entry["category"] is None:
        problems.append(_("unknown budget category “%(v)s”") % {"v": _quoted(values["category"])})
    entry["method"] = METHODS.get(values["method"])
    if entry["method"] is None:
        problems.append(_("unknown payment method “%(v)s”") % {"v": _quoted(values["method"])})
    entry["amount"] = _amount(values["amount"], problems)
    return entry, problems


def _text_problems(values: dict[str, str]) -> list[str]:
    """Control characters anywhere, and text longer than its column holds."""
    problems = []
    for key, text in values.items():
        label = Expenditure._meta.get_field(key).verbose_name
        if CONTROL.search(text):
            problems.append(
                _("a control character (such as NUL or a line break) in the %(field)s")
                % {"field": label}
            )
        limit = Expenditure._meta.get_field(key).max_length
        if key in ("voucher_no", "payee") and len(text) > limit:
            problems.append(
                _("the %(field)s is longer than %(n)d characters") % {"field": label, "n": limit}
            )
    return problems


def _nul_elsewhere(row: list[str], columns: dict[str, int]) -> list[str]:
    """A NUL in a column not imported still marks a broken export: the row is refused."""
    read = set(columns.values())
    if any("\x00" in cell for i, cell in enumerate(row) if i not in read):
        return [_("a NUL character in a column not imported")]
    return []


def _amount(text: str, problems: list[str]) -> Decimal | None:
    """The amounts rules of every path (funding.amounts): two decimals, AMOUNT_MAX, in full."""
    if CONTROL.search(text):
        return None  # already reported as a control character in the amount
    try:
        amount = parse_amount(text)
    except AmountError as error:
        problems.append(_("amount “%(v)s”: %(why)s") % {"v": _quoted(text), "why": error.why})
        return None
    if amount <= 0:
        problems.append(_("the amount must be above zero"))
        return None
    return amount


def _quoted(value: str) -> str:
    """A bad value as shown back: control characters replaced, cut short."""
    value = CONTROL.sub("\ufffd", value)
    return value if len(value) <= QUOTED else value[:QUOTED] + "…"


def _key(entry: dict, occurrence: int) -> str:
    parts = [
        str(entry[k]) for k in ("voucher_no", "spent_on", "category", "payee", "method", "amount")
    ]
    return hashlib.sha256("|".join([*parts, str(occurrence)]).encode()).hexdigest()
