"""The case procedure in detail (DESIGN §4 "Procedure details").

Minor decisions, hearing the respondent as a record of its own, 申诉 and 复查 with their
deadlines, unique decision numbers, the public list of final serious decisions, and
cases proposed by an overdue acceptance.
"""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from funding.models import Project
from funding.states import ProjectStatus as S
from integrity.models import (
    Appeal,
    CaseStatus,
    DecisionLetter,
    Gate,
    Measure,
    MisconductCase,
    RespondentHearing,
    Sanction,
    Severity,
    SubjectKind,
)
from integrity.services import record_sanction
from oversight.overdue import months_before, propose_overdue_acceptance_cases
from trail.kinds import EventKind
from trail.models import Event
from workflows import demo

from .cases_support import (
    DAY,
    TODAY,
    ban,
    barred,
    decide,
    decided,
    heard,
    new_case,
    officer,
    step,
)

pytestmark = pytest.mark.django_db
APPEAL_DAYS = datetime.timedelta(days=settings.APPEAL_DAYS)
REVIEW_DAYS = datetime.timedelta(days=settings.REVIEW_DAYS)


def post_step(client, case, name, **fields):
    data = {}
    for key, value in fields.items():
        if isinstance(value, datetime.date):
            value = value.isoformat()
        data[f"{name}-{key}"] = value
    return client.post(reverse("case-step", args=[case.pk, name]), data)


@pytest.fixture
def as_officer(client, county):
    client.force_login(officer(county))
    client.cookies["django_language"] = "en"  # messages in English, whatever is compiled
    return client


# --- minor cases (情节较轻) ---


@pytest.mark.parametrize(
    "measures, rectify_by",
    [
        (["talk"], None),
        (["criticism"], None),
        (["talk", "suspend_rectify"], TODAY + 60 * DAY),
    ],
)
def test_a_minor_case_is_decided_without_gates_and_the_veto_does_not_refuse(
    as_officer, county, measures, rectify_by
):
    case = heard(county)
    fields = {
        "severity": "minor",
        "measures": measures,
        "starts_on": TODAY,
        "decision_no": "示科信〔2026〕21号",
        "legal_basis": "《科研失信行为调查处理规则》",
        "reason": "申报材料引用不规范，情节较轻。",
        "served_on": TODAY,
    }
    if rectify_by:
        fields["rectify_by"] = rectify_by
    response = post_step(as_officer, case, "decide", **fields)
    assert response.status_code == 302
    case.refresh_from_db()
    sanction = case.sanction
    assert case.status == CaseStatus.DECIDED
    assert sanction.severity == Severity.MINOR and sanction.measures == measures
    assert sanction.gates == [] and sanction.rectify_by == rectify_by
    assert sanction.subject_unit == "浙东智能装备有限公司"
    assert not barred(county)


@pytest.mark.parametrize("rectify_by", [None, TODAY, TODAY - DAY])
def test_a_suspension_needs_a_rectification_deadline_ahead(as_officer, county, rectify_by):
    case = heard(county)
    fields = {
        "severity": "minor",
        "measures": ["suspend_rectify"],
        "starts_on": TODAY,
        "decision_no": "示科信〔2026〕22号",
        "legal_basis": "依据",
        "reason": "未按期整改。",
        "served_on": TODAY,
    }
    if rectify_by:
        fields["rectify_by"] = rectify_by
    response = post_step(as_officer, case, "decide", **fields)
    assert response.status_code == 200  # the form again, with what was typed
    page = response.content.decode()
    assert "未按期整改。" in page and "示科信〔2026〕22号" in page
    assert not Sanction.objects.exists() and not DecisionLetter.objects.exists()


def test_a_minor_case_takes_no_ban(county):
    case = heard(county)
    with pytest.raises(ValidationError):
        decide(county, case, severity=Severity.MINOR, measures=[Measure.TALK, Measure.BAN])
    assert not Sanction.objects.exists()


