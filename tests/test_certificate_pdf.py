"""The certificate PDF: Chinese text, escaped user input, nothing fetched from outside."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from documents.pdf import LocalOnlyFetcher, ResourceRefused, allowed_roots
from oversight.pdf import CertificateData, render_certificate_pdf


def certificate(**overrides) -> CertificateData:
    values = {
        "serial": "YS2026-000001-ABCD",
        "project_title": "水稻病虫害智能监测预警技术研究与示范",
        "applicant_org": "示范县农业科学研究所",
        "pi_name": "陈研究员",
        "call_title": "2026年度县级科技计划项目申报指南",
        "field": "农业科技",
        "approved_amount": "570,000.00",
        "start_date": "2026-01-01",
        "end_date": "2027-12-31",
        "conclusion": "通过验收",
        "issued_on": "2026年11月25日",
        "issuer": "示范县科学技术局",
        "verify_url": "http://127.0.0.1:8000/verify/YS2026-000001-ABCD/",
    }
    values.update(overrides)
    return CertificateData(**values)


def pdf_text(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pages(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(
        next(line for line in info.stdout.splitlines() if line.startswith("Pages:")).split()[1]
    )


def test_the_certificate_is_a_one_page_chinese_pdf(tmp_path):
    pdf = render_certificate_pdf(certificate())
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert "科技项目验收证书" in text
    assert "水稻病虫害智能监测预警技术研究与示范" in text
    assert "YS2026-000001-ABCD" in text
    assert pages(pdf, tmp_path) == 1


def test_user_text_is_printed_as_text_not_markup(tmp_path):
    title = '<img src="file:///etc/passwd"> & <b>项目</b>'
    text = pdf_text(render_certificate_pdf(certificate(project_title=title)), tmp_path)
    assert '<img src="file:///etc/passwd">' in text.replace("\n", "")


def test_long_titles_still_fit_one_page(tmp_path):
    pdf = render_certificate_pdf(
        certificate(project_title="县域智能监测" * 33, applicant_org="某" * 200)
    )
    assert pages(pdf, tmp_path) == 1


def test_rare_characters_outside_the_compact_font_still_render(tmp_path):
    text = pdf_text(render_certificate_pdf(certificate(pi_name="王㛃堃")), tmp_path)
    assert "王㛃堃" in text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/logo.png",
        "https://cdn.example.com/font.woff2",
        "file:///work/../etc/passwd",
        "ftp://example.com/x",
    ],
)
def test_the_renderer_fetches_nothing_outside_our_own_files(url):
    with pytest.raises(ResourceRefused):
        LocalOnlyFetcher(allowed_roots()).fetch(url)


@pytest.mark.django_db
def test_a_certificate_left_pending_is_generated_by_the_requeue_command(county):
    from django.core.management import call_command

    from funding.states import ProjectStatus
    from oversight.models import Certificate
    from workflows.demo import advance, draft_project

    # Issued without running on-commit hooks: as if the broker had been down.
    project = advance(
        county, draft_project(county, "applicant", "待补生成", "300000"), ProjectStatus.CLOSED
    )
    certificate = Certificate.objects.get(project=project)
    assert certificate.status == Certificate.Status.PENDING and not certificate.pdf

    call_command("requeue_certificates", minutes=0)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED and bytes(certificate.pdf).startswith(
        b"%PDF"
    )
