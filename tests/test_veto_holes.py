"""The veto without holes: every actor identified, checked when they act, sanctions that
start later bite on their day, suspensions honour the gates, resuming passes the veto.

Each hole is tried through the pages as the role concerned, then shown closed.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from funding.models import ExpertAssignment
from funding.states import ProjectStatus as S
from integrity.models import Gate, Sanction, Severity, SubjectKind, VetoCheck
from integrity.policy import VetoRefused
from integrity.services import record_sanction, revoke_sanction
from integrity.tasks import enforce_sanctions_in_force
from oversight.inspections import draw_inspections
from oversight.models import AuditEngagement, InspectionResult
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo
from workflows.actions import inbox, perform

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def client(client, settings):
    """Pages in English, so the assertions read as the messages do."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def ban(county, user_or_org, *, gates=tuple(Gate), severity=Severity.SERIOUS, **terms):
    person = isinstance(user_or_org, User)
    values = {
        "subject_kind": SubjectKind.PERSON if person else SubjectKind.ORGANISATION,
        "subject_id": user_or_org.id_number if person else user_or_org.credit_code,
        "subject_name": str(user_or_org),
        "severity": severity,
        "measures": ["ban"],
        "gates": [Gate(g).value for g in gates],
        "decision_no": f"示科信〔2026〕{Sanction.objects.count() + 40}号",
        "reason": "伪造实验数据",
        "starts_on": TODAY - DAY,
        "ends_on": TODAY + 700 * DAY,
        **terms,
    }
    return record_sanction(Sanction(**values), county.users["integrity"])


def act(client, project, name, **fields):
    data = {f"{name}-{key}": value for key, value in fields.items()}
    return client.post(reverse("project-action", args=[project.pk, name]), data, follow=True)


def said(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request)) or (
        response.content.decode()
    )


def refused_checks(project, gate):
    return VetoCheck.objects.filter(
        object_type="funding.project", object_id=str(project.pk), gate=gate, passed=False
    )


def without_identity(user):
    User.objects.filter(pk=user.pk).update(id_number="")
    user.refresh_from_db()
    return user


# --- every person identified -----------------------------------------------------------


def test_an_applicant_without_an_id_number_cannot_file_until_it_is_on_the_account(client, county):
    applicant = without_identity(county.users["applicant2"])
    client.force_login(applicant)
    today = timezone.localdate()
    form = {
        "title": "无身份证号的申报",
        "field": "智能制造",
        "summary": "摘要",
        "start_date": today.isoformat(),
        "end_date": (today + 400 * DAY).isoformat(),
        "requested_amount": "100000",
        "equipment": "30000",
        "operations": "40000",
        "labour": "20000",
        "indirect": "10000",
        "team": "",
    }
    response = client.post(reverse("apply", args=[county.call.pk]), form)
    assert response.status_code == 200
    assert "no ID number on the account" in response.content.decode()
    assert not applicant.projects_led.exists()
    assert reverse("account-identity") in response.content.decode()


def test_a_pi_whose_number_is_missing_is_refused_at_submission_and_the_check_says_why(
    client, county, draft
):
    pi = without_identity(draft.pi)
    client.force_login(pi)
    response = act(client, draft, "submit", commitment="on")
    assert "Identity check refused: PI 陈研究员 has no ID number on record" in said(response)
    draft.refresh_from_db()
    assert draft.status == S.DRAFT
    check = refused_checks(draft, Gate.APPLY).get()
    assert check.unidentified == [{"kind": "person", "name": "陈研究员", "as": "PI"}]


def test_an_expert_without_an_id_number_cannot_be_assigned(client, county, draft):
    project = demo.advance(county, draft, S.FORMAL_CHECK)
    u = county.users
    without_identity(u["expert3"])
    client.force_login(u["staff"])
    experts = [u["expert1"].pk, u["expert2"].pk, u["expert3"].pk]
    response = act(client, project, "pass_formal_check", experts=experts)
    assert "Expert 郑高工 has no ID number on record" in said(response)
    assert not ExpertAssignment.objects.filter(project=project).exists()


def test_an_audit_firm_without_a_credit_code_is_refused(county, draft):
    project = demo.advance(county, draft, S.ACCEPTANCE_REQUESTED)
    firm = county.orgs["firm"]
    type(firm).objects.filter(pk=firm.pk).update(credit_code="")
    firm.refresh_from_db()
    staff = county.users["staff"]
    with pytest.raises(VetoRefused, match="no unified social credit code"):
        perform(project.pk, "appoint_audit", staff, firm=firm, auditor=county.users["auditor"])
    assert not AuditEngagement.objects.filter(project=project).exists()


