"""The task contract (任务书, issue 8): staff and the PI fill targets, milestones and the
payment schedule; the PDF prints them; signing freezes them; disbursements follow the
schedule (beyond it needs a reason); the PI reports achieved values and the acceptance
panel sees target against achieved."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.contracts import ProjectContract, contract_of
from funding.states import ProjectStatus as S
from oversight.panels import draw_acceptance_panel
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TARGETS = "病虫害识别准确率, %, 90\n示范推广面积, 亩, 5000"
FUTURE = (timezone.localdate() + datetime.timedelta(days=200)).isoformat()
MILESTONES = f"中期检查, {FUTURE}"


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def approved(county, draft):
    """Approved, its terms not written yet (the demo path writes its own: removed here)."""
    project = demo.advance(county, draft, S.APPROVED)
    ProjectContract.objects.filter(project=project).delete()
    return project


def schedule_for(project, first_share="0.4") -> str:
    first = (project.approved_amount * Decimal(first_share)).quantize(Decimal("0.01"))
    return f"首笔, {first}, 签订后\n第二笔, {project.approved_amount - first}, 中期检查"


def post_terms(client, user, project, targets=TARGETS, milestones=MILESTONES, schedule=None):
    client.force_login(user)
    data = {
        "targets": targets,
        "milestones": milestones,
        "schedule": schedule_for(project) if schedule is None else schedule,
    }
    return client.post(reverse("contract", args=[project.pk]) + "terms/", data)


def act(client, project, name, **fields):
    data = {f"{name}-{key}": value for key, value in fields.items()}
    return client.post(reverse("project-action", args=[project.pk, name]), data, follow=True)


def pdf_text(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    path = tmp_path / "contract.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def signed(client, county, approved, settings=None):
    assert post_terms(client, approved.pi, approved).status_code == 302
    client.force_login(county.users["staff"])
    act(client, approved, "sign_contract")
    approved.refresh_from_db()
    assert approved.status == S.CONTRACTED
    return approved


# --- filling the terms ---------------------------------------------------------------------


def test_the_pi_fills_the_terms_and_they_are_journaled(client, approved):
    response = post_terms(client, approved.pi, approved)
    assert response.status_code == 302
    page = client.get(reverse("contract", args=[approved.pk])).content.decode()
    assert "病虫害识别准确率" in page and "5000" in page and "中期检查" in page
    event = history_of(approved).filter(kind=EventKind.PROJECT_EDITED).last()
    assert event.data["contract"]["targets"][0] == ["病虫害识别准确率", "%", "90"]


def test_staff_fill_the_terms_too(client, county, approved):
    assert post_terms(client, county.users["staff"], approved).status_code == 302
    assert contract_of(approved).targets.count() == 2


def test_bad_lines_are_refused_with_their_numbers_and_the_text_stays(client, approved):
    typed = "病虫害识别准确率, %, 90\n\n只有指标名称\n推广面积, 亩, 很多"
    response = post_terms(
        client, approved.pi, approved, targets=typed, milestones="中期检查, 2027-13-40"
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 3: write “indicator, unit, target value”." in page
    assert "Line 4: the target value must be a number ≥ 0." in page
    assert "Line 1: write “milestone, YYYY-MM-DD”." in page
    assert "只有指标名称" in page and "2027-13-40" in page  # typed text kept
    assert contract_of(approved) is None


def test_a_tranche_tied_to_an_unknown_milestone_is_refused(client, approved):
    response = post_terms(
        client, approved.pi, approved, schedule=f"全部, {approved.approved_amount}, 结题"
    )
    assert response.status_code == 400
    assert "Line 1: “结题” is not one of the milestones above (or 签订后)." in (
        response.content.decode()
    )


def test_a_schedule_not_adding_up_to_the_approved_amount_is_refused(client, approved):
    response = post_terms(client, approved.pi, approved, schedule="首笔, 1000, 签订后")
    assert response.status_code == 400
    page = response.content.decode()
    assert "adds up to 1,000.00 yuan; it must equal the approved amount" in page
    assert "首笔, 1000, 签订后" in page
    assert contract_of(approved) is None


def test_at_least_one_target(client, approved):
    response = post_terms(client, approved.pi, approved, targets="\n")
    assert response.status_code == 400
    assert "Write at least one target." in response.content.decode()


def test_another_organisations_applicant_cannot_see_the_contract(client, county, approved):
    post_terms(client, approved.pi, approved)
    client.force_login(county.users["applicant2"])
    assert client.get(reverse("contract", args=[approved.pk])).status_code == 404
    assert client.get(reverse("contract-pdf", args=[approved.pk])).status_code == 404
    response = post_terms(client, county.users["applicant2"], approved, targets="x, y, 1")
    assert response.status_code == 404


def test_the_project_page_links_to_the_contract(client, approved):
    client.force_login(approved.pi)
    page = client.get(reverse("project", args=[approved.pk])).content.decode()
    assert reverse("contract", args=[approved.pk]) in page


# --- the PDF -------------------------------------------------------------------------------


def test_the_pdf_prints_the_targets_and_the_schedule(client, approved, tmp_path):
    post_terms(client, approved.pi, approved)
    response = client.get(reverse("contract-pdf", args=[approved.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "科技项目任务书" in text
    for printed in ("病虫害识别准确率", "示范推广面积", "5000", "中期检查", FUTURE, "签订后"):
        assert printed in text
    assert f"{approved.approved_amount:,.2f}" in text


# --- signing freezes -----------------------------------------------------------------------


def test_signing_is_refused_without_terms_then_freezes_them(client, county, approved, settings):
    staff = county.users["staff"]
    client.force_login(staff)
    page = act(client, approved, "sign_contract").content.decode()
    assert "Fill the task contract" in page and "(targets and payment schedule)" in page
    approved.refresh_from_db()
    assert approved.status == S.APPROVED

    project = signed(client, county, approved, settings)
    assert contract_of(project).frozen_at is not None
    assert contract_of(project).frozen_by == staff
    # Frozen: neither the PI nor staff may change them; the page offers no form.
    assert post_terms(client, project.pi, project, targets="新指标, 项, 1").status_code == 403
    assert post_terms(client, staff, project, targets="新指标, 项, 1").status_code == 403
    assert contract_of(project).targets.first().indicator == "病虫害识别准确率"
    page = client.get(reverse("contract", args=[project.pk])).content.decode()
    assert "Signed and frozen" in page and 'data-form="contract-terms"' not in page
    assert "No signed scan attached yet." in page


def test_an_incomplete_contract_cannot_be_signed(client, county, approved, settings):
    post_terms(client, approved.pi, approved)
    approved.approved_amount += 1  # the approved amount changed after the terms
    approved.save(update_fields=["approved_amount"])
    client.force_login(county.users["staff"])
    page = act(client, approved, "sign_contract").content.decode()
    assert "it must equal the approved amount" in page
    approved.refresh_from_db()
    assert approved.status == S.APPROVED


# --- disbursements follow the schedule -----------------------------------------------------


def test_beyond_the_schedule_needs_a_reason(client, county, approved, settings):
    project = signed(client, county, approved, settings)
    on_signing = (project.approved_amount * Decimal("0.4")).quantize(Decimal("0.01"))
    client.force_login(county.users["staff"])
    page = act(client, project, "disburse", amount=str(on_signing + 1), tranche="首笔").content
    assert "beyond the task contract" in page.decode()
    project.refresh_from_db()
    assert project.disbursed_total == 0

    act(client, project, "disburse", amount=str(on_signing), tranche="首笔")
    project.refresh_from_db()
    assert project.disbursed_total == on_signing  # within the schedule: no reason asked

    act(client, project, "disburse", amount="1000", tranche="提前拨付", reason="试验季提前")
    project.refresh_from_db()
    assert project.disbursed_total == on_signing + 1000
    event = history_of(project).last()
    assert event.data["beyond_schedule"] == "试验季提前"


def test_the_demo_path_pays_its_first_tranche_within_the_schedule(county, draft):
    project = demo.advance(county, draft, S.IN_PROGRESS)  # the demo writes its own terms
    assert contract_of(project).frozen_at is not None
    assert project.disbursed_total == contract_of(project).tranches.first().amount
    assert "beyond_schedule" not in history_of(project).last().data


# --- achieved values at acceptance ---------------------------------------------------------


def report(client, project, values):
    client.force_login(project.pi)
    targets = list(contract_of(project).targets.all())
    data = {}
    for target, (value, note) in zip(targets, values, strict=True):
        data[f"achieved_{target.pk}"] = value
        data[f"note_{target.pk}"] = note
    return client.post(reverse("contract-achieved", args=[project.pk]), data)


def test_the_pi_reports_achieved_and_the_panel_sees_them(client, county, approved, settings):
    project = signed(client, county, approved, settings)
    on_signing = (project.approved_amount * Decimal("0.4")).quantize(Decimal("0.01"))
    client.force_login(county.users["staff"])
    act(client, project, "disburse", amount=str(on_signing), tranche="首笔")
    project.refresh_from_db()
    assert project.status == S.IN_PROGRESS

    bad = report(client, project, [("-1", ""), ("abc", "")])
    assert bad.status_code == 400
    assert contract_of(project).targets.first().achieved_value is None

    assert report(client, project, [("92.5", "第三方检测"), ("5200", "")]).status_code == 302
    page = client.get(reverse("contract", args=[project.pk])).content.decode()
    assert "92.5" in page and "第三方检测" in page
    assert "achieved" in str(history_of(project).filter(kind=EventKind.PROJECT_EDITED).last().data)

    # Staff may not report for the PI.
    client.force_login(county.users["staff"])
    response = client.post(reverse("contract-achieved", args=[project.pk]), {})
    assert response.status_code == 403

    project = demo.advance(county, project, S.UNDER_ACCEPTANCE)
    panel = draw_acceptance_panel(project, county.users["staff"], seed="contract")
    member = panel.members.first()
    client.force_login(member)
    page = client.get(reverse("project", args=[project.pk])).content.decode()
    assert "Task contract targets: target against achieved" in page
    assert "病虫害识别准确率" in page and "92.5" in page and "5200" in page


def test_the_service_refuses_bad_achieved_values_whatever_the_path(county, draft):
    """The API or a command hands values straight to the service: it checks them itself."""
    from django.core.exceptions import ValidationError

    from funding.contracts import report_achieved

    project = demo.advance(county, draft, S.ACCEPTANCE_REQUESTED)
    targets = list(contract_of(project).targets.all())
    before = [(t.achieved_value, t.note) for t in targets]
    for bad_value, bad_note in [
        (Decimal("NaN"), ""),
        (Decimal("-1"), ""),
        (Decimal("1e20"), ""),
        (Decimal("1.00001"), ""),
        ("12", ""),
        (Decimal("1"), "x" * 501),
        (Decimal("1"), "坏\x00字符"),
    ]:
        values = {t.pk: (Decimal("1"), "") for t in targets}
        values[targets[0].pk] = (bad_value, bad_note)
        with pytest.raises(ValidationError):
            report_achieved(project, project.pi, values)
    after = [(t.achieved_value, t.note) for t in contract_of(project).targets.all()]
    assert after == before


def test_acceptance_is_refused_until_every_target_has_its_achieved_value(client, county, draft):
    project = demo.advance(county, draft, S.IN_PROGRESS)
    contract_of(project).targets.update(achieved_value=None)
    client.force_login(project.pi)
    report = {"title": "稻田灌溉科技报告", "abstract": "完成全部考核指标。", "access": "open"}
    page = act(client, project, "request_acceptance", **report).content
    assert "Report the achieved value of every task contract target first." in page.decode()
    project.refresh_from_db()
    assert project.status == S.IN_PROGRESS