# --- hearing the respondent ---


def test_no_decision_before_the_hearing_then_after_the_statement(as_officer, county, english):
    case = new_case(county)
    step(county, case, "accept")
    response = post_step(as_officer, case, "decide", **ban(served_on=TODAY))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hear the respondent first" in page
    assert 'data-step="decide"' not in page  # offered once the hearing is on record
    assert not Sanction.objects.exists()

    assert (
        post_step(as_officer, case, "notify_respondent", reply_by=TODAY + 7 * DAY).status_code
        == 302
    )
    assert (
        post_step(
            as_officer,
            case,
            "record_statement",
            statement="本人对举报内容有异议。",
            received_on=TODAY,
        ).status_code
        == 302
    )
    hearing = RespondentHearing.objects.get(case=case)
    assert hearing.statement == "本人对举报内容有异议。" and hearing.heard
    assert post_step(as_officer, case, "decide", **ban(served_on=TODAY)).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED


def test_a_deadline_to_reply_in_the_past_is_refused_and_nothing_stored(as_officer, county):
    case = new_case(county)
    step(county, case, "accept")
    response = post_step(as_officer, case, "notify_respondent", reply_by=TODAY - DAY)
    assert response.status_code == 200
    assert (TODAY - DAY).isoformat() in response.content.decode()
    assert not RespondentHearing.objects.exists()
    with pytest.raises(ValidationError):
        step(county, case, "notify_respondent", reply_by=TODAY - DAY)


def test_a_statement_cannot_be_dated_in_the_future(county):
    case = new_case(county)
    step(county, case, "accept")
    step(county, case, "notify_respondent", reply_by=TODAY + 5 * DAY)
    with pytest.raises(ValidationError):
        step(county, case, "record_statement", statement="陈述", received_on=TODAY + DAY)
    assert not RespondentHearing.objects.get(case=case).heard


def test_the_lapse_is_recorded_only_after_the_deadline_and_then_allows_a_decision(county):
    case = new_case(county)
    step(county, case, "accept")
    with pytest.raises(ValidationError):  # not even notified
        step(county, case, "record_lapse")
    step(county, case, "notify_respondent", reply_by=TODAY)
    with pytest.raises(ValidationError, match=TODAY.isoformat()):
        step(county, case, "record_lapse")
    # Two weeks later, as if: the deadline has passed without a statement.
    RespondentHearing.objects.filter(case=case).update(
        notified_on=TODAY - 14 * DAY, reply_by=TODAY - DAY
    )
    step(county, case, "record_lapse")
    hearing = RespondentHearing.objects.get(case=case)
    assert hearing.lapsed_on == TODAY and not hearing.statement
    with pytest.raises(ValidationError):  # heard once: no statement after the lapse
        step(county, case, "record_statement", statement="迟到的陈述", received_on=TODAY)
    assert decide(county, case).status == CaseStatus.DECIDED


# --- 申诉 and 复查 ---


def test_an_appeal_within_the_period_keeps_the_veto_until_answered(county):
    case = decided(county, served_on=TODAY - APPEAL_DAYS)
    assert barred(county)
    step(county, case, "appeal", filed_on=TODAY, grounds="事实认定有误。")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPEALED and case.sanction.under_appeal
    assert barred(county)  # an appeal does not lift the veto
    assert not case.is_final()
    step(county, case, "uphold_on_appeal", answered_on=TODAY, reason="证据确凿，维持原决定。")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPEAL_ANSWERED and not case.sanction.under_appeal
    # Upheld on appeal, but a review (复查) may still be asked for: final once that period ends.
    assert barred(county) and not case.is_final()
    assert case.is_final(TODAY + REVIEW_DAYS + DAY)
    assert list(MisconductCase.objects.final(TODAY + REVIEW_DAYS + DAY)) == [case]
    assert not MisconductCase.objects.final().exists()


