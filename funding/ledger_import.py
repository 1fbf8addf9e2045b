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

At 100,000 rows (issue 10) the file is streamed, never held whole; each clean row is kept
as a tuple of text, as it is stored and hashed, and the database skips the keys it holds
already: on PostgreSQL the rows are copied (COPY) into the table when the project has no
imported entry yet, else into a temporary table and inserted where their key is not there
yet; elsewhere one INSERT OR IGNORE is run over each batch of rows.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from hashlib import sha256
from operator import itemgetter
from typing import IO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext as _

from trail.kinds import EventKind
from trail.services import record

from .amounts import COLUMN_MAX, AmountError, amount_max, parse_amount
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
# The columns read, in a row's order; a clean row is kept as a tuple of these and its key,
# all text as stored and hashed: the date as YYYY-MM-DD, the amount with two decimals.
COLUMNS = ("voucher_no", "spent_on", "category", "payee", "method", "amount")
ENTRY = (*COLUMNS, "import_key")
BATCH = 5000  # rows written at a time
# An amount as most exports write it: read at once; anything else goes through parse_amount.
# At most 12 digits either way: an unbounded run of ",999" groups overflowed Decimal's
# 28 digits in quantize (InvalidOperation, a server error).
PLAIN_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3}){1,3}|[0-9]{1,12})(?:\.[0-9]{1,2})?")
# An amount written as it is stored (1234.50): its text is kept, no Decimal made of it.
STORED_AMOUNT = re.compile(r"[1-9][0-9]{0,11}\.[0-9]{2}")
CENT = Decimal("0.01")
TAB = "\t"


@dataclass
class ImportResult:
    imported: int = 0
    already_there: int = 0
    errors: list[str] = field(default_factory=list)
    # Spending beyond what was disbursed or budgeted, once written: warned, not refused.
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParsedLedger:
    """A file read before anything is locked: its entries (tuples of ENTRY), or every
    row's problems."""

    filename: str
    sha256: str
    entries: list[tuple] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rows: int = 0  # data rows read
    complete: bool = True  # False: reading stopped at `stop_after` rows


def check_may_import(project: Project, by) -> None:
    from .services import SPENDING_STATES

    if by.pk != project.pi_id:
        raise PermissionDenied(_("Only the PI records this project's spending."))
    if project.status not in SPENDING_STATES:
        raise ValidationError(_("Spending is recorded only while the project runs."))


def import_ledger(project: Project, by, content: bytes | IO[bytes], filename: str) -> ImportResult:
    """Read the whole file (bytes, or a binary file object), then write it (the page
    hands large files to a job instead)."""
    check_may_import(project, by)
    parsed = parse_ledger(content, filename)
    if parsed.errors:
        return ImportResult(errors=parsed.errors)  # nothing imported until the file is clean
    return write_ledger(project, by, parsed)


