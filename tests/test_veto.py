"""The one-vote veto: an effective sanction refuses the gate, and every check is kept."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from funding.models import ExpertAssignment
from funding.states import ProjectStatus as S
from integrity.models import Gate, Sanction, Severity, SubjectKind, VetoCheck
from integrity.policy import VetoRefused
from integrity.services import record_sanction
from oversight.models import AuditEngagement
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo
from workflows.actions import perform
from workflows.lifecycle import TransitionRefused

pytestmark = pytest.mark.usefixtures("english")

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
TEAM_MEMBER_ID = demo.person_id(501)  # 黄助理, on every demo draft's team; has no account


def sanction(
    county, kind, identity, name, *, gates=tuple(Gate), decision="示科信〔2026〕7号", **kw
):
    values = {
        "severity": Severity.SERIOUS,
        "measures": ["ban"],
        "reason": "伪造实验数据",
        "starts_on": TODAY - 30 * DAY,
        "ends_on": TODAY + 365 * DAY,
        **kw,
    }
    return record_sanction(
        Sanction(
            subject_kind=kind,
            subject_id=identity,
            subject_name=name,
            gates=[Gate(g).value for g in gates],
            decision_no=decision,
            **values,
        ),
        county.users["integrity"],
    )


def ban_person(county, user, **kw):
    return sanction(county, SubjectKind.PERSON, user.id_number, user.real_name, **kw)


def ban_org(county, org, **kw):
    return sanction(county, SubjectKind.ORGANISATION, org.credit_code, org.name, **kw)


def checks(project, **filters):
    return VetoCheck.objects.filter(
        object_type="funding.project", object_id=str(project.pk), **filters
    )


def submit(project):
    return perform(project.pk, "submit", project.pi, commitment=True)


def assert_refused_at_submit(project, sanction_row) -> VetoRefused:
    with pytest.raises(VetoRefused) as refused:
        submit(project)
    project.refresh_from_db()
    assert project.status == S.DRAFT
    check = checks(project, gate=Gate.APPLY, passed=False).get()
    assert check.blocking == [sanction_row.pk]
    assert check.checked_by == project.pi
    event = history_of(project).get(kind=EventKind.VETO_CHECK)
    assert event.data["passed"] is False and event.data["check"] == check.pk
    assert not history_of(project).filter(kind=EventKind.PROJECT_TRANSITION).exists()
    assert sanction_row.decision_no in str(refused.value)
    return refused.value


def test_a_sanctioned_pi_is_refused_at_submission(county, draft, applicant):
    ban = demo.sanction_person(applicant, county.users["integrity"])
    refused = assert_refused_at_submit(draft, ban)
    assert str(refused).startswith("One-vote veto: PI 陈研究员 is barred until")
    assert "by decision 示科信〔2026〕3号" in str(refused)


def test_a_sanctioned_team_member_blocks_by_id_number(county, draft):
    ban = sanction(county, SubjectKind.PERSON, TEAM_MEMBER_ID, "黄助理")
    refused = assert_refused_at_submit(draft, ban)
    assert "Team member 黄助理" in str(refused)


def test_a_sanction_typed_with_a_lower_case_x_still_matches(county):
    member = "11010519491231002X"
    project = demo.draft_project(
        county, "applicant", "项目", "300000", team=[{"name": "张三", "id_number": member}]
    )
    ban = sanction(county, SubjectKind.PERSON, member.lower(), "张三")
    assert ban.subject_id == member
    assert_refused_at_submit(project, ban)


def test_a_sanction_on_the_applicant_organisation_blocks(county, draft):
    ban = ban_org(county, county.orgs["institute"], decision="示科信〔2026〕9号")
    refused = assert_refused_at_submit(draft, ban)
    assert "Applicant organisation 示范县农业科学研究所" in str(refused)


def test_a_sanction_under_appeal_still_blocks(county, draft, applicant):
    ban = ban_person(county, applicant, under_appeal=True)
    assert_refused_at_submit(draft, ban)


@pytest.mark.parametrize(
    "terms",
    [
        {"starts_on": TODAY - 1000 * DAY, "ends_on": TODAY - DAY},  # expired
        {"starts_on": TODAY + DAY, "ends_on": TODAY + 400 * DAY},  # not yet in force
        {"status": Sanction.Status.REVOKED},
        {"status": Sanction.Status.REPAIRED},
        {"gates": [Gate.REVIEW, Gate.AUDIT]},  # does not bar applying
    ],
    ids=["expired", "future", "revoked", "repaired", "other-gates"],
)
def test_a_sanction_that_does_not_cover_the_action_today_does_not_block(
    county, draft, applicant, terms
):
    ban = ban_person(county, applicant, **terms)
    project = submit(draft)
    assert project.status == S.UNIT_REVIEW  # on to the applicant's unit
    check = checks(project, gate=Gate.APPLY).get()
    assert check.passed and check.blocking == [] and ban.pk in check.consulted


def test_a_passed_check_is_recorded_with_what_was_checked(county, draft, applicant):
    submit(draft)
    check = checks(draft, gate=Gate.APPLY).get()
    assert check.passed and check.checked_by == applicant
    checked = {(s["as"], s["id"]) for s in check.subjects}
    assert checked == {
        ("Applicant organisation", county.orgs["institute"].credit_code),
        ("PI", applicant.id_number),
        ("Team member", TEAM_MEMBER_ID),
    }


def test_a_sanctioned_expert_cannot_be_assigned(county, draft):
    project = demo.advance(county, draft, S.FORMAL_CHECK)
    u = county.users
    ban = ban_person(county, u["expert2"], gates=[Gate.REVIEW])
    with pytest.raises(VetoRefused, match="Expert 吴研究员 is barred"):
        perform(
            project.pk,
            "pass_formal_check",
            u["staff"],
            experts=[u["expert1"], u["expert2"], u["expert3"]],
        )
    project.refresh_from_db()
    assert project.status == S.FORMAL_CHECK
    assert not ExpertAssignment.objects.filter(project=project).exists()
    assert checks(project, gate=Gate.REVIEW, passed=False).get().blocking == [ban.pk]


@pytest.mark.parametrize("subject", ["firm", "auditor"])
def test_a_sanctioned_audit_firm_or_auditor_cannot_be_appointed(county, draft, subject):
    project = demo.advance(county, draft, S.ACCEPTANCE_REQUESTED)
    firm, auditor = county.orgs["firm"], county.users["auditor"]
    if subject == "firm":
        ban_org(county, firm, gates=[Gate.AUDIT])
    else:
        ban_person(county, auditor, gates=[Gate.AUDIT])
    with pytest.raises(VetoRefused, match="is barred"):
        perform(project.pk, "appoint_audit", county.users["staff"], firm=firm, auditor=auditor)
    project.refresh_from_db()
    assert project.status == S.ACCEPTANCE_REQUESTED
    assert not AuditEngagement.objects.filter(project=project).exists()
    assert checks(project, gate=Gate.AUDIT, passed=False).exists()

    # Another firm, clean, can be appointed.
    project = perform(
        project.pk,
        "appoint_audit",
        county.users["staff"],
        firm=county.orgs["firm2"],
        auditor=county.users["auditor2"],
    )
    assert project.status == S.UNDER_AUDIT


def test_veto_moves_a_pre_contract_project_to_vetoed_only_when_a_sanction_bars_it(
    county, draft, staff, applicant
):
    project = demo.advance(county, draft, S.SUBMITTED)  # submitted and recommended
    with pytest.raises(ValidationError, match="No effective sanction bars this project"):
        perform(project.pk, "veto", staff)
    project.refresh_from_db()
    assert project.status == S.SUBMITTED

    demo.sanction_person(applicant, county.users["integrity"])
    project = perform(project.pk, "veto", staff)
    assert project.status == S.VETOED
    event = history_of(project).filter(kind=EventKind.PROJECT_TRANSITION).last()
    assert event.before == {"status": S.SUBMITTED} and event.after == {"status": S.VETOED}
    assert "示科信〔2026〕3号" in event.data["reasons"][0]


def test_veto_is_not_a_way_to_stop_a_contracted_project(county, draft, staff, applicant):
    project = demo.advance(county, draft, S.CONTRACTED)
    # Recorded without running its after-commit reaction, so the project stays contracted.
    ban_person(county, applicant, gates=[Gate.APPLY])
    with pytest.raises(TransitionRefused, match="no longer possible"):
        perform(project.pk, "veto", staff)
    project.refresh_from_db()
    assert project.status == S.CONTRACTED


def test_a_sanctioned_pi_stops_disbursement(county, draft, staff, applicant):
    project = demo.advance(county, draft, S.CONTRACTED)
    ban_person(county, applicant, gates=[Gate.DISBURSEMENT])
    with pytest.raises(VetoRefused):
        perform(project.pk, "disburse", staff, amount=project.approved_amount, tranche="首笔")
    project.refresh_from_db()
    assert project.status == S.CONTRACTED and project.disbursed_total == 0
    assert not project.disbursements.exists()
