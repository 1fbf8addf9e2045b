"""Documents on the pages (issue 8): the project's papers, required documents at
submission, voucher scans on the fund trail and case evidence, each as the role concerned."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.models import Attachment
from funding.calls import save_call
from funding.services import record_expenditure
from funding.states import ProjectStatus as S
from workflows import demo

from .cases_support import new_case, officer

pytestmark = pytest.mark.django_db


def pdf(text: str = "申报书") -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + text.encode() + b"\n%%EOF\n"


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64


@pytest.fixture(autouse=True)
def english_pages(client):
    """The pages in English, so tests can read their messages."""
    client.cookies["django_language"] = "en"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def download(client, attachment: Attachment):
    response = client.get(reverse("attachment", args=[attachment.pk]))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def attach_on_page(client, project, kind: str, name: str, content: bytes, note: str = ""):
    return client.post(
        reverse("project-document-upload", args=[project.pk]),
        {"kind": kind, "note": note, "file": upload(name, content)},
    )


# --- the project's documents --------------------------------------------------------------


def test_the_pi_uploads_replaces_and_downloads(client, draft, english):
    client.force_login(draft.pi)
    page = client.get(reverse("project", args=[draft.pk])).content.decode()
    assert 'data-testid="document-upload"' in page
    response = attach_on_page(client, draft, "commitment", "承诺书.pdf", pdf("v1"), "初稿")
    assert response.status_code == 302
    attach_on_page(client, draft, "commitment", "承诺书.pdf", pdf("v2"), "签字版")
    first, second = Attachment.objects.order_by("version")
    assert (first.version, second.version) == (1, 2)
    page = client.get(reverse("project", args=[draft.pk])).content.decode()
    assert f'data-document="{second.pk}"' in page  # the current one in the list
    assert "Earlier versions" in page and 'data-version="1"' in page
    assert "签字版" in page
    assert download(client, second)[1] == pdf("v2")
    assert download(client, first)[1] == pdf("v1")  # version 1 is kept


def test_another_organisation_cannot_download(client, draft, county):
    client.force_login(draft.pi)
    attach_on_page(client, draft, "commitment", "承诺书.pdf", pdf())
    doc = Attachment.objects.get()
    client.force_login(county.users["applicant2"])
    assert download(client, doc)[0].status_code == 404
    client.force_login(county.users["staff"])
    assert download(client, doc)[0].status_code == 200


def test_staff_remove_with_a_reason_and_the_other_applicant_may_not(client, draft, county, english):
    client.force_login(draft.pi)
    attach_on_page(client, draft, "budget_justification", "预算.pdf", pdf())
    doc = Attachment.objects.get()
    url = reverse("project-document-remove", args=[draft.pk, doc.pk])
    client.force_login(county.users["applicant2"])
    assert client.post(url, {"reason": "不要了"}).status_code == 404  # not their project
    client.force_login(county.users["staff"])
    response = client.post(url, {"reason": ""})
    assert "Give a reason" in response.content.decode()
    client.post(url, {"reason": "材料重复"})
    doc.refresh_from_db()
    assert doc.removed_at is not None and doc.removal_reason == "材料重复"
    assert download(client, doc)[0].status_code == 404


def test_the_pi_cannot_upload_once_submitted_but_staff_can(client, draft, county):
    project = demo.advance(county, draft, S.UNIT_REVIEW)
    client.force_login(project.pi)
    response = attach_on_page(client, project, "commitment", "a.pdf", pdf())
    assert response.status_code == 403
    page = client.get(reverse("project", args=[project.pk])).content.decode()
    assert 'data-testid="document-upload"' not in page
    client.force_login(county.users["staff"])
    assert attach_on_page(client, project, "commitment", "a.pdf", pdf()).status_code == 302
    assert Attachment.objects.count() == 1


def test_a_refused_upload_keeps_the_kind_and_note_and_stores_nothing(client, draft, media, english):
    client.force_login(draft.pi)
    response = attach_on_page(client, draft, "cooperation_agreement", "协议.pdf", EXE, "甲乙双方")
    page = response.content.decode()
    assert response.status_code == 200
    assert "looks like .exe" in page
    assert '<option value="cooperation_agreement" selected>' in page
    assert 'value="甲乙双方"' in page
    assert Attachment.objects.count() == 0
    assert stored_files(media) == []


def test_a_kind_the_project_does_not_take_is_refused(client, draft, english):
    client.force_login(draft.pi)
    response = attach_on_page(client, draft, "case_evidence", "a.pdf", pdf())
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Attachment.objects.count() == 0


# --- required documents at submission -----------------------------------------------------


def require(county, *kinds: str):
    county.call.required_documents = list(kinds)
    save_call(county.call, county.users["staff"])


def test_submission_waits_for_the_required_documents(client, draft, county, english):
    require(county, "application_form", "commitment")
    client.force_login(draft.pi)
    page = client.get(reverse("project", args=[draft.pk])).content.decode()
    assert 'data-kind="commitment" data-present="no"' in page
    submit = reverse("project-action", args=[draft.pk, "submit"])
    response = client.post(submit, {"submit-commitment": "on"}, follow=True)
    page = response.content.decode()
    assert "Attach the documents the call requires first" in page
    assert "Application form, signed" in page and "Letter of commitment, signed" in page
    draft.refresh_from_db()
    assert draft.status == S.DRAFT

    attach_on_page(client, draft, "application_form", "申报书.pdf", pdf())
    response = client.post(submit, {"submit-commitment": "on"}, follow=True)
    assert "Letter of commitment, signed" in response.content.decode()
    assert (
        "Application form, signed" not in response.content.decode().split("requires first")[1][:200]
    )
    attach_on_page(client, draft, "commitment", "承诺书.pdf", pdf())
    page = client.get(reverse("project", args=[draft.pk])).content.decode()
    assert 'data-kind="commitment" data-present="yes"' in page
    client.post(submit, {"submit-commitment": "on"})
    draft.refresh_from_db()
    assert draft.status == S.UNIT_REVIEW


def test_the_admin_refuses_an_unknown_kind(client, county, english):
    client.force_login(county.users["staff"])
    url = reverse("admin:funding_call_change", args=[county.call.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "indirect_tiers": form["indirect_tiers"].value(),
            "criteria": form["criteria"].value(),
            "required_documents": '["commitment", "passport"]',
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Unknown kind of project document: passport" in response.content.decode()
    county.call.refresh_from_db()
    assert county.call.required_documents == []


# --- voucher scans ------------------------------------------------------------------------


@pytest.fixture
def entry(county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "在研项目", "300000"), S.IN_PROGRESS
    )
    return record_expenditure(
        project,
        project.pi,
        {
            "voucher_no": "JZ-1",
            "spent_on": datetime.date.today(),
            "category": "equipment",
            "payee": "某仪器公司",
            "method": "transfer",
            "amount": Decimal("12000"),
        },
    )


def test_a_voucher_scan_on_an_expenditure_row(client, entry, county):
    project = entry.project
    client.force_login(project.pi)
    funds = reverse("project-funds", args=[project.pk])
    assert f'data-expenditure="{entry.pk}"' in client.get(funds).content.decode()
    response = client.post(
        reverse("voucher-scan-upload", args=[project.pk, entry.pk]),
        {"file": upload("发票.jpg", JPEG)},
    )
    assert response.status_code == 302
    scan = Attachment.objects.get(kind="voucher_scan")
    assert scan.owner == entry
    assert f'href="{reverse("attachment", args=[scan.pk])}"' in client.get(funds).content.decode()
    assert download(client, scan)[1] == JPEG
    client.force_login(county.users["staff"])
    assert download(client, scan)[0].status_code == 200
    client.force_login(county.users["applicant2"])
    assert download(client, scan)[0].status_code == 404


def test_only_the_pi_attaches_a_scan(client, entry, county):
    url = reverse("voucher-scan-upload", args=[entry.project.pk, entry.pk])
    client.force_login(county.users["staff"])
    response = client.post(url, {"file": upload("发票.jpg", JPEG)}, follow=True)
    assert response.status_code == 200
    client.force_login(county.users["applicant2"])
    assert client.post(url, {"file": upload("发票.jpg", JPEG)}).status_code == 404
    assert not Attachment.objects.filter(kind="voucher_scan").exists()


# --- case evidence ------------------------------------------------------------------------


def test_case_evidence_only_for_the_integrity_officer(client, county, english):
    case = new_case(county)
    client.force_login(officer(county))
    url = reverse("case-evidence", args=[case.pk])
    assert (
        client.post(url, {"file": upload("专利证书.pdf", pdf()), "note": "举报附件"}).status_code
        == 302
    )
    doc = Attachment.objects.get(kind="case_evidence")
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert f'data-document="{doc.pk}"' in page and "举报附件" in page
    assert download(client, doc)[1] == pdf()
    for other in ("staff", "leader", "applicant2"):
        client.force_login(county.users[other])
        assert download(client, doc)[0].status_code == 404
        assert client.post(url, {"file": upload("x.pdf", pdf())}).status_code == 403
    client.logout()
    assert download(client, doc)[0].status_code == 404
    assert Attachment.objects.count() == 1


def test_refused_evidence_keeps_the_note(client, county, media, english):
    case = new_case(county)
    client.force_login(officer(county))
    response = client.post(
        reverse("case-evidence", args=[case.pk]),
        {"file": upload("证据.pdf", EXE), "note": "现场照片"},
    )
    assert response.status_code == 200
    assert 'value="现场照片"' in response.content.decode()
    assert stored_files(media) == []