# --- checked when they act ---------------------------------------------------------------


def test_an_expert_sanctioned_after_assignment_cannot_score(client, county, draft):
    project = demo.advance(county, draft, S.EXPERT_REVIEW)
    expert = county.users["expert2"]
    ban(county, expert, gates=[Gate.REVIEW])
    client.force_login(expert)
    response = client.post(
        reverse("project-review", args=[project.pk]),
        {"no_conflict": "on", "score": "90", "opinion": "很好"},
        follow=True,
    )
    assert "One-vote veto: Expert 吴研究员 is barred" in said(response)
    assignment = ExpertAssignment.objects.get(project=project, expert=expert)
    assert assignment.submitted_at is None and assignment.score is None
    assert refused_checks(project, Gate.REVIEW).get().checked_by == expert


def test_a_firm_sanctioned_mid_audit_cannot_issue_its_opinion_and_staff_replace_it(
    client, county, draft, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)  # the audit reports
    project = demo.advance(county, draft, S.UNDER_AUDIT)
    ban(county, county.orgs["firm"], gates=[Gate.AUDIT])
    client.force_login(county.users["auditor"])
    response = act(client, project, "issue_audit_opinion", opinion="unqualified", findings="无")
    assert "Audit firm 明信会计师事务所 is barred" in said(response)
    project.refresh_from_db()
    assert project.status == S.UNDER_AUDIT
    assert AuditEngagement.objects.get(project=project).opinion == ""

    client.force_login(county.users["staff"])
    act(
        client,
        project,
        "reappoint_audit",
        firm=county.orgs["firm2"].pk,
        auditor=county.users["auditor2"].pk,
        reason="原事务所被列入失信名单",
    )
    assert [t.flow_task.name for t in inbox(county.users["auditor2"])] == ["audit"]
    assert not inbox(county.users["auditor"]).exists()
    client.force_login(county.users["auditor2"])
    report = SimpleUploadedFile("审计报告.pdf", demo.DEMO_PDF)  # the new firm's own (issue 8)
    client.post(reverse("audit-report-upload", args=[project.pk]), {"file": report})
    act(client, project, "issue_audit_opinion", opinion="unqualified", findings="账实相符")
    project.refresh_from_db()
    assert project.status == S.UNDER_ACCEPTANCE


def test_a_sanctioned_expert_cannot_sit_on_the_acceptance_panel(client, county, draft):
    project = demo.advance(county, draft, S.UNDER_ACCEPTANCE)
    u = county.users
    client.force_login(u["staff"])
    client.post(reverse("panel-draw", args=[project.pk]), {"panel_draw-size": "5"})
    ban(county, u["expert4"], gates=[Gate.REVIEW])  # drawn, then barred: refused as they vote
    client.force_login(u["expert4"])
    verdict = {"task_verdict": "pass", "finance_verdict": "pass", "opinion": "同意通过。"}
    response = client.post(
        reverse("panel-vote", args=[project.pk]),
        {f"verdict-{k}": v for k, v in verdict.items()},
        follow=True,
    )
    assert "Panel member 孙教授 is barred" in said(response)
    client.force_login(u["staff"])
    act(client, project, "conclude_acceptance", conclusion="passed")
    project.refresh_from_db()
    assert project.status == S.UNDER_ACCEPTANCE and not project.acceptances.exists()


def test_a_panel_needs_five_distinct_experts(client, county, draft):
    project = demo.advance(county, draft, S.UNDER_ACCEPTANCE)
    client.force_login(county.users["staff"])
    response = act(client, project, "conclude_acceptance", conclusion="failed")
    assert "Draw the acceptance panel first" in said(response)
    response = client.post(
        reverse("panel-draw", args=[project.pk]), {"panel_draw-size": "2"}, follow=True
    )
    assert "An acceptance panel has at least 5 members" in said(response)
    project.refresh_from_db()
    assert project.status == S.UNDER_ACCEPTANCE and not project.acceptance_panels.exists()


