"""Acceptance certificate PDF: a Django template printed by WeasyPrint.

Speed (see bench/bench_certificate_pdf.py): the text uses the compact fonts from
oversight.fonts, and one FontConfiguration is kept per process, so a warm render takes
~0.07 s. With the full Noto CJK face, embedding alone costs ~0.05 s and ~150 KB with
HarfBuzz-subset, ~6 s when WeasyPrint falls back to fontTools.

Safety: WeasyPrint may read only our own static files, the built fonts and data:
URIs; any other URL (http:, file:///etc/passwd, ...) stops the rendering.
"""

from __future__ import annotations

import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import segno
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .fonts import ensure_certificate_fonts, fonts_dir

TEMPLATE = "oversight/certificate.html"
STYLESHEET = Path("certificate") / "certificate.css"  # under BASE_DIR / "static"
DENSITIES = 3  # layouts in certificate.css, from roomy to tight
# Archival PDF/A-3b: measured +7 ms (~10 %) and +3.4 KB per certificate, so we keep it.
PDF_VARIANT = "pdf/a-3b"


@dataclass(frozen=True)
class CertificateData:
    serial: str  # e.g. "YS2026-000123-7F3K"
    project_title: str  # user text: escaped by the template
    applicant_org: str
    pi_name: str
    call_title: str
    field: str
    approved_amount: str  # e.g. "480,000.00"
    start_date: str  # "2025-01-01"
    end_date: str
    conclusion: str  # e.g. "通过验收"
    issued_on: str  # "2026年11月25日"
    issuer: str  # e.g. "某某县科学技术局"
    verify_url: str  # absolute URL, printed as text and as a QR code


class CertificateRenderError(RuntimeError):
    """The certificate could not be printed (e.g. it asked for a forbidden resource)."""


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


def allowed_roots() -> tuple[Path, ...]:
    return (static_dir(), fonts_dir())


def qr_data_uri(url: str) -> str:
    # Vector SVG in a data: URI: sharp at any print size, and nothing to fetch.
    return segno.make(url, error="m", micro=False).svg_data_uri(border=0, dark="#000")


def certificate_html(data: CertificateData, density: int = 0) -> str:
    """The certificate page; `density` 0..DENSITIES-1 packs long text tighter."""
    fonts = ensure_certificate_fonts()
    context = {
        "data": data,
        "density": density,
        "qr_data_uri": qr_data_uri(data.verify_url),
        "font_urls": {key: path.as_uri() for key, path in fonts.items()},
        "css_url": (static_dir() / STYLESHEET).as_uri(),
    }
    return render_to_string(TEMPLATE, context)


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


def render_certificate_pdf(data: CertificateData) -> bytes:
    """The certificate as PDF bytes (A4, one page).

    Long user text (titles and names up to 200 characters) may not fit the roomy layout:
    the first layout that keeps to one page is used, else the tightest one.
    """
    fetcher = LocalOnlyFetcher(allowed_roots())
    base_url = static_dir().as_uri() + "/"
    options = {"pdf_variant": PDF_VARIANT, "hinting": False, "full_fonts": False}
    with _render_lock:
        try:
            for density in range(DENSITIES):
                html = HTML(
                    string=certificate_html(data, density), base_url=base_url, url_fetcher=fetcher
                )
                document = html.render(font_config=_shared_font_config(), **options)
                if len(document.pages) == 1:
                    break
            return document.write_pdf(**options)
        except FatalURLFetchingError as exc:  # a BaseException: turn it into an error
            raise CertificateRenderError(str(exc)) from exc.__cause__
