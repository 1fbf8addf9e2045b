"""The misconduct case procedure: report → acceptance → investigation → decision → review.

A decision puts the sanction in the register, so the veto refuses the respondent at once;
an appeal does not lift it; a revocation on review does.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from funding.states import ProjectStatus as S
from integrity.cases import CaseRefused, open_case, take_step
from integrity.models import CaseStatus, Gate, MisconductCase, Sanction, Severity, SubjectKind
from integrity.policy import VetoRefused
from workflows import demo
from workflows.actions import perform

pytestmark = pytest.mark.django_db
TODAY = datetime.date.today()


def new_case(county, **fields):
    values = {
        "reporter": "王某（实名举报）",
        "respondent_kind": SubjectKind.PERSON,
        "respondent_id": county.users["applicant2"].id_number.lower(),
        "respondent_name": "刘工程师",
        "misconduct": "false_application",
        "allegation": "申报材料中的专利证书系伪造。",
        "evidence": "",
    }
    values.update(fields)
    return open_case(county.users["integrity"], MisconductCase(**values))


def decide(county, case, **fields):
    values = {
        "severity": Severity.SERIOUS,
        "gates": [g.value for g in Gate],
        "starts_on": TODAY,
        "ends_on": TODAY.replace(year=TODAY.year + 2),
        "decision_no": "示科信〔2026〕9号",
        "reason": "提供虚假申报材料。",
    }
    values.update(fields)
    return take_step(case.pk, "decide", county.users["integrity"], **values)


def investigated(county, **fields):
    case = new_case(county, **fields)
    officer = county.users["integrity"]
    take_step(case.pk, "accept", officer)
    take_step(case.pk, "add_to_record", officer, text="被调查人陈述：证书由代理机构提供。")
    return case


def test_a_decision_sanctions_the_respondent_and_the_veto_refuses_them(county):
    project = demo.draft_project(county, "applicant2", "被举报人的新申报", "300000")
    case = decide(county, investigated(county))
    assert case.status == CaseStatus.DECIDED and case.sanction.status == Sanction.Status.EFFECTIVE
    with pytest.raises(VetoRefused):
        perform(project.pk, "submit", project.pi, commitment=True)


def test_an_appeal_keeps_the_veto_and_a_revocation_lifts_it(county):
    project = demo.draft_project(county, "applicant2", "申诉期间的申报", "300000")
    case = decide(county, investigated(county))
    officer = county.users["integrity"]
    take_step(case.pk, "appeal", officer, reason="被处理人提出申诉")
    with pytest.raises(VetoRefused):
        perform(project.pk, "submit", project.pi, commitment=True)
    take_step(case.pk, "revoke", officer, reason="复查认定证书真实")
    perform(project.pk, "submit", project.pi, commitment=True)
    project.refresh_from_db()
    assert project.status == S.SUBMITTED


def test_an_anonymous_report_without_evidence_is_not_accepted(county):
    case = new_case(county, reporter="", evidence="")
    with pytest.raises(ValidationError):
        take_step(case.pk, "accept", county.users["integrity"])
    take_step(case.pk, "refuse", county.users["integrity"], reason="匿名举报且无证据")
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUSED


@pytest.mark.parametrize(
    "fields",
    [
        {"ends_on": TODAY.replace(year=TODAY.year + 4)},  # 较重 bans 1–3 years
        {"ends_on": None},  # only 特别严重 may be permanent
        {"gates": []},
        {"severity": Severity.MINOR},  # a minor case bars nothing
    ],
)
def test_measures_must_fit_the_severity(county, fields):
    case = investigated(county)
    with pytest.raises(ValidationError):
        decide(county, case, **fields)
    assert not Sanction.objects.exists()


def test_no_decision_before_the_respondent_is_heard(county):
    case = new_case(county)
    take_step(case.pk, "accept", county.users["integrity"])
    with pytest.raises(ValidationError):
        decide(county, case)


def test_a_bad_respondent_number_is_refused_and_nothing_stored(county):
    with pytest.raises(ValidationError):
        new_case(county, respondent_id="330127198001019999")
    assert not MisconductCase.objects.exists()


def test_only_the_integrity_officer_handles_cases(client, county):
    case = new_case(county)
    with pytest.raises(CaseRefused):
        take_step(case.pk, "accept", county.users["staff"])
    client.force_login(county.users["staff"])
    assert client.get(reverse("cases")).status_code == 403
    client.force_login(county.users["integrity"])
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert 'data-step="accept"' in page
    number = county.users["applicant2"].id_number
    assert number not in page and f"{number[:6]}********{number[-4:]}" in page
