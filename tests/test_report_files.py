"""The files behind the tech report and the audit opinion (issue 8): the PI attaches the
full tech report before asking for acceptance, the lead auditor the audit report before
the opinion; the public gets the full text only when the report is published."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from documents.attachments import current_documents
from documents.models import Attachment
from funding.states import ProjectStatus as S
from oversight.models import AuditEngagement, TechReport
from oversight.panels import draw_acceptance_panel
from workflows import demo
from workflows.actions import perform

from .pool_support import act, said

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\nfull text\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies["django_language"] = "en"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def upload(name: str, content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def fetch(client, attachment: Attachment):
    response = client.get(reverse("attachment", args=[attachment.pk]))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body


def status_of(project) -> str:
    project.refresh_from_db()
    return project.status


def attach_report_on_page(client, project, name="科技报告.pdf", content=PDF, kind="tech_report"):
    return client.post(
        reverse("project-document-upload", args=[project.pk]),
        {"kind": kind, "note": "", "file": upload(name, content)},
        follow=True,
    )


def attach_audit_report_on_page(client, project, name="审计报告.pdf", content=PDF):
    return client.post(
        reverse("audit-report-upload", args=[project.pk]),
        {"file": upload(name, content)},
        follow=True,
    )


REPORT = {"title": "稻田灌溉科技报告", "abstract": "完成全部考核指标。", "access": "open"}


# --- the full tech report -----------------------------------------------------------------


def test_acceptance_is_refused_until_the_pi_attaches_the_full_tech_report(client, county, draft):
    project = demo.advance(county, draft, S.IN_PROGRESS)
    client.force_login(project.pi)
    demo_file = current_documents(project, "tech_report").get()
    client.post(
        reverse("project-document-remove", args=[project.pk, demo_file.pk]),
        {"reason": "换成定稿"},
    )
    assert not current_documents(project, "tech_report").exists()

    response = act(client, project, "request_acceptance", **REPORT)
    assert "Attach the full tech report (PDF)" in said(response)
    assert status_of(project) == S.IN_PROGRESS and not TechReport.objects.exists()
    assert "稻田灌溉科技报告" in response.content.decode()  # the form comes back as typed

    response = attach_report_on_page(client, project)
    assert "The document has been attached." in said(response)
    act(client, project, "request_acceptance", **REPORT)
    assert status_of(project) == S.ACCEPTANCE_REQUESTED


def test_a_running_project_takes_only_the_acceptance_papers_from_the_pi(client, county, draft):
    project = demo.advance(county, draft, S.IN_PROGRESS)
    client.force_login(project.pi)
    before = Attachment.objects.count()
    response = attach_report_on_page(client, project, "承诺书.pdf", kind="commitment")
    assert "was not attached" in said(response)
    assert "Select a valid choice" in response.content.decode()
    response = attach_report_on_page(client, project, "报告.png", PNG)
    assert "must be one of: PDF" in response.content.decode()
    assert Attachment.objects.count() == before


def test_the_public_gets_the_full_text_only_after_the_embargo(client, county, draft):
    project = demo.advance(county, draft, S.IN_PROGRESS)
    until = datetime.date.today() + datetime.timedelta(days=90)
    report = {**demo.demo_report(), "access": "embargoed", "embargo_until": until}
    project = perform(project.pk, "request_acceptance", project.pi, report=report)
    project = demo.advance(county, project, S.ACCEPTED)
    full_text = current_documents(project, "tech_report").get()
    page = reverse("report", args=[project.report.pk])

    assert client.get(page).status_code == 404
    assert fetch(client, full_text)[0] == 404  # the public, under embargo
    client.force_login(project.pi)
    assert fetch(client, full_text) == (200, demo.DEMO_PDF)  # the project's own people
    client.logout()
    client.cookies["django_language"] = "en"  # logout() drops the cookie; read in English

    TechReport.objects.filter(pk=project.report.pk).update(
        embargo_until=datetime.date.today() - datetime.timedelta(days=1)
    )
    shown = client.get(page).content.decode()
    assert reverse("attachment", args=[full_text.pk]) in shown
    assert "Download the full text" in shown
    assert fetch(client, full_text) == (200, demo.DEMO_PDF)


def test_an_open_report_links_its_full_text_and_a_report_without_file_shows_none(
    client, county, draft
):
    project = demo.advance(county, draft, S.ACCEPTED)
    full_text = current_documents(project, "tech_report").get()
    shown = client.get(reverse("report", args=[project.report.pk])).content.decode()
    assert reverse("attachment", args=[full_text.pk]) in shown
    assert fetch(client, full_text) == (200, demo.DEMO_PDF)

    Attachment.objects.filter(pk=full_text.pk).update(removed_at=timezone.now())
    shown = client.get(reverse("report", args=[project.report.pk])).content.decode()
    assert "Download the full text" not in shown
    assert fetch(client, full_text)[0] == 404


# --- the audit report ---------------------------------------------------------------------


def appointed(client, county, draft):
    """The 600,000-yuan draft, its audit appointed on the page (no report attached yet)."""
    project = demo.advance(county, draft, S.ACCEPTANCE_REQUESTED)
    client.force_login(county.users["staff"])
    act(
        client,
        project,
        "appoint_audit",
        firm=county.orgs["firm"].pk,
        auditor=county.users["auditor"].pk,
    )
    assert status_of(project) == S.UNDER_AUDIT
    return project


OPINION = {"opinion": "unqualified", "findings": "账实相符。"}


def test_the_opinion_is_refused_until_the_lead_auditor_attaches_the_report(client, county, draft):
    project = appointed(client, county, draft)
    client.force_login(county.users["auditor"])
    assert (
        'data-testid="audit-report-upload"'
        in client.get(reverse("project", args=[project.pk])).content.decode()
    )

    response = act(client, project, "issue_audit_opinion", **OPINION)
    assert "Attach the audit report (PDF)" in said(response)
    assert status_of(project) == S.UNDER_AUDIT
    assert AuditEngagement.objects.get(project=project).opinion == ""

    response = attach_audit_report_on_page(client, project, "审计报告.png", PNG)
    assert "must be one of: PDF" in said(response)
    assert not Attachment.objects.filter(kind="audit_report").exists()
    response = attach_audit_report_on_page(client, project)
    assert "The audit report has been attached." in said(response)

    act(client, project, "issue_audit_opinion", **OPINION)
    assert status_of(project) == S.UNDER_ACCEPTANCE


def test_only_the_lead_auditor_attaches_the_audit_report(client, county, draft):
    project = appointed(client, county, draft)
    for who in ("staff", "auditor2"):
        client.force_login(county.users[who])
        response = attach_audit_report_on_page(client, project)
        assert response.status_code in (403, 404), who
    client.force_login(project.pi)
    assert attach_audit_report_on_page(client, project).status_code == 403
    assert not Attachment.objects.filter(kind="audit_report").exists()


def test_the_panel_and_staff_get_the_audit_report_and_another_firm_does_not(client, county, draft):
    project = demo.advance(county, draft, S.UNDER_ACCEPTANCE)
    engagement = AuditEngagement.objects.get(project=project)
    report = current_documents(engagement, "audit_report").get()
    panel = draw_acceptance_panel(project, county.users["staff"], seed="files")
    link = reverse("attachment", args=[report.pk])

    for user in (panel.members.order_by("pk").first(), county.users["staff"]):
        client.force_login(user)
        page = client.get(reverse("project", args=[project.pk])).content.decode()
        assert 'data-testid="audit-report-link"' in page and link in page, user
        assert fetch(client, report) == (200, demo.DEMO_PDF), user

    client.force_login(county.users["auditor2"])  # another firm
    assert fetch(client, report)[0] in (403, 404)
    client.logout()
    assert fetch(client, report)[0] == 404
