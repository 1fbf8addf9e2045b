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


# --- The certificate as an official document (issue 8) -------------------------------------


def _issued_pdf(client, county, project) -> bytes:
    from django.urls import reverse

    client.force_login(county.users["applicant"])
    response = client.get(reverse("certificate-pdf", args=[project.pk]))
    assert response.status_code == 200
    return response.content


@pytest.mark.django_db
def test_the_acceptance_certificate_names_number_programme_date_panel_and_signatory(
    client, county, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from funding.states import ProjectStatus
    from oversight.models import AcceptanceReview, Certificate
    from workflows.demo import advance, draft_project

    settings.PUBLIC_BASE_URL = "https://kjj.example.gov.cn"
    settings.CERTIFICATE_SIGNATORY = "局长 王建华"
    settings.BUREAU_PROJECT_PREFIX = "SFKJ"
    project = draft_project(county, "applicant", "水稻智能监测验收项目", "300000")
    with django_capture_on_commit_callbacks(execute=True):
        advance(county, project, ProjectStatus.CLOSED)
    layout = pdf_text(_issued_pdf(client, county, project), tmp_path)
    text = "".join(layout.split())

    today = timezone.localdate()
    assert "科技项目验收证书" in text and "通过验收" in text
    assert f"立项编号SFKJ{today.year}{project.pk:05d}" in text
    assert f"计划类别{project.call.program}" in text
    assert f"验收日期{today.year}年{today.month}月{today.day}日" in text
    review = AcceptanceReview.objects.get(project=project)
    names = [line for line in review.panel.splitlines() if line.strip()]
    assert names and all(name in text for name in names)
    assert "签发人：局长王建华" in text and "示范县科学技术局" in text
    serial = Certificate.objects.get(project=project).serial
    url = f"https://kjj.example.gov.cn/verify/{serial}/"
    assert any(url in line for line in layout.splitlines())  # on one line


@pytest.mark.django_db
def test_a_project_accepted_by_filing_gets_a_filing_certificate(
    client, county, tmp_path, django_capture_on_commit_callbacks
):
    from funding.states import ProjectStatus
    from workflows.actions import perform
    from workflows.demo import advance, draft_project

    project = draft_project(county, "applicant", "小额备案项目", "50000")
    advance(county, project, ProjectStatus.ACCEPTANCE_REQUESTED)
    staff = county.users["staff"]
    perform(project.pk, "accept_by_filing", staff, reason="材料齐全，备案。")
    with django_capture_on_commit_callbacks(execute=True):
        perform(project.pk, "issue_certificate", staff)
    text = "".join(pdf_text(_issued_pdf(client, county, project), tmp_path).split())

    assert "科技项目结题备案证明" in text and "结题备案" in text
    assert "通过验收" not in text and "验收证书" not in text and "验收专家组" not in text
    assert "备案日期" in text and "立项编号" in text


@pytest.mark.parametrize("length", [48, 90, 140])
def test_the_verification_url_stays_on_one_line_whatever_its_length(length, tmp_path):
    url = "https://kjj.example.gov.cn/verify/" + "x" * (length - 53) + "/YS2026-000001-ABCD/"
    layout = pdf_text(render_certificate_pdf(certificate(verify_url=url)), tmp_path)
    assert any(url in line for line in layout.splitlines())


def test_a_seal_image_is_printed_from_a_local_png_only(settings, tmp_path, caplog):
    import logging

    from documents.seal import seal_data_uri

    png = tmp_path / "seal.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    settings.CERTIFICATE_SEAL_IMAGE = str(png)
    assert seal_data_uri().startswith("data:image/png;base64,")
    fake = tmp_path / "seal-fake.png"
    fake.write_bytes(b"<svg onload='alert(1)'/>")
    settings.CERTIFICATE_SEAL_IMAGE = str(fake)
    with caplog.at_level(logging.ERROR, logger="documents.seal"):
        assert seal_data_uri() == ""
    assert "not a PNG" in caplog.text