def test_an_appeal_after_the_period_is_refused_naming_the_deadline(as_officer, county):
    served = TODAY - APPEAL_DAYS - DAY
    case = decided(county, served_on=served)
    deadline = (served + APPEAL_DAYS).isoformat()
    with pytest.raises(ValidationError, match=deadline):
        step(county, case, "appeal", filed_on=TODAY, grounds="逾期申诉")
    response = post_step(as_officer, case, "appeal", filed_on=TODAY, grounds="逾期申诉")
    assert response.status_code == 200
    page = response.content.decode()
    assert deadline in page and "逾期申诉" in page
    assert not Appeal.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED and case.is_final()


def test_a_review_within_its_period_keeps_the_veto_and_a_revocation_lifts_it(county):
    case = decided(county, served_on=TODAY - 20 * DAY)
    step(county, case, "appeal", filed_on=TODAY - 19 * DAY, grounds="申诉")
    step(county, case, "uphold_on_appeal", answered_on=TODAY - REVIEW_DAYS, reason="维持")
    step(
        county, case, "request_review", filed_on=TODAY, grounds="复查", authority="示范市科学技术局"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.UNDER_REVIEW and case.sanction.under_appeal
    assert barred(county) and not case.is_final()
    step(county, case, "revoke_on_review", answered_on=TODAY, reason="复查认定证书真实。")
    case.refresh_from_db()
    sanction = case.sanction
    assert case.status == CaseStatus.REVOKED and sanction.status == Sanction.Status.REVOKED
    assert "复查认定证书真实。" in sanction.revoked_reason and not sanction.under_appeal
    assert not barred(county) and not case.is_final()
    review = case.appeals.get(kind=Appeal.Kind.REVIEW)
    assert review.outcome == Appeal.Outcome.REVOKED and review.authority == "示范市科学技术局"


def test_a_review_after_its_period_is_refused(county):
    case = decided(county, served_on=TODAY - 40 * DAY)
    step(county, case, "appeal", filed_on=TODAY - 30 * DAY, grounds="申诉")
    answered = TODAY - REVIEW_DAYS - DAY
    step(county, case, "uphold_on_appeal", answered_on=answered, reason="维持")
    with pytest.raises(ValidationError, match=(answered + REVIEW_DAYS).isoformat()):
        step(county, case, "request_review", filed_on=TODAY, grounds="复查", authority="市局")
    case.refresh_from_db()
    assert case.status == CaseStatus.APPEAL_ANSWERED
    assert not case.appeals.filter(kind=Appeal.Kind.REVIEW).exists()
    assert case.is_final() and list(MisconductCase.objects.final()) == [case]


def test_a_review_upheld_makes_the_decision_final(county):
    case = decided(county)
    step(county, case, "appeal", filed_on=TODAY, grounds="申诉")
    step(county, case, "uphold_on_appeal", answered_on=TODAY, reason="维持")
    step(county, case, "request_review", filed_on=TODAY, grounds="复查", authority="市局")
    step(county, case, "uphold_on_review", answered_on=TODAY, reason="维持")
    case.refresh_from_db()
    assert case.status == CaseStatus.UPHELD and case.is_final() and barred(county)
    assert list(MisconductCase.objects.final()) == [case]


def test_filings_and_answers_keep_their_order(county):
    case = decided(county, served_on=TODAY - DAY)
    with pytest.raises(ValidationError):  # before the letter was served
        step(county, case, "appeal", filed_on=TODAY - 2 * DAY, grounds="申诉")
    with pytest.raises(ValidationError):  # in the future
        step(county, case, "appeal", filed_on=TODAY + DAY, grounds="申诉")
    step(county, case, "appeal", filed_on=TODAY, grounds="申诉")
    with pytest.raises(ValidationError):
        step(county, case, "uphold_on_appeal", answered_on=TODAY - DAY, reason="维持")


# --- decision numbers ---


def test_a_duplicate_decision_number_is_a_form_error_and_nothing_is_stored(as_officer, county):
    decided(county, decision_no="示科信〔2026〕9号")
    second = heard(county, reporter="李某")
    # Full-width digits and spaces make no new number.
    response = post_step(
        as_officer, second, "decide", **ban(decision_no=" 示科信〔２０２６〕9号 ", served_on=TODAY)
    )
    assert response.status_code == 200
    assert "示科信〔2026〕9号 is already used" in response.content.decode()
    assert "提供虚假申报材料。" in response.content.decode()
    assert Sanction.objects.count() == 1 and DecisionLetter.objects.count() == 1
    second.refresh_from_db()
    assert second.status == CaseStatus.INVESTIGATING and not second.decision_no


def test_a_decision_number_of_the_register_is_taken_too(county):
    record_sanction(
        Sanction(
            subject_kind=SubjectKind.PERSON,
            subject_id=county.users["vetoed"].id_number,
            subject_name="孙某",
            severity=Severity.SEVERE,
            measures=[Measure.BAN],
            gates=[Gate.APPLY],
            decision_no="示科信〔2026〕3号",
            reason="外局决定",
            starts_on=TODAY,
            ends_on=TODAY.replace(year=TODAY.year + 4),
        ),
        officer(county),
    )
    case = heard(county)
    with pytest.raises(ValidationError) as refused:
        decide(county, case, decision_no="示科信〔2026〕3号")
    assert "decision_no" in refused.value.message_dict
    assert Sanction.objects.count() == 1


# --- the public list of final serious decisions ---


def test_the_public_page_lists_final_serious_decisions_without_id_numbers(client, county):
    final = decided(county, served_on=TODAY - APPEAL_DAYS - DAY, decision_no="示科信〔2026〕31号")
    pending = decided(county, reporter="甲", decision_no="示科信〔2026〕32号")
    step(county, pending, "appeal", filed_on=TODAY, grounds="申诉")
    in_period = decided(county, reporter="乙", decision_no="示科信〔2026〕33号")
    minor = decide(
        county,
        heard(county, reporter="丙"),
        severity=Severity.MINOR,
        measures=[Measure.CRITICISM],
        gates=[],
        ends_on=None,
        decision_no="示科信〔2026〕34号",
        served_on=TODAY - APPEAL_DAYS - DAY,
    )
    assert minor.is_final() and final.is_final() and not in_period.is_final()

    response = client.get(reverse("decisions"))  # no login
    assert response.status_code == 200
    page = response.content.decode()
    assert "示科信〔2026〕31号" in page and "浙东智能装备有限公司" in page
    assert settings.BUREAU_NAME in page and "国科发监〔2022〕221号" in page
    for hidden in ("示科信〔2026〕32号", "示科信〔2026〕33号", "示科信〔2026〕34号"):
        assert hidden not in page
    number = county.users["applicant2"].id_number
    assert number not in page and number[-4:] + "<" not in page and "********" not in page


def test_the_public_page_is_paginated(client, county):
    for n in range(22):
        decided(
            county,
            reporter=f"举报人{n}",
            decision_no=f"示科信〔2026〕{100 + n}号",
            served_on=TODAY - APPEAL_DAYS - DAY,
        )
    first = client.get(reverse("decisions")).content.decode()
    second = client.get(reverse("decisions") + "?page=2").content.decode()
    assert first.count('data-testid="decision"') == 20
    assert second.count('data-testid="decision"') == 2


# --- acceptance long overdue proposes a case ---


@pytest.fixture
def overdue(county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "逾期未验收项目", "300000"), S.IN_PROGRESS
    )
    end = months_before(TODAY, settings.ACCEPTANCE_OVERDUE_CASE_MONTHS) - DAY
    Project.objects.filter(pk=project.pk).update(
        start_date=end - datetime.timedelta(days=700), end_date=end
    )
    project.refresh_from_db()
    return project


