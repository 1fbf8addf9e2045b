"""The decision letter (处理决定书): a Chinese PDF with its unique number, the ID masked."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
from django.urls import reverse

from integrity.letters import generate_letter
from integrity.models import DecisionLetter, Measure, Severity
from trail.models import Event

from .cases_support import DAY, TODAY, decide, decided, heard, new_case, officer

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdftotext) is not installed")
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return "".join(text.split())  # CJK lines wrap anywhere: compare without whitespace


def test_the_letter_is_printed_on_commit_and_downloaded_by_the_officer(
    client, county, tmp_path, django_capture_on_commit_callbacks
):
    case = heard(county)
    with django_capture_on_commit_callbacks(execute=True):
        decide(county, case, decision_no="示科信〔2026〕41号")
    letter = DecisionLetter.objects.get(case=case)
    pdf = bytes(letter.pdf)
    assert pdf.startswith(b"%PDF") and letter.sha256 == hashlib.sha256(pdf).hexdigest()
    assert Event.objects.filter(data__step="letter", data__sha256=letter.sha256).exists()

    client.force_login(officer(county))
    response = client.get(reverse("case-letter", args=[case.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == pdf
    text = pdf_text(response.content, tmp_path)
    number = county.users["applicant2"].id_number
    assert "处理决定书" in text and "示科信〔2026〕41号" in text
    assert f"{number[:6]}********{number[-4:]}" in text and number not in text
    for label in ("被处理人", "单位", "失信行为", "处理措施", "处理期限", "依据", "申诉权利告知"):
        assert label in text
    assert "浙东智能装备有限公司" in text and "示范县科学技术局" in text
    assert "15日内" in text and "禁止承担或参与" in text


def test_a_letter_not_yet_printed_is_printed_at_the_first_download(client, county):
    case = decided(county)  # the on-commit printing never ran (the test's transaction)
    assert not DecisionLetter.objects.get(case=case).pdf
    client.force_login(officer(county))
    response = client.get(reverse("case-letter", args=[case.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    letter = DecisionLetter.objects.get(case=case)
    assert bytes(letter.pdf) == response.content
    assert generate_letter(letter.pk).sha256 == letter.sha256  # never printed twice


def test_a_minor_decision_letter_names_the_rectification(county, tmp_path):
    case = heard(county)
    case = decide(
        county,
        case,
        severity=Severity.MINOR,
        measures=[Measure.SUSPEND_RECTIFY],
        gates=[],
        ends_on=None,
        rectify_by=TODAY + 30 * DAY,
        decision_no="示科信〔2026〕42号",
    )
    letter = generate_letter(DecisionLetter.objects.get(case=case).pk)
    text = pdf_text(bytes(letter.pdf), tmp_path)
    assert "暂停项目限期整改" in text and "整改期限" in text and "情节较轻" in text


def test_an_organisation_letter_shows_its_credit_code(county, tmp_path):
    org = county.orgs["enterprise"]
    case = heard(
        county,
        respondent_kind="organisation",
        respondent_id=org.credit_code,
        respondent_name=org.name,
        respondent_unit="",
    )
    case = decide(county, case, decision_no="示科信〔2026〕43号")
    text = pdf_text(bytes(generate_letter(case.letter.pk).pdf), tmp_path)
    assert "统一社会信用代码" in text and org.credit_code in text


def test_user_text_is_printed_as_text(county, tmp_path):
    case = decided(county, reason='<img src="file:///etc/passwd"> 虚假材料')
    text = pdf_text(bytes(generate_letter(case.letter.pk).pdf), tmp_path)
    assert '<imgsrc="file:///etc/passwd">' in text


def test_only_the_integrity_officer_and_the_respondent_download_the_letter(client, county):
    case = decided(county)
    url = reverse("case-letter", args=[case.pk])
    assert client.get(url).status_code == 302  # to the login page
    for who in ("staff", "leader"):  # applicant2, the respondent, is served it (below)
        client.force_login(county.users[who])
        assert client.get(url).status_code == 403
    client.force_login(officer(county))
    undecided = new_case(county, reporter="李某")
    assert client.get(reverse("case-letter", args=[undecided.pk])).status_code == 404


def test_the_letter_is_served_on_the_respondent_and_no_one_else(client, county):
    case = decided(county)  # the respondent is applicant2
    client.force_login(county.users["applicant2"])
    page = client.get(reverse("respondent-case", args=[case.pk])).content.decode()
    assert reverse("case-letter", args=[case.pk]) in page
    response = client.get(reverse("case-letter", args=[case.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    for other in ("applicant", "staff", "leader", "unit1"):
        client.force_login(county.users[other])
        assert client.get(reverse("case-letter", args=[case.pk])).status_code == 403, other