def test_a_sanctioned_or_unidentified_expert_is_never_drawn_as_an_inspector(county):
    u = county.users
    for n in range(3):
        demo.advance(
            county, demo.draft_project(county, "applicant", f"在研{n}", "300000"), S.IN_PROGRESS
        )
    ban(county, u["expert1"], gates=[Gate.REVIEW])
    without_identity(u["expert2"])
    for seed in ("a", "b", "c", "d", "e", "f"):
        draw = draw_inspections(u["staff"], 1, 3, seed=seed)
        drawn = set(draw.inspectors.values_list("pk", flat=True))
        assert drawn.isdisjoint({u["expert1"].pk, u["expert2"].pk})
        assert u["expert1"].pk not in draw.inspector_pool
    event = history_of(draw).get(kind=EventKind.INSPECTION_DRAWN)
    assert event.data["excluded"] == {
        "no_identity": [u["expert2"].pk],
        "sanctioned": [u["expert1"].pk],
    }


def test_an_inspector_sanctioned_after_the_draw_cannot_record_a_result(client, county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "抽查", "300000"), S.IN_PROGRESS
    )
    draw = draw_inspections(county.users["staff"], 1, 1, seed="x")
    inspector = draw.inspectors.get()
    ban(county, inspector, gates=[Gate.REVIEW])
    client.force_login(inspector)
    response = client.post(
        reverse("inspection-record", args=[draw.pk, project.pk]),
        {f"{project.pk}-conclusion": "compliant", f"{project.pk}-finding": "合规"},
        follow=True,
    )
    assert "One-vote veto: Inspector" in said(response)
    assert not InspectionResult.objects.exists()
    assert refused_checks(project, Gate.REVIEW).exists()


# --- a sanction that starts later bites on its day; suspensions honour the gates ---------


def test_a_sanction_starting_later_suspends_on_its_day_once(county, draft):
    running = demo.advance(county, draft, S.IN_PROGRESS)
    waiting = demo.advance(
        county, demo.draft_project(county, "applicant", "待签合同", "300000"), S.APPROVED
    )
    applicant = county.users["applicant"]
    later = ban(county, applicant, gates=[Gate.APPLY], starts_on=TODAY + 3 * DAY)
    assert enforce_sanctions_in_force.delay().get() == 0  # not yet
    running.refresh_from_db()
    assert running.status == S.IN_PROGRESS

    Sanction.objects.filter(pk=later.pk).update(starts_on=TODAY)  # the day has come
    assert enforce_sanctions_in_force.delay().get() == 1
    for project in (running, waiting):
        project.refresh_from_db()
        assert project.status == S.SUSPENDED
        event = history_of(project).filter(kind=EventKind.PROJECT_TRANSITION).last()
        assert event.actor_name == "system" and event.data["sanction"] == later.pk
    assert enforce_sanctions_in_force.delay().get() == 0  # idempotent
    later.refresh_from_db()
    assert later.enforced_on == TODAY
    assert history_of(later).filter(kind=EventKind.SANCTION_ENFORCED).count() == 1


def test_moving_the_start_to_today_bites_when_saved(
    county, draft, django_capture_on_commit_callbacks
):
    running = demo.advance(county, draft, S.IN_PROGRESS)
    later = ban(county, county.users["applicant"], starts_on=TODAY + 30 * DAY)
    later.starts_on = TODAY
    with django_capture_on_commit_callbacks(execute=True):
        record_sanction(later, county.users["integrity"])
    running.refresh_from_db()
    assert running.status == S.SUSPENDED


