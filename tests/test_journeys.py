"""End-to-end journeys through the web pages, signed in as each role."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from funding.models import Project
from funding.states import ProjectStatus as S
from oversight.models import Certificate
from workflows import demo

from .forms_support import application_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    return demo.create_county()


def signed_in(client, user):
    client.force_login(user)
    return client


def act(client, project, name, **fields):
    data = {f"{name}-{key}": value for key, value in fields.items()}
    return client.post(reverse("project-action", args=[project.pk, name]), data, follow=True)


def page_text(response) -> str:
    return response.content.decode()


def test_a_project_goes_from_application_to_a_verified_certificate(
    client, town, django_capture_on_commit_callbacks, settings, tmp_path
):
    pytest.importorskip("oversight.pdf")
    settings.MEDIA_ROOT = str(tmp_path)  # the attached reports
    u = town.users
    # The applicant files and submits.
    signed_in(client, u["applicant"])
    response = client.post(
        reverse("apply", args=[town.call.pk]), application_form(town.call), follow=True
    )
    project = Project.objects.get(title="水稻病虫害智能监测预警技术研究与示范")
    assert response.redirect_chain[-1][0] == reverse("project", args=[project.pk])
    act(client, project, "submit", commitment="on")
    project.refresh_from_db()
    assert project.status == S.UNIT_REVIEW and project.commitment_signed_at

    # The research office of the applicant's own unit recommends it (单位推荐).
    signed_in(client, u["unit1"])
    assert project.title in page_text(client.get(reverse("inbox")))
    act(client, project, "recommend_by_unit", opinion="同意推荐。")
    project.refresh_from_db()
    assert project.status == S.SUBMITTED

    # Staff see it in their inbox and carry it through the formal check.
    signed_in(client, u["staff"])
    assert project.title in page_text(client.get(reverse("inbox")))
    act(client, project, "accept_application")
    experts = [u["expert1"], u["expert2"], u["expert3"]]
    # Picked by hand, not drawn: the reason is recorded (issue 7).
    picked = [e.pk for e in experts]
    act(client, project, "pass_formal_check", experts=picked, reason="按专业领域指定")
    project.refresh_from_db()
    assert project.status == S.EXPERT_REVIEW

    # Each expert declares no conflict and scores.
    for expert in experts:
        signed_in(client, expert)
        assert project.title in page_text(client.get(reverse("inbox")))
        client.post(
            reverse("project-review", args=[project.pk]),
            {"no_conflict": "on", "score": "86", "opinion": "技术路线可行。"},
        )
    signed_in(client, u["staff"])
    act(client, project, "finish_expert_review")
    act(
        client,
        project,
        "finish_budget_review",
        equipment_approved="150000.00",
        equipment_reason="设备单价偏高",
        operations_approved="210000.00",
        labour_approved="120000.00",
        indirect_approved="90000.00",
    )
    project.refresh_from_db()
    assert project.status == S.PENDING_APPROVAL
    assert str(project.approved_amount) == "570000.00"

    # Staff cannot approve; the leader can.
    act(client, project, "approve")
    project.refresh_from_db()
    assert project.status == S.PENDING_APPROVAL
    signed_in(client, u["leader"])
    act(client, project, "approve")
    signed_in(client, u["staff"])
    demo.notice_passed(project)  # its working days go by without an objection
    act(client, project, "close_public_notice")
    midterm = (project.start_date + (project.end_date - project.start_date) / 2).isoformat()
    client.post(  # the task contract's terms (issue 8): staff write them with the PI
        reverse("contract-terms", args=[project.pk]),
        {
            "targets": "病虫害识别准确率, %, 90",
            "milestones": f"中期检查, {midterm}",
            "schedule": "首笔, 300000.00, 签订后\n第二笔, 270000.00, 中期检查",
        },
    )
    act(client, project, "sign_contract")
    act(client, project, "disburse", amount="300000.00", tranche="首笔")
    project.refresh_from_db()
    assert project.status == S.IN_PROGRESS and str(project.disbursed_total) == "300000.00"

    signed_in(client, u["applicant"])
    [target] = project.contract.targets.all()
    client.post(
        reverse("contract-achieved", args=[project.pk]),
        {f"achieved_{target.pk}": "92.5", f"note_{target.pk}": "第三方检测"},
    )
    full_text = SimpleUploadedFile("科技报告.pdf", demo.DEMO_PDF)  # required first (issue 8)
    client.post(
        reverse("project-document-upload", args=[project.pk]),
        {"kind": "tech_report", "note": "", "file": full_text},
    )
    act(
        client,
        project,
        "request_acceptance",
        title="水稻病虫害监测预警科技报告",
        abstract="完成全部考核指标。",
        access="open",
    )
    signed_in(client, u["staff"])
    act(client, project, "appoint_audit", firm=town.orgs["firm"].pk, auditor=u["auditor"].pk)
    project.refresh_from_db()
    assert project.status == S.UNDER_AUDIT

    # The auditor sees this fund trail, and no other project's.
    other = demo.draft_project(town, "applicant2", "另一个项目", "200000")
    signed_in(client, u["auditor"])
    funds = client.get(reverse("project-funds", args=[project.pk]))
    assert funds.status_code == 200 and "300,000.00" in page_text(funds)  # 元, grouped
    assert client.get(reverse("project-funds", args=[other.pk])).status_code == 404
    assert client.get(reverse("project", args=[other.pk])).status_code == 404
    audit_report = SimpleUploadedFile("审计报告.pdf", demo.DEMO_PDF)  # required first (issue 8)
    client.post(reverse("audit-report-upload", args=[project.pk]), {"file": audit_report})
    act(client, project, "issue_audit_opinion", opinion="unqualified", findings="账实相符。")

    # Staff draw the acceptance panel; each member votes on the page (issue 7).
    signed_in(client, u["staff"])
    client.post(reverse("panel-draw", args=[project.pk]), {"panel_draw-size": "5"}, follow=True)
    panel = project.acceptance_panels.get()
    for member in panel.members.all():
        signed_in(client, member)
        assert "账实相符。" in page_text(client.get(reverse("project", args=[project.pk])))
        verdict = {"task_verdict": "pass", "finance_verdict": "pass", "opinion": "通过。"}
        client.post(
            reverse("panel-vote", args=[project.pk]),
            {f"verdict-{k}": v for k, v in verdict.items()},
        )
    signed_in(client, u["staff"])
    act(client, project, "conclude_acceptance", conclusion="passed")
    with django_capture_on_commit_callbacks(execute=True):  # the Celery task runs on commit
        act(client, project, "issue_certificate")
    project.refresh_from_db()
    assert project.status == S.CLOSED

    # The certificate is issued, downloadable, and the public page verifies it.
    certificate = Certificate.objects.get(project=project)
    assert certificate.status == Certificate.Status.ISSUED
    pdf = client.get(reverse("certificate-pdf", args=[project.pk])).content
    assert pdf.startswith(b"%PDF")
    client.logout()
    public = client.get(reverse("verify", args=[certificate.serial]))
    assert public.status_code == 200 and certificate.sha256 in page_text(public)
    genuine = client.post(
        reverse("verify", args=[certificate.serial]),
        {"file": io.BytesIO(pdf)},
    )
    assert 'data-testid="verdict"' in page_text(genuine)
    assert genuine.context["genuine"] is True
    altered = pdf.replace(b"%%EOF", b"%%EOF\n% changed", 1)
    forged = client.post(
        reverse("verify", args=[certificate.serial]),
        {"file": io.BytesIO(altered)},
    )
    assert forged.context["genuine"] is False
    assert 'class="verdict bad"' in page_text(forged)


def test_a_sanctioned_pi_is_vetoed_at_submission_and_sees_why(client, town):
    project = demo.draft_project(town, "vetoed", "新型电池隔膜材料中试", "300000")
    sanction = demo.sanction_person(town.users["vetoed"], town.users["integrity"])
    signed_in(client, town.users["vetoed"])
    response = act(client, project, "submit", commitment="on")
    project.refresh_from_db()
    assert project.status == S.DRAFT
    assert sanction.decision_no in page_text(response)


def test_submission_without_the_commitment_is_refused(client, town):
    project = demo.draft_project(town, "applicant", "未签承诺的项目", "300000")
    signed_in(client, town.users["applicant"])
    act(client, project, "submit")
    project.refresh_from_db()
    assert project.status == S.DRAFT


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"team": "黄助理, 330127198001015001, 试验"}, "team"),
        ({"team": "黄助理, 33012719800101500, 试验"}, "team"),
        ({"team": "黄助理, 330127198002305005, 试验"}, "team"),
        ({"requested_amount": "-5.00"}, "requested_amount"),
        ({"indirect": "-1.00"}, "indirect"),
        ({"requested_amount": "999999999.00"}, "requested_amount"),
        ({"end_date": "2020-01-01"}, "end_date"),
        ({"indirect": "190000.00", "operations": "110000.00"}, "budget"),
    ],
)
def test_bad_applications_get_a_clear_error_and_store_nothing(client, town, overrides, field):
    signed_in(client, town.users["applicant"])
    response = client.post(
        reverse("apply", args=[town.call.pk]), application_form(town.call, **overrides)
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors, "the form should explain what is wrong"
    assert field in form.errors or "__all__" in form.errors
    assert Project.objects.count() == 0


def test_applying_to_a_closed_call_is_refused(client, town):
    signed_in(client, town.users["applicant"])
    response = client.post(
        reverse("apply", args=[town.closed_call.pk]), application_form(town.closed_call)
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Project.objects.count() == 0


def test_an_applicant_sees_only_their_organisations_projects(client, town):
    mine = demo.draft_project(town, "applicant", "本单位项目", "200000")
    theirs = demo.draft_project(town, "applicant2", "他单位项目", "200000")
    signed_in(client, town.users["applicant"])
    assert client.get(reverse("project", args=[mine.pk])).status_code == 200
    assert client.get(reverse("project", args=[theirs.pk])).status_code == 404
    response = act(client, theirs, "submit", commitment="on")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == S.DRAFT


def test_an_expert_sees_only_assigned_applications(client, town):
    project = demo.advance(
        town, demo.draft_project(town, "applicant", "评审项目", "300000"), S.EXPERT_REVIEW
    )
    unassigned = demo.draft_project(town, "applicant2", "未分配项目", "300000")
    signed_in(client, town.users["expert1"])
    assert client.get(reverse("project", args=[project.pk])).status_code == 200
    assert client.get(reverse("project", args=[unassigned.pk])).status_code == 404


def test_the_interface_speaks_chinese_by_default_and_english_on_request(client):
    assert "登录" in page_text(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US"))
    client.cookies["django_language"] = "en"
    assert "Sign in" in page_text(client.get(reverse("login")))


def test_the_api_lists_only_visible_projects_and_publishes_a_schema(client, town):
    demo.draft_project(town, "applicant", "本单位项目", "200000")
    demo.draft_project(town, "applicant2", "他单位项目", "200000")
    signed_in(client, town.users["applicant"])
    titles = [p["title"] for p in client.get("/api/projects/").json()["results"]]
    assert titles == ["本单位项目"]
    assert client.get("/api/schema/").status_code == 200