def parse_ledger(
    content: bytes | IO[bytes],
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
    with LedgerRows(content, filename, limits) as reader:
        parsed = ParsedLedger(clean_filename(filename), reader.sha256)
        rows = iter(reader)
        header = next(rows, None)
        if header is None:
            raise ValidationError(_("The file is empty."))
        read = RowReader(_columns(header[1]), timezone.localdate())
        entries, errors, count = parsed.entries, parsed.errors, 0  # locals: 100,000 rows
        for number, row in rows:
            if stop_after is not None and count >= stop_after:
                parsed.complete = False
                break
            count += 1
            if on_progress and count % PROGRESS_EVERY == 0:
                on_progress(count, reader.expected_rows)
            entry, problems = read(row)
            if problems:
                errors.append(_("Row %(n)d: %(p)s.") % {"n": number, "p": "; ".join(problems)})
                continue
            entries.append(entry)
        parsed.rows = count
    return parsed


class RowReader:
    """A data row's cells to an entry (a tuple of ENTRY) or its problems. A row as most
    exports write it is read at once; any other goes through the checks one by one,
    which name every problem (`_parse_row`)."""

    def __init__(self, columns: dict[str, int], today: datetime.date):
        self.columns, self.today = columns, today
        self.at = [columns[key] for key in COLUMNS]
        self.width = max(self.at) + 1
        self.cells = itemgetter(*self.at)
        self.maximum = min(amount_max(), COLUMN_MAX)
        # An amount written as stored, shorter than this, has fewer whole digits than the
        # maximum: it is below it.
        self.below_maximum = len(str(int(self.maximum))) + 3
        self.voucher_chars = Expenditure._meta.get_field("voucher_no").max_length
        self.payee_chars = Expenditure._meta.get_field("payee").max_length
        # The key of each entry's first occurrence, and how many times it came.
        self.seen: dict[str, int] = {}
        self.days: dict[str, str | bool] = {}

    def __call__(self, row: list[str]) -> tuple[tuple | None, list[str] | tuple]:
        if len(row) < self.width:
            row = row + [""] * (self.width - len(row))
        values = self._at_once(row)
        if values is None:
            entry, problems = _parse_row(
                {key: row[i] for key, i in zip(COLUMNS, self.at, strict=True)}, self.today
            )
            problems += _nul_elsewhere(row, self.columns)
            if problems:
                return None, problems
            values = tuple(str(entry[key]) for key in COLUMNS)
        return (*values, self._key(values)), ()

    def _at_once(self, row: list[str]) -> tuple | None:
        """The row's values if it is clean and plainly written, else None."""
        if CONTROL.search("".join(row)):
            return None  # perhaps a NUL in a column not imported: said so row by row
        voucher_no, spent_on, category, payee, method, amount = self.cells(row)
        if not (0 < len(voucher_no) <= self.voucher_chars and 0 < len(payee) <= self.payee_chars):
            return None
        category, method = CATEGORIES.get(category), METHODS.get(method)
        if category is None or method is None:
            return None
        day = self.days.get(spent_on)
        if day is None:
            day = self.days[spent_on] = self._day(spent_on)
        if len(amount) >= self.below_maximum or STORED_AMOUNT.fullmatch(amount) is None:
            amount = self._amount(amount)
        if not day or not amount:
            return None
        return voucher_no, day, category, payee, method, amount

    def _day(self, text: str) -> str | bool:
        """A date of the past as stored (a ledger has a few hundred: each is read once), or
        False."""
        try:
            day = datetime.date.fromisoformat(text.replace("/", "-"))
        except ValueError:
            return False
        return day <= self.today and day.isoformat()

    def _amount(self, text: str) -> str | None:
        """A plainly written amount other than as stored (1,234.5), as stored; or None."""
        if PLAIN_AMOUNT.fullmatch(text) is None:
            return None
        value = Decimal(text.replace(",", "")).quantize(CENT)
        return str(value) if 0 < value <= self.maximum else None

    def _key(self, values: tuple) -> str:
        """The entry's key: its content and its place among identical rows, so that
        importing the same export again adds nothing."""
        first = _key(values, 1)
        n = self.seen.get(first, 0) + 1
        self.seen[first] = n  # the first key string is kept anyway, with its entry
        return first if n == 1 else _key(values, n)


@transaction.atomic
def write_ledger(project: Project, by, parsed: ParsedLedger) -> ImportResult:
    """Write a clean file's entries under the project's row lock, all or nothing. The
    database skips the entries whose key it holds (imported before)."""
    if parsed.errors or not parsed.complete:
        raise ValueError("only a clean file, read to its end, is written")
    project = Project.objects.select_for_update().get(pk=project.pk)
    check_may_import(project, by)
    entries = parsed.entries
    if connection.vendor == "postgresql":
        imported = _copy_new(project, entries)
    else:
        imported = _insert_new(project, entries)
    warnings = spending_warnings(project)
    result = ImportResult(
        imported=imported,
        already_there=len(entries) - imported,
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


def _columns_sql() -> tuple[str, str]:
    quote = connection.ops.quote_name
    fields = [Expenditure._meta.get_field(name) for name in ENTRY]
    return quote(Expenditure._meta.db_table), ", ".join(quote(f.column) for f in fields)


def _copy_new(project: Project, entries: list[tuple]) -> int:
    """PostgreSQL: how many entries were new, written with COPY.

    A project with no imported entry yet (its first import) has no key to skip: the
    entries are copied straight into the table. Otherwise they are copied into a
    temporary table, then inserted where their key is not there yet: an anti-join rather
    than ON CONFLICT, as the project's row lock keeps two imports apart and the unique
    constraint holds all the same (measured at 100,000 rows: 2.0 s rather than 2.9, and a
    re-import 0.5 s rather than 1.4). A table just filled is read back in its order: the
    file's."""
    quote = connection.ops.quote_name
    table, columns = _columns_sql()
    project_id = quote(Expenditure._meta.get_field("project").column)
    key = quote(Expenditure._meta.get_field("import_key").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {project_id} = %s AND {key} <> '')",
            [project.pk],
        )
        if not cursor.fetchone()[0]:
            with cursor.cursor.copy(f"COPY {table} ({project_id}, {columns}) FROM STDIN") as copy:
                for chunk in _copy_text(entries, f"{project.pk}\t"):
                    copy.write(chunk)
            return len(entries)
        types = ", ".join(
            f"{quote(field.column)} {field.db_type(connection)}"
            for field in (Expenditure._meta.get_field(name) for name in ENTRY)
        )
        cursor.execute(f"CREATE TEMPORARY TABLE ledger_import_rows ({types}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY ledger_import_rows ({columns}) FROM STDIN") as copy:
            for chunk in _copy_text(entries):
                copy.write(chunk)
        cursor.execute(
            f"INSERT INTO {table} ({project_id}, {columns}) "
            f"SELECT %s, {columns} FROM ledger_import_rows AS new WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} AS old WHERE old.{project_id} = %s "
            f"AND old.{key} = new.{key} AND old.{key} <> '')",
            [project.pk, project.pk],
        )
        inserted = cursor.rowcount
        cursor.execute("DROP TABLE ledger_import_rows")
    return inserted


def _copy_text(entries: list[tuple], prefix: str = "") -> Iterable[bytes]:
    """The entries in COPY's text format (each line after `prefix`), BATCH rows at a time:
    one string per batch, joined without a Python step per value. A clean entry holds no
    control character (CONTROL), so a backslash is all there is to escape."""
    between = "\n" + prefix
    for batch in _batches(entries, BATCH):
        text = f"{prefix}{between.join(map(TAB.join, batch))}\n"
        if "\\" in text:  # rare: in a voucher number or a payee
            text = text.replace("\\", "\\\\")
        yield text.encode()


def _insert_new(project: Project, entries: list[tuple]) -> int:
    """Elsewhere: one INSERT that skips a key already there, run over each batch."""
    ops = connection.ops
    fields = [Expenditure._meta.get_field(name) for name in ("project", *ENTRY)]
    table, columns = _columns_sql()
    sql = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {table} "
        f"({ops.quote_name(fields[0].column)}, {columns}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"{ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)}"
    )
    inserted = 0
    with connection.cursor() as cursor:
        for batch in _batches(entries, BATCH):
            cursor.executemany(sql, [_db_values(project.pk, entry) for entry in batch])
            inserted += max(cursor.rowcount, 0)
    return inserted


def _db_values(project_id: int, entry: tuple) -> tuple:
    voucher_no, spent_on, category, payee, method, amount, key = entry
    ops = connection.ops
    return (
        project_id,
        voucher_no,
        spent_on,
        category,
        payee,
        method,
        ops.adapt_decimalfield_value(Decimal(amount), 14, 2),
        key,
    )


def _batches(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
        column = Expenditure._meta.get_field(key)
        label = column.verbose_name
        if CONTROL.search(text):
            problems.append(
                _("a control character (such as NUL or a line break) in the %(field)s")
                % {"field": label}
            )
        limit = column.max_length
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


def _key(values: tuple[str, ...], occurrence: int) -> str:
    """voucher_no|spent_on|category|payee|method|amount|occurrence, hashed (as ever: the
    keys of earlier imports must come out the same), the values as stored (COLUMNS)."""
    return sha256(f"{'|'.join(values[:6])}|{occurrence}".encode()).hexdigest()
