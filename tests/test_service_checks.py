"""Checks that live in the services, so the web, the API, the admin and commands all meet them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from funding.ledger_import import import_ledger
from funding.models import ExpertAssignment
from funding.states import ProjectStatus as S
from oversight.certificates import revoke
from oversight.models import Certificate
from workflows import demo
from workflows.actions import submit_expert_review

pytestmark = pytest.mark.django_db


def test_a_review_without_the_no_conflict_declaration_is_refused_on_every_path(client, county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "评审", "300000"), S.EXPERT_REVIEW
    )
    expert = county.users["expert1"]
    with pytest.raises(ValidationError):
        submit_expert_review(project.pk, expert, 80, "可行", no_conflict=False)
    client.force_login(expert)
    page = client.post(
        reverse("project-review", args=[project.pk]),
        {"score": "80", "opinion": "可行"},
        follow=True,
    ).content.decode()
    assert "回避" in page or "conflict" in page
    assert not ExpertAssignment.objects.filter(submitted_at__isnull=False).exists()


def test_only_staff_revoke_a_certificate_whatever_the_path(
    county, django_capture_on_commit_callbacks
):
    project = demo.draft_project(county, "applicant", "证书", "300000")
    with django_capture_on_commit_callbacks(execute=True):
        demo.advance(county, project, S.CLOSED)
    certificate = Certificate.objects.get(project=project)
    with pytest.raises(PermissionDenied):
        revoke(certificate, "想撤销", county.users["leader"])
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED


def test_the_ledger_import_refuses_a_file_that_is_neither_csv_nor_xlsx(county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "导入", "300000"), S.IN_PROGRESS
    )
    with pytest.raises(ValidationError):
        import_ledger(project, project.pi, b"%PDF-1.7", "ledger.pdf")
    assert not project.expenditures.exists()


def test_submitting_without_the_commitment_tells_the_applicant_why(client, county):
    project = demo.draft_project(county, "applicant", "未签承诺", "300000")
    client.force_login(project.pi)
    page = client.post(reverse("project-action", args=[project.pk, "submit"]), follow=True)
    assert "承诺" in page.content.decode()
    project.refresh_from_db()
    assert project.status == S.DRAFT
