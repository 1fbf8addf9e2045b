"""The file types we keep, judged from the content, never from the name.

PDF, PNG and JPEG by their magic numbers; Office Open XML (docx, xlsx, pptx) and
OpenDocument (odt, ods, odp) by the directory of their ZIP container, read from the end
of the file without unpacking anything. Refused: plain ZIP archives (the bureau wants
documents it can open, not bundles), macro-enabled Office and OpenDocument files, and
legacy OLE2 files (.doc/.xls: the same container holds macros and Windows installers,
and telling them apart means parsing it). puremagic only names what a refused file is.
"""

from __future__ import annotations

import enum
import zipfile
from typing import IO

import puremagic
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Enough for every signature below and for puremagic to name the rest.
HEAD_BYTES = 8192
# Real documents have tens to a few thousand parts; more means a crafted archive.
MAX_ZIP_MEMBERS = 10_000
# The small parts we read to tell the container's type.
MAX_TYPES_PART_BYTES = 1024 * 1024

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_PDF = b"%PDF-"
_ZIP = b"PK"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class FileType(enum.Enum):
    # value: (name, content type, extensions; the first is added to a name without one)
    PDF = ("PDF", "application/pdf", ("pdf",))
    PNG = ("PNG", "image/png", ("png",))
    JPEG = ("JPEG", "image/jpeg", ("jpg", "jpeg"))
    DOCX = (
        "Word (.docx)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
    )
    XLSX = (
        "Excel (.xlsx)",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("xlsx",),
    )
    PPTX = (
        "PowerPoint (.pptx)",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ("pptx",),
    )
    ODT = ("OpenDocument (.odt)", "application/vnd.oasis.opendocument.text", ("odt",))
    ODS = ("OpenDocument (.ods)", "application/vnd.oasis.opendocument.spreadsheet", ("ods",))
    ODP = ("OpenDocument (.odp)", "application/vnd.oasis.opendocument.presentation", ("odp",))

    @property
    def title(self) -> str:
        return self.value[0]

    @property
    def mime(self) -> str:
        return self.value[1]

    @property
    def extensions(self) -> tuple[str, ...]:
        return self.value[2]


# [Content_Types].xml names the main part; a macro-enabled one says "macroEnabled".
_OOXML_MAIN = (
    (b"wordprocessingml.document.main+xml", FileType.DOCX),
    (b"spreadsheetml.sheet.main+xml", FileType.XLSX),
    (b"presentationml.presentation.main+xml", FileType.PPTX),
)
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": FileType.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": FileType.ODS,
    b"application/vnd.oasis.opendocument.presentation": FileType.ODP,
}


def judge(head: bytes, file: IO[bytes]) -> FileType:
    """The type of the file whose first bytes are `head`; `file` must be seekable (a ZIP
    container is judged from its directory at the end). Refuses with a ValidationError."""
    if head.startswith(_PDF):
        return FileType.PDF
    if head.startswith(_PNG):
        return FileType.PNG
    if head.startswith(_JPEG):
        return FileType.JPEG
    if head.startswith(_ZIP):
        return _judge_container(file)
    if head.startswith(_OLE2):
        raise ValidationError(
            _(
                "Old Office files (.doc, .xls, .ppt) are not accepted, as they may carry "
                "macros. Save the file as PDF, .docx or .xlsx and upload that."
            ),
            code="legacy_office",
        )
    raise ValidationError(
        _("The file's content is not a document type this system accepts (it looks like %(what)s).")
        % {"what": describe(head)},
        code="unknown_type",
    )


def describe(head: bytes) -> str:
    """What a refused file looks like, e.g. ".exe" or ".html", for the message."""
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        matches = []
    named = [m for m in matches if m.mime_type] or matches
    if not named:
        return _("unknown data")
    return max(named, key=lambda m: m.confidence).extension


def _judge_container(file: IO[bytes]) -> FileType:
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise _plain_zip()
            names = [info.filename for info in infos]
            if infos and names[0] == "mimetype":
                return _judge_opendocument(archive, names)
            if "[Content_Types].xml" in names:
                return _judge_office(archive, names)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError):
        raise ValidationError(
            _("The file looks like an archive but cannot be read; it may be damaged."),
            code="damaged",
        ) from None
    finally:
        file.seek(0)
    raise _plain_zip()


def _plain_zip() -> ValidationError:
    return ValidationError(
        _(
            "ZIP archives are not accepted: upload each document on its own "
            "(PDF, images, Word, Excel or OpenDocument files)."
        ),
        code="zip",
    )


def _macros() -> ValidationError:
    return ValidationError(
        _("Files with macros are not accepted. Save the document without macros and upload it."),
        code="macros",
    )


def _read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as part:
        data = part.read(MAX_TYPES_PART_BYTES + 1)
    if len(data) > MAX_TYPES_PART_BYTES:
        raise _plain_zip()
    return data


def _judge_office(archive: zipfile.ZipFile, names: list[str]) -> FileType:
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _macros()
    types = _read_small(archive, "[Content_Types].xml")
    if b"macroenabled" in types.lower():
        raise _macros()
    for marker, file_type in _OOXML_MAIN:
        if marker in types:
            return file_type
    raise _plain_zip()


def _judge_opendocument(archive: zipfile.ZipFile, names: list[str]) -> FileType:
    file_type = _ODF_MIMETYPES.get(_read_small(archive, "mimetype").strip())
    if file_type is None:
        raise _plain_zip()
    if any(name.startswith(("Basic/", "Scripts/")) for name in names):
        raise _macros()
    return file_type
