"""Printing a Django template to PDF with WeasyPrint: the engine every document shares.

The acceptance certificate (oversight) and the decision letter (integrity) are both
rendered here, so they share one safety rule, one font cache and one render lock.

Speed (see bench/bench_certificate_pdf.py): the text uses the compact fonts from
documents.fonts, and one FontConfiguration is kept per process, so a warm render takes
~0.07 s. With the full Noto CJK face, embedding alone costs ~0.05 s and ~150 KB with
HarfBuzz-subset, ~6 s when WeasyPrint falls back to fontTools.

Safety: WeasyPrint may read only our own static files, the built fonts and data:
URIs; any other URL (http:, file:///etc/passwd, ...) stops the rendering.
"""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .fonts import ensure_fonts, fonts_dir

# Archival PDF/A-3b: measured +7 ms (~10 %) and +3.4 KB per certificate, so we keep it.
# Read at each render (the benchmark may switch it off to compare).
PDF_VARIANT: str | None = "pdf/a-3b"


class RenderError(RuntimeError):
    """The document could not be printed (e.g. it asked for a forbidden resource)."""


class ResourceRefused(ValueError):
    """WeasyPrint asked for a URL outside the allowed local directories."""


class LocalOnlyFetcher(URLFetcher):
    """Serve data: URIs and files under `roots`; refuse everything else.

    fail_on_errors makes a refusal abort the render instead of printing a page with a
    silently missing piece. Not an OSError, so Celery's autoretry leaves it alone.
    """

    def __init__(self, roots: tuple[Path, ...]) -> None:
        super().__init__(fail_on_errors=True, allowed_protocols=("data",))  # super: data: only
        self._roots = tuple(root.resolve() for root in roots)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if urlsplit(url).scheme.lower() == "data":
            return super().fetch(url, headers)
        path = self.local_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    def local_path(self, url: str) -> Path:
        """The file behind `url`, if it is a regular file under an allowed root."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise ResourceRefused(f"refused URL: {url!r}")
        path = Path(url2pathname(parts.path)).resolve()  # resolves "..", symlinks
        if not path.is_file() or not any(path.is_relative_to(root) for root in self._roots):
            raise ResourceRefused(f"refused URL: {url!r}")
        return path


def static_dir() -> Path:
    return Path(settings.BASE_DIR) / "static"


def static_file_url(relative: str | Path) -> str:
    """A file: URL of one of our static files (say, a stylesheet), for the template."""
    return (static_dir() / relative).as_uri()


def allowed_roots() -> tuple[Path, ...]:
    return (static_dir(), fonts_dir())


def font_urls() -> dict[str, str]:
    """The compact fonts (built if missing) by key, as file: URLs for @font-face."""
    return {key: path.as_uri() for key, path in ensure_fonts().items()}


# One FontConfiguration per process: it keeps fontconfig's font list and the
# @font-face files loaded across renders. Pango and this cache are not thread-safe,
# so renders in one process take turns (the demo runs Celery tasks in web threads).
_render_lock = threading.Lock()
_font_config: FontConfiguration | None = None


def _shared_font_config() -> FontConfiguration:
    global _font_config
    if _font_config is None:
        _font_config = FontConfiguration()
    return _font_config


def render_pdf(
    template_name: str,
    context: dict[str, Any],
    *,
    layouts: Sequence[dict[str, Any]] = ({},),
    max_pages: int | None = None,
) -> bytes:
    """Print `template_name` with `context` (plus `font_urls`) as PDF bytes.

    `layouts` are tried in order, each adding its entries to the context (e.g. a
    denser layout for long text): the first whose document has at most `max_pages`
    pages is written, else the last one.
    """
    fetcher = LocalOnlyFetcher(allowed_roots())
    base_url = static_dir().as_uri() + "/"
    options = {"pdf_variant": PDF_VARIANT, "hinting": False, "full_fonts": False}
    base_context = {**context, "font_urls": font_urls()}
    with _render_lock:
        try:
            for layout in layouts:
                html = render_to_string(template_name, {**base_context, **layout})
                document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
                    font_config=_shared_font_config(), **options
                )
                if max_pages is None or len(document.pages) <= max_pages:
                    break
            return document.write_pdf(**options)
        except FatalURLFetchingError as exc:  # a BaseException: turn it into an error
            raise RenderError(str(exc)) from exc.__cause__
