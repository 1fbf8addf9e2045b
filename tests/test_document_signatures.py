"""PAdES signatures on certificates and decision letters, and what the public page says.

The key pair is made for the test run in a temporary directory (never var/): a
self-signed RSA certificate, as `manage.py document_signing_key` makes for the demo.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from documents.signing_config import log_signing_setup
from documents.signing_keys import make_self_signed_pair
from funding.states import ProjectStatus as S
from integrity.models import DecisionLetter
from oversight.models import Certificate
from workflows import demo

from .cases_support import decide, heard, officer

pytestmark = pytest.mark.django_db

BUREAU = "示范县科学技术局"


@pytest.fixture(scope="session")
def bureau_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signing")
    return make_self_signed_pair(
        folder / "key.pem", folder / "cert.pem", common_name=BUREAU, days=30
    )


@pytest.fixture
def signed(settings, bureau_pair):
    settings.DOCUMENT_SIGNING_KEY_FILE = str(bureau_pair.key_path)
    settings.DOCUMENT_SIGNING_CERT_FILE = str(bureau_pair.cert_path)
    settings.DOCUMENT_SIGNING_KEY_PASSWORD = ""
    settings.DOCUMENT_SIGNING_EARLIER_CERT_FILES = []
    return bureau_pair


@pytest.fixture
def unsigned(settings, tmp_path):
    settings.DOCUMENT_SIGNING_KEY_FILE = str(tmp_path / "no-key.pem")
    settings.DOCUMENT_SIGNING_CERT_FILE = str(tmp_path / "no-cert.pem")
    settings.DOCUMENT_SIGNING_EARLIER_CERT_FILES = []


@pytest.fixture
def in_english(client):
    client.cookies["django_language"] = "en"
    return client


def closed_project(county, capture, title="已验收项目", amount="300000"):
    project = demo.draft_project(county, "applicant", title, amount)
    with capture(execute=True):
        demo.advance(county, project, S.CLOSED)
    return project


def downloaded_certificate(client, county, project) -> bytes:
    client.force_login(county.users["applicant"])
    response = client.get(reverse("certificate-pdf", args=[project.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    client.logout()
    return response.content


def pyhanko_status(pdf: bytes, cert_path):
    """Validated by pyHanko itself, trusting the bureau's certificate as the root."""
    root = load_cert_from_pemder(str(cert_path))
    signatures = PdfFileReader(BytesIO(pdf)).embedded_signatures
    assert len(signatures) == 1
    context = ValidationContext(trust_roots=[root], allow_fetching=False)
    return validate_pdf_signature(signatures[0], context), root


def check_upload(client, serial: str, content: bytes) -> str:
    client.cookies["django_language"] = "en"  # logout() clears cookies; read in English
    upload = SimpleUploadedFile("certificate.pdf", content, content_type="application/pdf")
    response = client.post(reverse("verify", args=[serial]), {"file": upload})
    assert response.status_code == 200
    return response.content.decode()


