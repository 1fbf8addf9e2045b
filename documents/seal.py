"""The bureau's seal image (CERTIFICATE_SEAL_IMAGE): a local PNG printed in the seal area.

Read here, from the configured path only, and handed to the template as a data: URI: the
renderer's fetcher (documents.pdf) keeps refusing every file outside our static files and
fonts. A missing or unsuitable file is logged and the seal area is printed empty (ready for
a stamp on paper): a certificate is never held back for its picture.
"""

from __future__ import annotations

import base64
import functools
import logging
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 1024 * 1024  # a seal is a small picture; this keeps every PDF small too


def seal_path() -> Path | None:
    value = settings.CERTIFICATE_SEAL_IMAGE
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def seal_data_uri() -> str:
    """The seal as a data: URI, or "" when none is configured or usable."""
    path = seal_path()
    if path is None:
        return ""
    try:
        stat = path.stat()
    except OSError as error:
        logger.error("CERTIFICATE_SEAL_IMAGE %s cannot be read: %s", path, error)
        return ""
    return _read(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read(path: Path, mtime_ns: int, size: int) -> str:
    if size > MAX_BYTES:
        logger.error("CERTIFICATE_SEAL_IMAGE %s is over %d bytes; not printed", path, MAX_BYTES)
        return ""
    try:
        content = path.read_bytes()
    except OSError as error:
        logger.error("CERTIFICATE_SEAL_IMAGE %s cannot be read: %s", path, error)
        return ""
    if not content.startswith(PNG_SIGNATURE):
        logger.error("CERTIFICATE_SEAL_IMAGE %s is not a PNG file; not printed", path)
        return ""
    return "data:image/png;base64," + base64.b64encode(content).decode("ascii")