def test_an_overdue_acceptance_proposes_one_case_per_project(county, overdue):
    not_yet = demo.advance(
        county, demo.draft_project(county, "applicant2", "尚在期限内", "300000"), S.IN_PROGRESS
    )
    end = months_before(TODAY, settings.ACCEPTANCE_OVERDUE_CASE_MONTHS) + DAY
    Project.objects.filter(pk=not_yet.pk).update(start_date=end - 700 * DAY, end_date=end)
    assert propose_overdue_acceptance_cases() == 1
    assert propose_overdue_acceptance_cases() == 0
    call_command("propose_overdue_cases")
    case = MisconductCase.objects.get()
    pi = county.users["applicant"]
    assert case.status == CaseStatus.PROPOSED and case.opened_by is None
    assert case.respondent_kind == SubjectKind.PERSON and case.respondent_id == pi.id_number
    assert case.respondent_name == pi.real_name
    assert case.respondent_unit == overdue.applicant_org.name
    assert case.misconduct == "contract" and "逾期未验收项目" in case.allegation
    assert (case.source_type, case.source_id) == ("funding.project", str(overdue.pk))
    assert Event.objects.filter(kind=EventKind.CASE_TRANSITION, data__step="propose").count() == 1


def test_one_case_per_project_also_under_concurrency(county, overdue):
    propose_overdue_acceptance_cases()
    twin = MisconductCase.objects.get()
    twin.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_a_pi_without_an_id_number_leaves_the_organisation_to_answer(county, overdue):
    User.objects.filter(pk=overdue.pi_id).update(id_number="")
    propose_overdue_acceptance_cases()
    case = MisconductCase.objects.get()
    org = overdue.applicant_org
    assert case.respondent_kind == SubjectKind.ORGANISATION
    assert (case.respondent_id, case.respondent_name) == (org.credit_code, org.name)


