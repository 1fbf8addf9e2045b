"""Acceptance certificate PDF: a Django template printed by the shared engine.

The engine (fonts, safety, speed) is documents.pdf; this module holds what is the
certificate's own: its data, its QR code and its one-page layouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import segno

from documents.pdf import render_pdf, static_file_url

TEMPLATE = "oversight/certificate.html"
STYLESHEET = Path("certificate") / "certificate.css"  # under BASE_DIR / "static"
DENSITIES = 3  # layouts in certificate.css, from roomy to tight


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


def qr_data_uri(url: str) -> str:
    # Vector SVG in a data: URI: sharp at any print size, and nothing to fetch.
    return segno.make(url, error="m", micro=False).svg_data_uri(border=0, dark="#000")


def render_certificate_pdf(data: CertificateData) -> bytes:
    """The certificate as PDF bytes (A4, one page).

    Long user text (titles and names up to 200 characters) may not fit the roomy layout:
    the first layout that keeps to one page is used, else the tightest one.
    """
    context = {
        "data": data,
        "qr_data_uri": qr_data_uri(data.verify_url),
        "css_url": static_file_url(STYLESHEET),
    }
    layouts = [{"density": density} for density in range(DENSITIES)]
    return render_pdf(TEMPLATE, context, layouts=layouts, max_pages=1)
