"""Limits on an uploaded ledger export (issue 6), from settings, and the checks that need
no parser: the file's size, an XLSX archive's unpacked sizes, a cell's length, the time.

A file past a limit is refused whole, with a message naming the limit, before anything
is locked or written.
"""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# An XLSX has about ten parts; thousands mean a crafted archive, not a finance export.
MAX_ZIP_MEMBERS = 1000
# Small parts (styles, themes) may compress very well; the ratio is judged above this.
RATIO_JUDGED_ABOVE = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_rows: int
    max_cell_chars: int
    max_unzipped_bytes: int
    max_zip_ratio: int
    seconds: float
    sync_rows: int

    @classmethod
    def from_settings(cls) -> UploadLimits:
        return cls(
            max_bytes=settings.LEDGER_IMPORT_MAX_BYTES,
            max_rows=settings.LEDGER_IMPORT_MAX_ROWS,
            max_cell_chars=settings.LEDGER_IMPORT_MAX_CELL_CHARS,
            max_unzipped_bytes=settings.LEDGER_IMPORT_MAX_UNZIPPED_BYTES,
            max_zip_ratio=settings.LEDGER_IMPORT_MAX_ZIP_RATIO,
            seconds=settings.LEDGER_IMPORT_SECONDS,
            sync_rows=settings.LEDGER_IMPORT_SYNC_ROWS,
        )


class Deadline:
    """The time budget of one reading, checked once per row (monotonic clock)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.ends:
            raise ValidationError(
                _(
                    "Reading the file took more than %(n)s seconds, the limit; nothing was "
                    "imported. Split it into smaller files."
                )
                % {"n": f"{self.seconds:g}"}
            )


def check_file_size(size: int, limits: UploadLimits) -> None:
    if size > limits.max_bytes:
        raise ValidationError(
            _("The file is larger than %(size)s, the limit for one upload.")
            % {"size": filesizeformat(limits.max_bytes)}
        )


def too_many_rows(limits: UploadLimits) -> ValidationError:
    return ValidationError(
        _(
            "The file has more than %(n)d rows, the limit for one import; split it into "
            "several files."
        )
        % {"n": limits.max_rows}
    )


def cell_too_long(row: int, limits: UploadLimits) -> ValidationError:
    return ValidationError(
        _("Row %(row)d has a cell longer than %(n)d characters, the limit; nothing was imported.")
        % {"row": row, "n": limits.max_cell_chars}
    )


def check_xlsx_archive(content: bytes, limits: UploadLimits) -> None:
    """Judge the archive by its directory before any part is unpacked.

    openpyxl reads some parts whole even in read-only mode (sharedStrings.xml above all),
    so their unpacked size is what bounds its memory. Python's zipfile never unpacks more
    than the size a part declares (it fails the CRC check instead), so the declared sizes
    can be trusted.
    """
    unreadable = ValidationError(_("The file is not a readable XLSX workbook."))
    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise unreadable from error
    if len(members) > MAX_ZIP_MEMBERS:
        raise unreadable
    unpacked = ValidationError(
        _("The workbook unpacks to more than %(size)s, the limit; it cannot be read.")
        % {"size": filesizeformat(limits.max_unzipped_bytes)}
    )
    # All parts together, hence each one too.
    if sum(member.file_size for member in members) > limits.max_unzipped_bytes:
        raise unpacked
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_JUDGED_ABOVE and ratio > limits.max_zip_ratio:
            raise ValidationError(
                _(
                    "A part of the workbook is compressed more than %(n)d to 1, the limit; "
                    "it cannot be read."
                )
                % {"n": limits.max_zip_ratio}
            )