def flip_one_byte(pdf: bytes) -> bytes:
    """Change one byte inside the signed range, in the page's content (not the signature)."""
    changed = bytearray(pdf)
    position = pdf.index(b"stream", len(pdf) // 4) + 40  # inside a (compressed) stream
    changed[position] ^= 0x01
    return bytes(changed)


def test_the_certificate_carries_a_valid_pades_signature_by_the_bureau(
    client, county, signed, django_capture_on_commit_callbacks
):
    project = closed_project(county, django_capture_on_commit_callbacks)
    pdf = downloaded_certificate(client, county, project)
    certificate = Certificate.objects.get(project=project)
    assert certificate.sha256 == hashlib.sha256(pdf).hexdigest()  # the signed bytes are kept

    status, root = pyhanko_status(pdf, signed.cert_path)
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.sha256 == root.sha256
    assert status.signing_cert.subject.native["common_name"] == BUREAU


def test_the_verification_page_reports_a_genuine_signed_file(
    in_english, county, signed, django_capture_on_commit_callbacks
):
    project = closed_project(county, django_capture_on_commit_callbacks)
    pdf = downloaded_certificate(in_english, county, project)
    serial = Certificate.objects.get(project=project).serial
    page = check_upload(in_english, serial, pdf)
    assert 'class="verdict good" role="status" data-testid="verdict"' in page
    assert f"signed by {BUREAU}" in page and "intact" in page


def test_one_altered_byte_is_reported_as_a_broken_signature(
    in_english, county, signed, django_capture_on_commit_callbacks
):
    project = closed_project(county, django_capture_on_commit_callbacks)
    pdf = downloaded_certificate(in_english, county, project)
    altered = flip_one_byte(pdf)
    status, _root = pyhanko_status(altered, signed.cert_path)
    assert not status.intact  # any PDF reader sees it, without our site

    page = check_upload(in_english, Certificate.objects.get(project=project).serial, altered)
    assert "Not genuine" in page and "Digital signature: BROKEN" in page
    assert 'class="verdict good"' not in page.split("<h2>")[1]


def test_a_file_signed_with_another_key_is_not_ours(
    in_english, county, signed, settings, tmp_path, django_capture_on_commit_callbacks
):
    from documents.signing import sign_pdf

    project = closed_project(county, django_capture_on_commit_callbacks)
    serial = Certificate.objects.get(project=project).serial
    stranger = make_self_signed_pair(
        tmp_path / "k.pem", tmp_path / "c.pem", common_name="冒名科技局"
    )
    settings.DOCUMENT_SIGNING_KEY_FILE = str(stranger.key_path)
    settings.DOCUMENT_SIGNING_CERT_FILE = str(stranger.cert_path)
    forged = sign_pdf(downloaded_unsigned_copy(project), reason="forged")
    settings.DOCUMENT_SIGNING_KEY_FILE = str(signed.key_path)
    settings.DOCUMENT_SIGNING_CERT_FILE = str(signed.cert_path)

    page = check_upload(in_english, serial, forged)
    assert "Not genuine" in page
    assert "Digital signature: not ours" in page and "冒名科技局" in page


def downloaded_unsigned_copy(project) -> bytes:
    from oversight.certificates import _certificate_data
    from oversight.pdf import render_certificate_pdf

    return render_certificate_pdf(_certificate_data(project.certificate))


def test_without_a_key_documents_are_unsigned_and_the_page_says_not_signed(
    in_english, county, unsigned, django_capture_on_commit_callbacks
):
    project = closed_project(county, django_capture_on_commit_callbacks)
    pdf = downloaded_certificate(in_english, county, project)
    assert not PdfFileReader(BytesIO(pdf)).embedded_signatures
    page = check_upload(in_english, Certificate.objects.get(project=project).serial, pdf)
    assert 'data-testid="verdict"' in page and "Genuine" in page  # the bytes still match
    assert "Not signed: this file carries no digital signature." in page


def test_a_revoked_certificate_is_never_green_even_for_its_exact_file(
    in_english, county, signed, django_capture_on_commit_callbacks
):
    project = closed_project(county, django_capture_on_commit_callbacks)
    pdf = downloaded_certificate(in_english, county, project)
    certificate = Certificate.objects.get(project=project)
    in_english.force_login(county.users["staff"])
    response = in_english.post(
        reverse("certificate-revoke", args=[project.pk]), {"reason": "发现验收材料造假"}
    )
    assert response.status_code in (200, 302)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    in_english.logout()

    page = check_upload(in_english, certificate.serial, pdf)
    assert 'class="verdict good"' not in page
    assert "Genuine" not in page
    revoked_on = timezone.localtime(certificate.revoked_at).strftime("%Y-%m-%d")
    assert "this file matches a certificate that was revoked on" in page
    assert revoked_on in page and "发现验收材料造假" in page
    assert f"signed by {BUREAU}" in page  # the signature is still reported, not green


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pdf at all", b"%PDF-1.7\n/ByteRange [0 10 20 30]\n%%EOF", b"%PDF-1.7\n" * 50],
)
def test_bad_uploads_are_judged_without_an_error(in_english, county, signed, content):
    project = demo.draft_project(county, "applicant", "待核验项目", "300000")
    project = demo.advance(county, project, S.CLOSED)  # the file is never generated here
    serial = Certificate.objects.get(project=project).serial
    upload = SimpleUploadedFile("x.pdf", content, content_type="application/pdf")
    response = in_english.post(reverse("verify", args=[serial]), {"file": upload})
    assert response.status_code == 200
    assert 'class="verdict good" role="status"' not in response.content.decode()