def test_the_officer_sees_proposals_first_and_accepts_one(as_officer, county, overdue):
    new_case(county)
    propose_overdue_acceptance_cases()
    case = MisconductCase.objects.get(status=CaseStatus.PROPOSED)
    page = as_officer.get(reverse("cases")).content.decode()
    proposals = page.index('data-testid="proposed-cases"')
    waiting = page.index('data-testid="waiting-cases"')
    assert proposals < page.index("陈研究员") < waiting
    assert reverse("case", args=[case.pk]) in page[waiting:]  # waiting for you, too
    case_page = as_officer.get(reverse("case", args=[case.pk])).content.decode()
    assert reverse("project", args=[overdue.pk]) in case_page
    assert post_step(as_officer, case, "accept").status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING
    assert Event.objects.filter(object_id=str(case.pk), data__step="accept").exists()


def test_the_officer_dismisses_a_proposal_with_a_reason(as_officer, county, overdue):
    propose_overdue_acceptance_cases()
    case = MisconductCase.objects.get()
    response = post_step(as_officer, case, "dismiss", reason="")
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.PROPOSED
    post_step(as_officer, case, "dismiss", reason="项目已于逾期前书面申请延期并获批准。")
    case.refresh_from_db()
    assert case.status == CaseStatus.DISMISSED
    event = Event.objects.get(object_id=str(case.pk), data__step="dismiss")
    assert event.data["reason"] == "项目已于逾期前书面申请延期并获批准。"
    assert propose_overdue_acceptance_cases() == 0  # never proposed again


def test_others_cannot_see_or_act_on_cases(client, county, overdue):
    propose_overdue_acceptance_cases()
    case = MisconductCase.objects.get()
    for who in ("staff", "leader", "applicant"):
        client.force_login(county.users[who])
        assert client.get(reverse("cases")).status_code == 403
        assert client.get(reverse("case", args=[case.pk])).status_code == 403
        assert post_step(client, case, "dismiss", reason="x").status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.PROPOSED