def test_a_sanction_barring_only_expert_work_does_not_suspend_the_persons_projects(
    county, draft, django_capture_on_commit_callbacks
):
    running = demo.advance(county, draft, S.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        ban(county, county.users["applicant"], gates=[Gate.REVIEW])
    running.refresh_from_db()
    assert running.status == S.IN_PROGRESS


def test_resuming_passes_the_veto_again(client, county, draft, django_capture_on_commit_callbacks):
    running = demo.advance(county, draft, S.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        sanction = ban(county, county.users["applicant"], gates=[Gate.DISBURSEMENT])
    running.refresh_from_db()
    assert running.status == S.SUSPENDED

    client.force_login(county.users["staff"])
    response = act(client, running, "resume", reason="单位已说明情况")
    assert "One-vote veto" in said(response)
    running.refresh_from_db()
    assert running.status == S.SUSPENDED
    assert refused_checks(running, Gate.DISBURSEMENT).exists()

    revoke_sanction(sanction, "复查撤销", county.users["integrity"])
    act(client, running, "resume", reason="处理决定已撤销")
    running.refresh_from_db()
    assert running.status == S.IN_PROGRESS
    # The daily job does not suspend it again: the sanction acted once.
    assert enforce_sanctions_in_force.delay().get() == 0


def test_a_project_held_before_its_contract_can_be_vetoed(
    county, draft, django_capture_on_commit_callbacks
):
    project = demo.advance(county, draft, S.APPROVED)
    with django_capture_on_commit_callbacks(execute=True):
        ban(county, county.users["applicant"], gates=[Gate.APPLY])
    project.refresh_from_db()
    assert project.status == S.SUSPENDED
    project = perform(project.pk, "veto", county.users["staff"])
    assert project.status == S.VETOED


# --- overrides ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "terms",
    [
        {"severity": Severity.SEVERE, "ends_on": TODAY + 1200 * DAY},
        {"severity": Severity.SERIOUS},  # a 禁止承担 ban, whatever the severity
    ],
    ids=["severe", "ban"],
)
def test_no_override_for_a_serious_case_or_a_ban(client, county, draft, terms):
    project = demo.advance(county, draft, S.APPROVED)
    sanction = ban(county, county.users["applicant"], gates=[Gate.CONTRACT], **terms)
    client.force_login(county.users["staff"])
    act(client, project, "sign_contract")
    response = client.post(
        reverse("override-ask", args=[project.pk]),
        {"gate": "contract", "sanction": sanction.pk, "reason": "县政府会议决定"},
        follow=True,
    )
    assert "never overridden" in said(response)
    assert not sanction.overrides.exists()


def test_an_override_is_bound_to_its_sanction(county, draft):
    from integrity.overrides import approve_override, request_override

    project = demo.advance(county, draft, S.APPROVED)
    applicant, staff, leader = (county.users[k] for k in ("applicant", "staff", "leader"))

    def terminate(user, no):
        return record_sanction(
            Sanction(
                subject_kind=SubjectKind.PERSON,
                subject_id=user.id_number,
                subject_name=str(user),
                severity=Severity.SERIOUS,
                measures=["terminate"],
                gates=[Gate.CONTRACT.value],
                decision_no=no,
                reason="违约",
                starts_on=TODAY - DAY,
            ),
            county.users["integrity"],
        )

    first = terminate(applicant, "示科信〔2026〕61号")
    override = request_override(project, Gate.CONTRACT, first, "专题会议决定", staff)
    approve_override(override, project, leader)
    # Another sanction comes in: the override answers only the first.
    second = terminate(applicant, "示科信〔2026〕62号")
    with pytest.raises(VetoRefused, match="One-vote veto"):
        perform(project.pk, "sign_contract", staff)
    override.refresh_from_db()
    assert override.status == "approved"  # not used up by the other refusal
    second_override = request_override(project, Gate.CONTRACT, second, "同上", staff)
    approve_override(second_override, project, leader)
    project = perform(project.pk, "sign_contract", staff)
    assert project.status == S.CONTRACTED
    check = VetoCheck.objects.filter(overrides=override).get()
    assert set(check.overrides.values_list("pk", flat=True)) == {override.pk, second_override.pk}


def test_the_integrity_officer_finds_proposed_cases_in_the_inbox(client, county):
    from oversight.overdue import propose_overdue_acceptance_cases

    late = demo.draft_project(
        county,
        "applicant2",
        "逾期未验收",
        "260000",
        start_date=TODAY - 940 * DAY,
        end_date=TODAY - 240 * DAY,
    )
    demo.advance(county, late, S.IN_PROGRESS)
    assert propose_overdue_acceptance_cases() == 1
    client.force_login(county.users["integrity"])
    page = client.get(reverse("inbox")).content.decode()
    assert 'data-testid="inbox-cases"' in page and "刘工程师" in page
    client.force_login(county.users["staff"])
    assert 'data-testid="inbox-cases"' not in client.get(reverse("inbox")).content.decode()


def test_the_applicant_sees_neither_reviewers_nor_their_refusals_on_the_project_page(
    client, county, draft
):
    """Confidential reviews: the PI sees that reviews came in, not who gave which score,
    nor that an expert of theirs was refused by the veto (that would name the expert)."""
    from workflows.actions import submit_expert_review

    project = demo.advance(county, draft, S.EXPERT_REVIEW)
    u = county.users
    submit_expert_review(project.pk, u["expert1"], 77, "可行", no_conflict=True)
    ban(county, u["expert2"], gates=[Gate.REVIEW])
    with pytest.raises(VetoRefused):
        submit_expert_review(project.pk, u["expert2"], 66, "可行", no_conflict=True)

    client.force_login(project.pi)
    page = client.get(reverse("project", args=[project.pk])).content.decode()
    assert "Expert review submitted" in page and "An expert" in page
    for secret in ("周教授", "吴研究员", " · 77", "is barred"):
        assert secret not in page, secret

    client.force_login(u["staff"])
    page = client.get(reverse("project", args=[project.pk])).content.decode()
    assert "周教授" in page and " · 77" in page
    assert "Expert 吴研究员 is barred" in page


@pytest.mark.parametrize(
    "wrong",
    [
        {"measures": 5},
        {"measures": "ban"},
        {"gates": ["bogus"]},
        {"gates": {"apply": True}},
        {"starts_on": "2026-01-01"},
        {"starts_on": None},
        {"ends_on": 20270101},
    ],
    ids=[
        "measures-int",
        "measures-str",
        "unknown-gate",
        "gates-dict",
        "date-str",
        "no-start",
        "end-int",
    ],
)
def test_a_sanction_of_the_wrong_shape_is_a_clear_error_on_every_path(county, wrong):
    """The service every path calls (pages, admin, case decisions, commands) refuses it."""
    from django.core.exceptions import ValidationError

    applicant = county.users["applicant"]
    values = {
        "subject_kind": SubjectKind.PERSON,
        "subject_id": applicant.id_number,
        "subject_name": "陈研究员",
        "severity": Severity.SERIOUS,
        "measures": ["ban"],
        "gates": ["apply"],
        "decision_no": "示科信〔2026〕90号",
        "reason": "伪造数据",
        "starts_on": TODAY,
        "ends_on": TODAY + 700 * DAY,
        **wrong,
    }
    with pytest.raises(ValidationError):
        record_sanction(Sanction(**values), county.users["integrity"])
    assert not Sanction.objects.exists()


def test_a_missing_id_number_stops_the_gate_but_is_no_ground_for_the_veto(county, draft):
    from integrity.policy import NothingToVeto

    project = demo.advance(county, draft, S.SUBMITTED)  # submitted and recommended
    without_identity(project.pi)
    staff = county.users["staff"]
    with pytest.raises(VetoRefused, match="has no ID number"):
        perform(project.pk, "accept_application", staff)
    with pytest.raises(NothingToVeto):
        perform(project.pk, "veto", staff)
    project.refresh_from_db()
    assert project.status == S.SUBMITTED


def test_refused_forms_on_the_project_page_come_back_as_typed(client, county, draft):
    """A refusal by the service (the veto, a rule) or by the form keeps what was typed."""
    u = county.users
    project = demo.advance(county, draft, S.UNDER_AUDIT)
    client.force_login(u["staff"])
    # The auditor is not of that firm: refused by the service, the reason stays.
    response = act(
        client,
        project,
        "reappoint_audit",
        firm=county.orgs["firm2"].pk,
        auditor=u["auditor"].pk,
        reason="原事务所被列入失信名单（保留）",
    )
    page = response.content.decode()
    assert response.redirect_chain == [] and "原事务所被列入失信名单（保留）" in page
    assert "lead auditor must be an auditor of that firm" in page

    # An override for a ban: refused, the written reason stays.
    approved = demo.advance(
        county, demo.draft_project(county, "applicant2", "待签合同", "300000"), S.APPROVED
    )
    sanction = ban(county, u["applicant2"], gates=[Gate.CONTRACT])
    act(client, approved, "sign_contract")
    response = client.post(
        reverse("override-ask", args=[approved.pk]),
        {"gate": "contract", "sanction": sanction.pk, "reason": "县政府专题会议（保留）"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "县政府专题会议（保留）" in page
    assert "never overridden" in page


def test_a_refused_review_keeps_the_experts_opinion(client, county, draft):
    project = demo.advance(county, draft, S.EXPERT_REVIEW)
    expert = county.users["expert1"]
    client.force_login(expert)
    response = client.post(
        reverse("project-review", args=[project.pk]),
        {"score": "88", "opinion": "技术路线可行（保留）"},  # no declaration of no conflict
    )
    page = response.content.decode()
    assert response.status_code == 200 and "技术路线可行（保留）" in page
    assert 'value="88"' in page
    assert not ExpertAssignment.objects.get(project=project, expert=expert).submitted_at


def test_staff_cannot_record_a_result_for_an_inspector_sanctioned_since_the_draw(county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "抽查二", "300000"), S.IN_PROGRESS
    )
    draw = draw_inspections(county.users["staff"], 1, 1, seed="y")
    ban(county, draw.inspectors.get(), gates=[Gate.REVIEW])
    from oversight.inspections import record_result

    with pytest.raises(VetoRefused, match="Inspector"):
        record_result(draw, project, county.users["staff"], "compliant", "合规")
    assert not InspectionResult.objects.exists()
    assert refused_checks(project, Gate.REVIEW).get().checked_by == county.users["staff"]
