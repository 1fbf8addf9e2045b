"""Reading a ledger export's rows as text, one row at a time, within the upload limits.

CSV (UTF-8 or GBK) through the csv module, streamed: the file is read once in chunks to
judge its encoding (and take its digest), then decoded as the rows are read, never held
whole (issue 10). XLSX through openpyxl in read-only mode, and only after its archive has
been judged by its directory (`check_xlsx_archive`).
"""

from __future__ import annotations

import codecs
import csv
import datetime
import hashlib
import io
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .upload_limits import (
    Deadline,
    UploadLimits,
    cell_too_long,
    check_file_size,
    check_xlsx_archive,
    too_many_rows,
)

# A finance export has a dozen or two columns; cells further right are not read, so a
# crafted row reaching column XFD costs no more than an ordinary one.
MAX_COLUMNS = 100
CENT = Decimal("0.01")
FLOAT_RESIDUE = Decimal("0.000001")  # below a fen's ten-thousandth: binary noise, not money
CHUNK = 1024 * 1024  # bytes read at a time


class LedgerRows:
    """The non-blank rows of an export as (row number, cells), the header first.

    `source`: the file's bytes, or a binary file object (an upload, a stored file), read
    from its start and left open. Raises ValidationError at the first limit passed (size,
    rows, cell length, time). `sha256`: the file's digest. Use it as a context manager:
    an XLSX workbook, or the text read from a CSV file, stays open while rows are read.
    """

    def __init__(self, source: bytes | IO[bytes], filename: str, limits: UploadLimits):
        stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
        check_file_size(_size(stream), limits)
        self.limits = limits
        self._book = self._text = None
        name = filename.lower()
        if name.endswith(".xlsx"):
            content = stream.read()  # the archive is judged whole before openpyxl opens it
            self.sha256 = hashlib.sha256(content).hexdigest()
            check_xlsx_archive(content, limits)
            self._book, sheet = _open_sheet(content)
            # The sheet's declared size: an estimate for progress, never trusted to stop.
            self.expected_rows = max(sheet.max_row - 1, 0) if sheet.max_row else None
            sheet.reset_dimensions()
            self._values = _sheet_values(sheet)
        elif name.endswith(".csv"):
            encoding, self.sha256, self.expected_rows = _judge_text(stream)
            stream.seek(0)
            self._text = io.TextIOWrapper(
                io.BufferedReader(_Unclosed(stream), CHUNK), encoding=encoding, newline=""
            )
            self._values = _csv_values(self._text, limits)
        else:
            raise ValidationError(_("Upload a .csv or .xlsx file."))

    def __enter__(self) -> LedgerRows:
        return self

    def __exit__(self, *exc) -> None:
        if self._book is not None:
            self._book.close()
        if self._text is not None:
            self._text.close()  # the caller's file stays open

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        deadline, limits, seen = Deadline(self.limits.seconds), self.limits, 0
        longest, clock, most = limits.max_cell_chars, time.monotonic, limits.max_rows + 1
        for number, cells in enumerate(self._values, start=1):
            if clock() > deadline.ends:
                deadline.check()
            chars = len("".join(cells))  # all the cells: one call rather than one a cell
            if chars > longest and max(map(len, cells)) > longest:
                raise cell_too_long(number, limits)
            if not chars:
                continue
            seen += 1
            if seen > most:  # the header is not counted
                raise too_many_rows(limits)
            yield number, cells


def _size(stream: IO[bytes]) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


class _Unclosed(io.RawIOBase):
    """A file object read through a buffer and a text wrapper, which may close these
    without closing it."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _judge_text(stream: IO[bytes]) -> tuple[str, str, int]:
    """One pass over the bytes: the encoding (UTF-8, else GBK, as finance software often
    exports; else refused, before any row is read), the SHA-256 and the count of lines."""
    digest, lines = hashlib.sha256(), 0
    utf8 = codecs.getincrementaldecoder("utf-8-sig")()
    encoding: str | None = "utf-8-sig"
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        lines += chunk.count(b"\n")
        if encoding is not None:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                encoding = None
    try:
        if encoding is not None:
            utf8.decode(b"", final=True)
            return encoding, digest.hexdigest(), lines
    except UnicodeDecodeError:
        pass
    stream.seek(0)
    gbk = codecs.getincrementaldecoder("gb18030")()
    try:
        while chunk := stream.read(CHUNK):
            gbk.decode(chunk)
        gbk.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValidationError(_("The file is neither UTF-8 nor GBK text.")) from None
    return "gb18030", digest.hexdigest(), lines


def _csv_values(text: IO[str], limits: UploadLimits) -> Iterator[list[str]]:
    number = 0
    try:
        for row in csv.reader(text):
            number += 1
            if len(row) > MAX_COLUMNS:
                row = row[:MAX_COLUMNS]
            yield [cell.strip() for cell in row]
    except csv.Error as error:
        # The csv module's own bound (csv.field_size_limit, 128 KiB) or a broken quote.
        if "field larger than field limit" in str(error):
            raise cell_too_long(number + 1, limits) from error
        raise ValidationError(
            _("Row %(row)d is not valid CSV (a quote is not closed); nothing was imported.")
            % {"row": number + 1}
        ) from error


def _open_sheet(content: bytes):
    from openpyxl import load_workbook

    unreadable = ValidationError(_("The file is not a readable XLSX workbook."))
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a bad file
        raise unreadable from error
    if not hasattr(book.active, "iter_rows"):  # no sheet active, or a chart sheet
        book.close()
        raise unreadable
    return book, book.active


def _sheet_values(sheet) -> Iterator[list[str]]:
    rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as error:  # a broken part shows only when it is read
            raise ValidationError(_("The file is not a readable XLSX workbook.")) from error
        yield ["" if value is None else _cell(value) for value in values]


def _cell(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return _float_text(value)
    return str(value).strip()


def _float_text(value: float) -> str:
    """A number cell as written in full (1e20 as 100000000000000000000), so the amount
    rules judge the number, not Python's notation; 0.30000000000000004, a sum's binary
    residue, as 0.30. A genuine third decimal (1234.567) is kept, and refused later."""
    number = Decimal(repr(value))
    if not number.is_finite():
        return str(value)
    if abs(number) < 10**15:
        cents = number.quantize(CENT)
        if abs(number - cents) < FLOAT_RESIDUE:
            number = cents
    return f"{number:f}"
