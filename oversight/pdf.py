"""Acceptance certificate PDF: a Django template printed by the shared engine.

The engine (fonts, safety, speed) is documents.pdf; this module holds what is the
certificate's own: its data, its QR code and its one-page layouts. Two kinds share the
template: the acceptance certificate (验收证书) and, for a project accepted by simple
filing, the filing certificate (结题备案证明), which never says 通过验收.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import segno

from documents.pdf import render_pdf, static_file_url
from documents.seal import seal_data_uri

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
    # The official document (issue 8); defaults keep older callers printing.
    project_number: str = ""  # 立项编号, oversight.numbers.project_number
    programme: str = ""  # the call's programme (计划类别)
    accepted_on: str = ""  # "2026年11月20日": the day the project was accepted
    panel: tuple[str, ...] = ()  # the acceptance panel's names; empty for a filing
    signatory: str = ""  # settings.CERTIFICATE_SIGNATORY, e.g. "局长 王某某"
    by_filing: bool = False  # 结题备案: a filing certificate

    @property
    def heading(self) -> str:
        return "科技项目结题备案证明" if self.by_filing else "科技项目验收证书"


def qr_data_uri(url: str) -> str:
    # Vector SVG in a data: URI: sharp at any print size, and nothing to fetch.
    return segno.make(url, error="m", micro=False).svg_data_uri(border=0, dark="#000")


# The verification URL is printed on one line across the footer, whatever its length:
# its font size shrinks to fit. The line's width, and a generous average width of one
# character of a URL (Latin letters and digits of the serif face), in em; the label
# before it is full-width CJK, 1 em a character.
URL_LABEL = "核验地址："
URL_LINE_PT = 140 * 72 / 25.4  # 140 mm, the footer's width
URL_CHAR_EM = 0.62
URL_MAX_PT, URL_MIN_PT = 9.0, 4.5


def url_font_pt(url: str) -> float:
    fitting = URL_LINE_PT / (len(URL_LABEL) + URL_CHAR_EM * len(url))
    return round(max(URL_MIN_PT, min(URL_MAX_PT, fitting)), 2)


def render_certificate_pdf(data: CertificateData) -> bytes:
    """The certificate as unsigned PDF bytes (A4, one page).

    Long user text (titles and names up to 200 characters) may not fit the roomy layout:
    the first layout that keeps to one page is used, else the tightest one.
    """
    context = {
        "data": data,
        "qr_data_uri": qr_data_uri(data.verify_url),
        "css_url": static_file_url(STYLESHEET),
        "seal_data_uri": seal_data_uri(),
        "url_label": URL_LABEL,
        "url_font_size": f"{url_font_pt(data.verify_url)}pt",  # not localised: CSS
    }
    layouts = [{"density": density} for density in range(DENSITIES)]
    return render_pdf(TEMPLATE, context, layouts=layouts, max_pages=1)
