"""The acceptance materials where the panel votes (issue 8): a member reads the full tech
report, the audit report, opinion and findings with the PI's answer, the task contract's
targets against achieved and the other acceptance papers on the project page, and each
link downloads for them; an expert not on the panel gets none of these files.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from documents.attachments import attach, current_documents, versions_of
from funding.expert_profiles import save_expert_profile
from funding.experts import ExpertProfile
from funding.states import ProjectStatus as S
from integrity.models import Gate, Sanction, Severity, SubjectKind
from integrity.services import record_sanction
from oversight.panels import current_panel, draw_acceptance_panel
from oversight.services import answer_findings
from workflows import demo
from workflows.actions import perform

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies["django_language"] = "en"


def pdf(text: str) -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + text.encode() + b"\n%%EOF\n"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def pool_expert(county, n: int) -> User:
    user = User.objects.create_user(
        username=f"pool{n}", password="x", real_name=f"池专家{n}", id_number=demo.person_id(700 + n)
    )
    user.groups.add(Group.objects.get(name=Role.EXPERT.value))
    profile = ExpertProfile(user=user, organisation=None, fields=["agriculture"])
    save_expert_profile(profile, [], county.users["staff"])
    return user


def bar_from_reviewing(county, user) -> None:
    record_sanction(
        Sanction(
            subject_kind=SubjectKind.PERSON,
            subject_id=user.id_number,
            subject_name=str(user),
            severity=Severity.SERIOUS,
            measures=["ban"],
            gates=[Gate.REVIEW.value],
            decision_no="示科信〔2026〕88号",
            reason="评审中收受财物",
            starts_on=TODAY - DAY,
            ends_on=TODAY + 700 * DAY,
        ),
        county.users["integrity"],
    )


@pytest.fixture
def panel_project(county, draft):
    """Under acceptance after a qualified audit opinion the PI has answered, with two
    acceptance materials and the signed contract attached; expert1, who reviewed the
    application, is barred from the panel, which is drawn from the other five."""
    project = demo.advance(county, draft, S.IN_PROGRESS)
    attach(project, "acceptance_material", upload("用户使用意见.pdf", pdf("m1")), project.pi)
    attach(project, "acceptance_material", upload("查新报告.pdf", pdf("m2")), project.pi)
    if not current_documents(project, "task_contract_signed").exists():
        attach(
            project,
            "task_contract_signed",
            upload("任务书（盖章）.pdf", pdf("c")),
            county.users["staff"],
        )
    project = demo.advance(county, project, S.UNDER_AUDIT)
    perform(
        project.pk,
        "issue_audit_opinion",
        county.users["auditor"],
        opinion="qualified",
        findings="部分劳务费缺少签收单。",
    )
    answer_findings(project, project.pi, "已补齐全部签收单。")
    project.refresh_from_db()
    assert project.status == S.UNDER_ACCEPTANCE
    reviewer = county.users["expert1"]
    assert project.assignments.filter(expert=reviewer).exists()
    pool_expert(county, 6)
    bar_from_reviewing(county, reviewer)
    panel = draw_acceptance_panel(project, county.users["staff"], seed="2026")
    assert not panel.members.filter(pk=reviewer.pk).exists()
    return project


def papers(project) -> dict[str, object]:
    engagement = project.audits.order_by("-pk").first()
    return {
        "tech report": current_documents(project, "tech_report").get(),
        "audit report": current_documents(engagement, "audit_report").get(),
        "material v1": project_documents(project, "acceptance_material")[1],
        "material v2": project_documents(project, "acceptance_material")[0],
        "signed contract": current_documents(project, "task_contract_signed").get(),
    }


def project_documents(project, kind):
    return list(versions_of(project, kind))


def download_status(client, attachment) -> int:
    response = client.get(reverse("attachment", args=[attachment.pk]))
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


def panel_section(page: str) -> str:
    start = page.index('data-testid="acceptance"')
    return page[start : page.index("</section>", start)]


def test_a_member_reads_every_paper_where_they_vote_and_each_link_works(
    client, county, panel_project
):
    member = current_panel(panel_project).members.order_by("pk").first()
    client.force_login(member)
    page = client.get(reverse("project", args=[panel_project.pk])).content.decode()
    section = panel_section(page)

    assert 'data-form="panel-vote"' in section  # where the verdict is given
    assert 'data-testid="panel-materials"' in section
    assert 'data-testid="tech-report-link"' in section
    assert 'data-testid="audit-report-link"' in section
    assert "部分劳务费缺少签收单" in section and "已补齐全部签收单" in section  # findings, answer
    assert 'data-testid="contract-targets"' in section
    assert "示范推广面积" in section and "620" in section  # target against achieved
    for name in ("用户使用意见.pdf", "查新报告.pdf"):
        assert name in section
    assert reverse("contract", args=[panel_project.pk]) in section

    linked = {int(pk) for pk in re.findall(r'href="/documents/(\d+)/"', section)}
    expected = papers(panel_project)
    assert {doc.pk for doc in expected.values()} <= linked
    for label, doc in expected.items():
        assert download_status(client, doc) == 200, label
    assert client.get(reverse("contract", args=[panel_project.pk])).status_code == 200


def test_an_expert_not_on_the_panel_gets_none_of_the_papers(client, county, panel_project):
    # An expert with nothing to do with the project: not told the files exist.
    stranger = pool_expert(county, 9)
    client.force_login(stranger)
    for label, doc in papers(panel_project).items():
        assert download_status(client, doc) == 404, label
    assert client.get(reverse("project", args=[panel_project.pk])).status_code == 404

    # An application reviewer not on the panel sees the project, not its acceptance papers.
    reviewer = county.users["expert1"]
    client.force_login(reviewer)
    refused = papers(panel_project)
    assert download_status(client, refused.pop("signed contract")) == 200  # the contract
    for label, doc in refused.items():
        assert download_status(client, doc) == 403, label
    page = client.get(reverse("project", args=[panel_project.pk])).content.decode()
    assert 'data-testid="panel-materials"' not in page
    assert 'data-form="panel-vote"' not in page
    # Nor does the documents card list them: only the files they may open.
    for label, doc in refused.items():
        assert reverse("attachment", args=[doc.pk]) not in page, label


def test_deciders_see_the_papers_the_pi_does_not_get_the_panel_s_view(
    client, county, panel_project
):
    client.force_login(county.users["staff"])
    page = client.get(reverse("project", args=[panel_project.pk])).content.decode()
    section = panel_section(page)
    assert 'data-testid="panel-materials"' in section and 'data-testid="panel-votes"' in section
    client.force_login(panel_project.pi)
    page = client.get(reverse("project", args=[panel_project.pk])).content.decode()
    assert 'data-testid="panel-materials"' not in page and 'data-testid="panel-votes"' not in page
    for label, doc in papers(panel_project).items():
        assert download_status(client, doc) == 200, label  # the PI's own papers


def test_a_member_still_sees_no_other_member_s_verdict(client, county, panel_project):
    first, second, *_ = current_panel(panel_project).members.order_by("pk")
    client.force_login(second)
    data = {
        "verdict-task_verdict": "pass",
        "verdict-finance_verdict": "fail",
        "verdict-opinion": "其他委员的保密意见。",
    }
    client.post(reverse("panel-vote", args=[panel_project.pk]), data)
    client.force_login(first)
    page = client.get(reverse("project", args=[panel_project.pk])).content.decode()
    assert "其他委员的保密意见" not in page and 'data-testid="panel-votes"' not in page
    assert "1 of 5 members have voted" in page


def test_an_expert_who_has_not_declared_sees_no_file_of_the_application(client, county, draft):
    doc = attach(draft, "cooperation_agreement", upload("合作协议.pdf", pdf("a")), draft.pi)
    project = demo.advance(county, draft, S.EXPERT_REVIEW)
    reviewer = project.assignments.filter(submitted_at__isnull=True).first().expert
    client.force_login(reviewer)
    assert download_status(client, doc) == 404  # the title only, until they declare
    client.force_login(county.users["staff"])
    assert download_status(client, doc) == 200
