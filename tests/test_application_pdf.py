"""The application form (申报书) as a PDF: what was filed, IDs masked, and only for those
who may read the application on the project page (issue 8)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.urls import reverse

from funding.states import ProjectStatus as S
from workflows import demo
from workflows.reviewing import declare_no_conflict

pytestmark = pytest.mark.django_db

TITLE = "水稻病虫害智能监测预警技术研究"
SUMMARY = "面向本县水稻主产区，研究病虫害图像识别与预警模型。"
TEAM = [
    {"name": "黄助理", "id_number": demo.person_id(501), "duty": "田间试验"},
    {"name": "欧阳工程师", "id_number": demo.person_id(502), "duty": "模型开发"},
]


@pytest.fixture
def filed(county):
    return demo.draft_project(county, "applicant", TITLE, "600000", summary=SUMMARY, team=TEAM)


def url(project) -> str:
    return reverse("application-pdf", args=[project.pk])


def pdf_text(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    path = tmp_path / "application.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def download(client, user, project):
    client.force_login(user)
    return client.get(url(project))


def test_the_pi_downloads_the_form_with_what_was_filed(client, county, filed, tmp_path):
    response = download(client, filed.pi, filed)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    text = pdf_text(response.content, tmp_path)
    assert "科技项目申报书" in text
    for filed_text in (TITLE, county.call.title, "县级科技计划", "农业科技", SUMMARY):
        assert filed_text in text
    assert "示范县农业科学研究所" in text and "陈研究员" in text
    assert "600,000.00" in text
    # The budget lines in the page's order: equipment, operations, labour, indirect.
    amounts = ["180,000.00", "210,000.00", "120,000.00", "90,000.00"]
    positions = [text.index(amount) for amount in amounts]
    assert positions == sorted(positions)
    assert "设备费" in text and "间接费用" in text
    assert "草稿" in text  # the state, in Chinese
    assert "第1页" in text.replace(" ", "")  # the footer


def test_team_id_numbers_are_masked_everywhere(client, filed, tmp_path):
    text = pdf_text(download(client, filed.pi, filed).content, tmp_path)
    for member in TEAM:
        number = member["id_number"]
        assert member["name"] in text and member["duty"] in text
        assert f"{number[:6]}********{number[-4:]}" in text
        assert number not in text.replace(" ", "").replace("\n", "")


def test_the_commitment_time_is_printed_once_signed(client, county, filed, tmp_path):
    unsigned = pdf_text(download(client, filed.pi, filed).content, tmp_path)
    assert "尚未签署科研诚信承诺书" in unsigned
    submitted = demo.advance(county, filed, S.SUBMITTED)
    assert submitted.commitment_signed_at is not None
    text = pdf_text(download(client, submitted.pi, submitted).content, tmp_path)
    assert "签署科研诚信承诺书" in text and "尚未" not in text
    assert "已提交" in text


def test_the_project_page_links_to_the_form(client, filed):
    client.force_login(filed.pi)
    page = client.get(reverse("project", args=[filed.pk])).content.decode()
    assert url(filed) in page


def test_another_organisations_applicant_gets_404(client, county, filed):
    assert download(client, county.users["applicant2"], filed).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, filed):
    response = client.get(url(filed))
    assert response.status_code == 302 and "login" in response["Location"]


def test_staff_get_the_form(client, staff, filed, tmp_path):
    response = download(client, staff, filed)
    assert response.status_code == 200
    assert TITLE in pdf_text(response.content, tmp_path)


def test_an_expert_gets_it_only_after_declaring_no_conflict(client, county, filed):
    project = demo.advance(county, filed, S.EXPERT_REVIEW)  # expert1-3 drawn
    expert = county.users["expert1"]
    assert download(client, expert, project).status_code == 404
    page = client.get(reverse("project", args=[project.pk])).content.decode()
    assert url(project) not in page  # the title-only page offers no link either
    declare_no_conflict(project.pk, expert)
    assert download(client, expert, project).status_code == 200


def test_an_expert_not_drawn_gets_404(client, county, filed):
    project = demo.advance(county, filed, S.EXPERT_REVIEW)
    assert download(client, county.users["expert5"], project).status_code == 404
