"""Importing the expenditure ledger from finance software exports (CSV or XLSX).

Headers may be Chinese or English. Every row is checked and every problem reported with
its row number; nothing is imported until the whole file is clean. Re-importing the same
export adds nothing: each row carries a key made from its content and its position
among identical rows.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trail.kinds import EventKind
from trail.services import record

from .models import Expenditure, Project
from .states import BudgetCategory

MAX_ROWS = 5000
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


@dataclass
class ImportResult:
    imported: int = 0
    already_there: int = 0
    errors: list[str] = field(default_factory=list)


def read_rows(content: bytes, filename: str) -> list[list[str]]:
    if filename.lower().endswith(".xlsx"):
        return _xlsx_rows(content)
    if not filename.lower().endswith(".csv"):
        raise ValidationError(_("Upload a .csv or .xlsx file."))
    for encoding in ("utf-8-sig", "gb18030"):  # finance software often exports GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(_("The file is neither UTF-8 nor GBK text."))
    return [row for row in csv.reader(io.StringIO(text))]


def _xlsx_rows(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
    except Exception as error:  # openpyxl raises many kinds for a bad file
        raise ValidationError(_("The file is not a readable XLSX workbook.")) from error
    rows = []
    for values in sheet.iter_rows(values_only=True):
        rows.append(["" if v is None else _cell(v) for v in values])
    return rows


def _cell(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


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
    problems = []
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
        problems.append(_("“%(v)s” is not a date (YYYY-MM-DD)") % {"v": values["spent_on"]})
    entry["category"] = CATEGORIES.get(values["category"])
    if entry["category"] is None:
        problems.append(_("unknown budget category “%(v)s”") % {"v": values["category"]})
    entry["method"] = METHODS.get(values["method"])
    if entry["method"] is None:
        problems.append(_("unknown payment method “%(v)s”") % {"v": values["method"]})
    try:
        entry["amount"] = Decimal(values["amount"].replace(",", "")).quantize(Decimal("0.01"))
        if entry["amount"] <= 0:
            problems.append(_("the amount must be above zero"))
    except (InvalidOperation, ValueError):
        problems.append(_("“%(v)s” is not an amount") % {"v": values["amount"]})
    return entry, problems


def _key(entry: dict, occurrence: int) -> str:
    parts = [
        str(entry[k]) for k in ("voucher_no", "spent_on", "category", "payee", "method", "amount")
    ]
    return hashlib.sha256("|".join([*parts, str(occurrence)]).encode()).hexdigest()


@transaction.atomic
def import_ledger(project: Project, by, content: bytes, filename: str) -> ImportResult:
    from .services import SPENDING_STATES

    project = Project.objects.select_for_update().get(pk=project.pk)
    if by.pk != project.pi_id:
        raise PermissionDenied(_("Only the PI records this project's spending."))
    if project.status not in SPENDING_STATES:
        raise ValidationError(_("Spending is recorded only while the project runs."))
    rows = [row for row in read_rows(content, filename) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValidationError(_("The file is empty."))
    if len(rows) > MAX_ROWS + 1:
        raise ValidationError(_("At most %(n)d rows at a time.") % {"n": MAX_ROWS})
    columns = _columns(rows[0])
    today, result, entries, seen = timezone.localdate(), ImportResult(), [], Counter()
    for number, row in enumerate(rows[1:], start=2):
        values = {k: (row[i].strip() if i < len(row) else "") for k, i in columns.items()}
        entry, problems = _parse_row(values, today)
        if problems:
            result.errors.append(_("Row %(n)d: %(p)s.") % {"n": number, "p": "; ".join(problems)})
            continue
        identity = tuple(str(entry[k]) for k in sorted(entry))
        seen[identity] += 1
        entry["import_key"] = _key(entry, seen[identity])
        entries.append(entry)
    if result.errors:
        return result  # nothing imported until the file is clean
    existing = set(
        project.expenditures.filter(import_key__in=[e["import_key"] for e in entries]).values_list(
            "import_key", flat=True
        )
    )
    new = [Expenditure(project=project, **e) for e in entries if e["import_key"] not in existing]
    Expenditure.objects.bulk_create(new)
    result.imported, result.already_there = len(new), len(entries) - len(new)
    record(
        EventKind.EXPENDITURE_RECORDED,
        project,
        actor=by,
        data={
            "import": filename[:100],
            "sha256": hashlib.sha256(content).hexdigest(),
            "imported": result.imported,
            "already_there": result.already_there,
        },
    )
    return result
