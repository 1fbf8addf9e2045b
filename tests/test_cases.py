"""The misconduct case procedure: report → acceptance → investigation → decision → review.

A decision puts the sanction in the register, so the veto refuses the respondent at once;
an appeal does not lift it; a revocation does. The finer rules of each step (hearing,
deadlines, numbers, minor cases) are in test_case_procedure.py.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from funding.states import ProjectStatus as S
from integrity.cases import CaseRefused, take_step
from integrity.models import CaseStatus, MisconductCase, Sanction, Severity
from integrity.policy import VetoRefused
from workflows import demo
from workflows.actions import perform

from .cases_support import TODAY, decide, decided, heard, new_case, officer, step

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_decision_sanctions_the_respondent_and_the_veto_refuses_them(county):
    project = demo.draft_project(county, "applicant2", "被举报人的新申报", "300000")
    case = decided(county)
    assert case.status == CaseStatus.DECIDED and case.sanction.status == Sanction.Status.EFFECTIVE
    assert case.sanction.subject_unit == "浙东智能装备有限公司"
    with pytest.raises(VetoRefused):
        perform(project.pk, "submit", project.pi, commitment=True)


def test_an_appeal_keeps_the_veto_and_a_revocation_lifts_it(county):
    project = demo.draft_project(county, "applicant2", "申诉期间的申报", "300000")
    case = decided(county)
    step(county, case, "appeal", filed_on=TODAY, grounds="证书真实，请求撤销。")
    with pytest.raises(VetoRefused):
        perform(project.pk, "submit", project.pi, commitment=True)
    step(county, case, "revoke_on_appeal", answered_on=TODAY, reason="核实证书真实。")
    perform(project.pk, "submit", project.pi, commitment=True)
    project.refresh_from_db()
    assert project.status == S.UNIT_REVIEW  # submitted, to the applicant's unit first


def test_an_anonymous_report_without_evidence_is_not_accepted(county):
    case = new_case(county, reporter="", evidence="")
    with pytest.raises(ValidationError):
        step(county, case, "accept")
    step(county, case, "refuse", reason="匿名举报且无证据")
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUSED


@pytest.mark.parametrize(
    "fields",
    [
        {"ends_on": TODAY.replace(year=TODAY.year + 4)},  # 较重 bans 1–3 years
        {"ends_on": None},  # only 特别严重 may be permanent
        {"gates": []},  # a ban bars something
        {"severity": Severity.MINOR},  # a minor case bans nothing
        {"measures": []},
    ],
)
def test_measures_must_fit_the_severity(county, fields):
    case = heard(county)
    with pytest.raises(ValidationError):
        decide(county, case, **fields)
    assert not Sanction.objects.exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING and not case.decision_no


def test_no_decision_before_the_respondent_is_heard(county):
    case = new_case(county)
    step(county, case, "accept")
    step(county, case, "add_to_record", text="被调查人陈述：证书由代理机构提供。")  # not a hearing
    with pytest.raises(ValidationError, match="Hear the respondent first"):
        decide(county, case)
    assert not Sanction.objects.exists()


def test_a_bad_respondent_number_is_refused_and_nothing_stored(county):
    with pytest.raises(ValidationError):
        new_case(county, respondent_id="330127198001019999")
    assert not MisconductCase.objects.exists()


def test_a_person_needs_a_unit_and_an_organisation_is_its_own(county):
    with pytest.raises(ValidationError):
        new_case(county, respondent_unit="")
    org = county.orgs["enterprise"]
    case = new_case(
        county,
        respondent_kind="organisation",
        respondent_id=org.credit_code,
        respondent_name=org.name,
        respondent_unit="",
    )
    assert case.respondent_unit == org.name


def test_only_the_integrity_officer_handles_cases(client, county, english):
    case = new_case(county)
    with pytest.raises(CaseRefused):
        take_step(case.pk, "accept", county.users["staff"])
    client.force_login(county.users["staff"])
    assert client.get(reverse("cases")).status_code == 403
    assert client.get(reverse("case", args=[case.pk])).status_code == 403
    assert client.post(reverse("case-step", args=[case.pk, "accept"])).status_code == 403
    client.force_login(officer(county))
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert 'data-step="accept"' in page
    number = county.users["applicant2"].id_number
    assert number not in page and f"{number[:6]}********{number[-4:]}" in page


def test_the_officer_registers_a_report_and_a_bad_one_comes_back_filled_in(client, county):
    client.force_login(officer(county))
    data = {
        "reporter": "王某",
        "respondent_kind": "person",
        "respondent_id": "330127198001019999",  # wrong check digit
        "respondent_name": "刘工程师",
        "respondent_unit": "浙东智能装备有限公司",
        "misconduct": "false_application",
        "allegation": "申报材料中的专利证书系伪造。",
        "evidence": "",
    }
    response = client.post(reverse("cases"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "申报材料中的专利证书系伪造。" in page and "浙东智能装备有限公司" in page
    assert not MisconductCase.objects.exists()
    data["respondent_id"] = county.users["applicant2"].id_number
    response = client.post(reverse("cases"), data)
    case = MisconductCase.objects.get()
    assert response.status_code == 302 and response.url == reverse("case", args=[case.pk])


def test_the_report_form_takes_a_number_typed_any_way_and_keeps_input_on_an_error(client, county):
    client.force_login(county.users["integrity"])
    client.cookies["django_language"] = "en"
    number = county.users["applicant2"].id_number
    typed = " ".join([number[:6], number[6:14], number[14:]]).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    form = {
        "reporter": "王某",
        "respondent_kind": "person",
        "respondent_id": typed,
        "respondent_name": "刘工程师",
        "respondent_unit": "浙东智能装备有限公司",
        "misconduct": "false_application",
        "allegation": "专利证书系伪造。",
        "evidence": "",
    }
    response = client.post(reverse("cases"), form)
    assert response.status_code == 302
    assert MisconductCase.objects.get().respondent_id == number

    bad = {**form, "respondent_id": "330127198001019999", "allegation": "另一份举报"}
    response = client.post(reverse("cases"), bad)
    assert response.status_code == 200
    page = response.content.decode()
    assert "check digit" in page and "330127198001019999" in page and "另一份举报" in page
    assert MisconductCase.objects.count() == 1
