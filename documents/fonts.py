"""Compact CJK fonts for our PDFs (certificates, decision letters), from Noto Serif CJK SC.

Why: the Noto CJK collections hold 65,535 glyphs per face. WeasyPrint subsets every
embedded font on each render; with a full face that costs ~0.05 s and ~150 KB per PDF
when HarfBuzz-subset is present, and ~6 s when WeasyPrint falls back to fontTools.
A single-face OpenType font with only GB2312 (6,763 hanzi + 682 symbols), ASCII,
Latin-1 and common punctuation, without layout tables or hinting, cuts that to
~0.015 s and ~45 KB (HarfBuzz) or ~0.4 s (fontTools). Characters outside it still
render: each document's CSS lists the full system Noto family after this font.

The files live in ``settings.VAR_DIR / "fonts"`` and are written atomically (temp
file + ``os.replace``), so several workers may race to build them safely.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# Bump when the character set or build options change: the file name changes with it,
# so stale caches are never reused.
FONT_VERSION = 1
# Our own name: a modified font must not claim Noto's. The name and the file names date
# from when only certificates used the fonts; kept so existing caches stay valid.
FAMILY = "KJJG Certificate Serif"

_SOURCE_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),  # Debian/Ubuntu fonts-noto-cjk
    Path("/usr/share/fonts/noto-cjk"),  # Arch
    Path("/usr/share/fonts/google-noto-cjk"),  # Fedora
)
_SOURCE_FAMILY = "Noto Serif CJK SC"

# Extra blocks beyond GB2312: ASCII, Latin-1, general punctuation, letterlike symbols
# (№ ℃), number forms (Ⅻ), enclosed numbers (①), CJK punctuation, full-width forms.
_EXTRA_RANGES = (
    (0x0020, 0x007E),
    (0x00A0, 0x00FF),
    (0x2000, 0x206F),
    (0x2100, 0x218F),
    (0x2460, 0x24FF),
    (0x3000, 0x303F),
    (0xFF00, 0xFFEF),
)

_build_lock = threading.Lock()


@dataclass(frozen=True)
class _Face:
    key: str  # "regular" or "bold"
    source_file: str  # collection file name
    style: str  # subfamily name written into the built font


_FACES = (
    _Face("regular", "NotoSerifCJK-Regular.ttc", "Regular"),
    _Face("bold", "NotoSerifCJK-Bold.ttc", "Bold"),
)


def fonts_dir() -> Path:
    return Path(settings.VAR_DIR) / "fonts"


def font_path(key: str) -> Path:
    return fonts_dir() / f"certificate-serif-{key}-v{FONT_VERSION}.otf"


def gb2312_characters() -> set[int]:
    """Every character of GB2312, found by decoding all valid two-byte codes."""
    codepoints: set[int] = set()
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                codepoints.add(ord(bytes((lead, trail)).decode("gb2312")))
            except UnicodeDecodeError:
                continue  # unassigned code
    return codepoints


def covered_characters() -> set[int]:
    extra = {cp for low, high in _EXTRA_RANGES for cp in range(low, high + 1)}
    return gb2312_characters() | extra


def ensure_fonts() -> dict[str, Path]:
    """Build the compact fonts if missing; return their paths by key ("regular", "bold")."""
    paths = {face.key: font_path(face.key) for face in _FACES}
    if all(path.exists() for path in paths.values()):
        return paths
    with _build_lock:  # threads of one process build once; processes race harmlessly
        for face in _FACES:
            if not paths[face.key].exists():
                build_font(face.key, paths[face.key])
    return paths


def build_font(key: str, target: Path) -> Path:
    """Build face `key` ("regular" or "bold") into `target`, atomically. ~10 s each."""
    face = next(face for face in _FACES if face.key == key)
    source, index = _find_source(face)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        _subset(source, index, face.style, covered_characters(), Path(tmp_name))
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; web and worker users may differ
        os.replace(tmp_name, target)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return target


def _find_source(face: _Face) -> tuple[Path, int]:
    """The collection holding the SC face, and that face's index in it."""
    for directory in _SOURCE_DIRS:
        candidate = directory / face.source_file
        if candidate.exists():
            return candidate, _face_index(candidate)
    matched = _fc_match(f"{_SOURCE_FAMILY}:style={face.style}")
    if matched is not None:
        return matched
    raise FileNotFoundError(
        f"{_SOURCE_FAMILY} {face.style} not found; install Debian's fonts-noto-cjk"
    )


def _face_index(collection: Path) -> int:
    from fontTools.ttLib import TTCollection

    with TTCollection(collection, lazy=True) as fonts:
        for index, font in enumerate(fonts.fonts):
            if font["name"].getDebugName(1) == _SOURCE_FAMILY:
                return index
    raise FileNotFoundError(f"no {_SOURCE_FAMILY} face in {collection}")


def _fc_match(pattern: str) -> tuple[Path, int] | None:
    """Ask fontconfig (a WeasyPrint dependency) where other distributions keep the font."""
    if shutil.which("fc-match") is None:
        return None
    result = subprocess.run(
        ["fc-match", "--format=%{family}\t%{file}\t%{index}", pattern],
        capture_output=True,
        text=True,
        check=False,
    )
    family, _, rest = result.stdout.partition("\t")
    file, _, index = rest.partition("\t")
    if _SOURCE_FAMILY not in family.split(",") or not file:
        return None
    return Path(file), int(index or 0)


def _subset(source: Path, index: int, style: str, codepoints: Iterable[int], out: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=index)
    wanted = set(codepoints) & set(font.getBestCmap())
    options = subset.Options()
    options.layout_features = []  # WeasyPrint drops GSUB/GPOS from the PDF anyway
    options.hinting = False  # hints are useless in PDF
    options.notdef_outline = True
    options.name_IDs = ["*"]  # keep copyright and licence (OFL) records
    options.name_languages = ["*"]
    options.drop_tables += ["BASE", "GDEF", "GSUB", "GPOS", "VORG", "vhea", "vmtx", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)
    _rename(font, style)
    font.save(out)
    font.close()


def _rename(font, style: str) -> None:
    """Give the modified font its own family name (the OFL asks modified fonts to)."""
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    names = font["name"]
    for name_id in (1, 2, 3, 4, 6, 16, 17):
        names.removeNames(nameID=name_id)
    for name_id, value in ((1, FAMILY), (2, style), (4, f"{FAMILY} {style}"), (6, postscript)):
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)
    cff = font["CFF "].cff
    cff.fontNames = [postscript]
    top = cff.topDictIndex[0]
    for attribute, value in (("FullName", f"{FAMILY} {style}"), ("FamilyName", FAMILY)):
        if hasattr(top, attribute):
            setattr(top, attribute, value)