def test_a_truncated_signed_file_is_broken_not_an_error(
    in_english, county, signed, django_capture_on_commit_callbacks
):
    project = closed_project(county, django_capture_on_commit_callbacks)
    pdf = downloaded_certificate(in_english, county, project)
    page = check_upload(
        in_english, Certificate.objects.get(project=project).serial, pdf[: len(pdf) * 2 // 3]
    )
    assert "Not genuine" in page and 'class="verdict good"' not in page.split("<h2>")[1]


def test_the_decision_letter_is_signed_too(client, county, signed):
    case = decide(county, heard(county), decision_no="示科信〔2026〕51号")
    client.force_login(officer(county))
    response = client.get(reverse("case-letter", args=[case.pk]))  # printed at first download
    assert response.status_code == 200
    pdf = response.content
    assert DecisionLetter.objects.get(case=case).sha256 == hashlib.sha256(pdf).hexdigest()
    status, root = pyhanko_status(pdf, signed.cert_path)
    assert status.bottom_line and status.signing_cert.sha256 == root.sha256
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils is not installed")
def test_signing_keeps_the_pdfa_identification_and_one_producer(
    client, county, signed, django_capture_on_commit_callbacks
):
    project = closed_project(county, django_capture_on_commit_callbacks)
    pdf = downloaded_certificate(client, county, project)
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    xmp = subprocess.run(["pdfinfo", "-meta", "-"], input=pdf, capture_output=True).stdout
    producer = re.search(rb"^Producer:\s+(.+)$", info, re.M).group(1).strip()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    assert b'pdf:Producer="' + producer + b'"' in xmp  # PDF/A: Info and XMP agree
    assert pdf.startswith(b"%PDF-1.7") and b"/Version /2.0" not in pdf


def test_the_command_makes_a_pair_once_and_keeps_it(settings, tmp_path, capsys, english):
    settings.DOCUMENT_SIGNING_KEY_FILE = str(tmp_path / "var" / "key.pem")
    settings.DOCUMENT_SIGNING_CERT_FILE = str(tmp_path / "var" / "cert.pem")
    call_command("document_signing_key")
    first = capsys.readouterr().out
    assert BUREAU in first and "SHA-256" in first
    assert os.stat(settings.DOCUMENT_SIGNING_KEY_FILE).st_mode & 0o077 == 0
    call_command("document_signing_key")
    fingerprint = re.search(r"SHA-256[^:]*: ([0-9a-f]{64})", first).group(1)
    assert fingerprint in capsys.readouterr().out  # the same pair, not a new one
    call_command("document_signing_key", "--quiet")
    assert capsys.readouterr().out == ""


def test_a_certificate_of_another_key_is_refused_clearly(settings, tmp_path, bureau_pair, english):
    other = make_self_signed_pair(tmp_path / "k.pem", tmp_path / "c.pem", common_name="别的")
    settings.DOCUMENT_SIGNING_KEY_FILE = str(bureau_pair.key_path)
    settings.DOCUMENT_SIGNING_CERT_FILE = str(other.cert_path)
    with pytest.raises(CommandError, match="is not the key's"):
        call_command("document_signing_key")


def test_a_misconfigured_key_issues_no_letter_and_the_officer_is_told(
    client, county, settings, tmp_path, bureau_pair, english
):
    other = make_self_signed_pair(tmp_path / "k.pem", tmp_path / "c.pem", common_name="别的")
    settings.DOCUMENT_SIGNING_KEY_FILE = str(bureau_pair.key_path)
    settings.DOCUMENT_SIGNING_CERT_FILE = str(other.cert_path)
    case = decide(county, heard(county), decision_no="示科信〔2026〕52号")
    client.force_login(officer(county))
    client.cookies["django_language"] = "en"
    response = client.get(reverse("case-letter", args=[case.pk]), follow=True)
    assert response.status_code == 200
    assert "could not be printed now" in response.content.decode()
    assert not DecisionLetter.objects.get(case=case).pdf  # nothing unsigned was stored


def test_production_without_a_key_logs_a_warning_at_start_up(settings, unsigned, caplog):
    settings.DOCUMENT_SIGNING_EXPECTED = True
    with caplog.at_level(logging.WARNING, logger="documents.signing_config"):
        log_signing_setup()
    assert "UNSIGNED" in caplog.text


def test_verification_against_an_earlier_certificate_after_rotation(
    in_english, county, signed, settings, tmp_path, django_capture_on_commit_callbacks
):
    project = closed_project(county, django_capture_on_commit_callbacks)
    pdf = downloaded_certificate(in_english, county, project)
    serial = Certificate.objects.get(project=project).serial
    new = make_self_signed_pair(tmp_path / "k.pem", tmp_path / "c.pem", common_name=BUREAU)
    settings.DOCUMENT_SIGNING_KEY_FILE = str(new.key_path)
    settings.DOCUMENT_SIGNING_CERT_FILE = str(new.cert_path)
    assert "Digital signature: not ours" in check_upload(in_english, serial, pdf)
    settings.DOCUMENT_SIGNING_EARLIER_CERT_FILES = [str(signed.cert_path)]
    page = check_upload(in_english, serial, pdf)
    assert f"signed by {BUREAU}" in page and "intact" in page
