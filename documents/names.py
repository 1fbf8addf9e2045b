"""Safe names for uploaded files: kept only to name the download, never as a path.

The stored file has a random path (documents/<year>/<uuid>); the name the user gave is
cleaned for the Content-Disposition of the download and for the page: the directories
a browser or a trick put in front are dropped (both / and \\), control and format
characters go (NUL, line breaks, the right-to-left override that disguises "exe.pdf"),
characters Windows forbids become "_", leading dots and spaces go (".." and hidden
files), Windows' reserved device names get a "_" in front, and the length is capped,
keeping the extension. Chinese and every other letter stay.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 120
FALLBACK_STEM = "document"

_FORBIDDEN = re.compile(r'[<>:"|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def split_extension(name: str) -> tuple[str, str]:
    """("报告.final", "pdf") for "报告.final.PDF"; ("README", "") without an extension."""
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem and extension.isascii() and extension.isalnum() and len(extension) <= 10):
        return name, ""
    return stem, extension.lower()


def safe_file_name(raw: str | None) -> str:
    """The user's file name made safe to show and to send back; may be empty."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    # Drop control (Cc) and format (Cf) characters before splitting, so "a\x00/b" or a
    # hidden mark cannot hide a separator.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = re.split(r"[/\\]", name)[-1]
    name = _FORBIDDEN.sub("_", name)
    name = _SPACES.sub(" ", name).strip().lstrip(".").strip().rstrip(". ")
    stem, extension = split_extension(name)
    if _RESERVED.match(stem.split(".")[0].strip()):
        stem = f"_{stem}"
    room = MAX_NAME_CHARS - (len(extension) + 1 if extension else 0)
    stem = stem[: max(room, 1)].rstrip(". ")
    if not stem:
        return f"{FALLBACK_STEM}.{extension}" if extension else ""
    return f"{stem}.{extension}" if extension else stem


def ascii_fallback(name: str) -> str:
    """An ASCII name for clients that ignore RFC 5987's filename*."""
    stem, extension = split_extension(name)
    ascii_stem = stem.encode("ascii", "ignore").decode()
    ascii_stem = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_stem).strip(" ._")
    # A stem of only underscores says nothing; "document" does.
    if not ascii_stem.strip("_"):
        ascii_stem = FALLBACK_STEM
    return f"{ascii_stem}.{extension}" if extension else ascii_stem
