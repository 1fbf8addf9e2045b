"""Helpers for the misconduct case tests: a case taken step by step through the services."""

from __future__ import annotations

import datetime

from django.utils import timezone

from integrity.cases import open_case, take_step
from integrity.models import Gate, Measure, MisconductCase, Severity, SubjectKind
from integrity.policy import Subject, check_veto

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def officer(county):
    return county.users["integrity"]


def new_case(county, **fields) -> MisconductCase:
    values = {
        "reporter": "王某（实名举报）",
        "respondent_kind": SubjectKind.PERSON,
        "respondent_id": county.users["applicant2"].id_number.lower(),
        "respondent_name": "刘工程师",
        "respondent_unit": "浙东智能装备有限公司",
        "misconduct": "false_application",
        "allegation": "申报材料中的专利证书系伪造。",
        "evidence": "",
    }
    values.update(fields)
    return open_case(officer(county), MisconductCase(**values))


def step(county, case, name, **kwargs) -> MisconductCase:
    return take_step(case.pk, name, officer(county), **kwargs)


def heard(county, **fields) -> MisconductCase:
    """Accepted, investigated, the respondent notified and their statement on record."""
    case = new_case(county, **fields)
    step(county, case, "accept")
    step(county, case, "add_to_record", text="专利证书编号在国家知识产权局查无此证。")
    step(county, case, "notify_respondent", reply_by=TODAY + 10 * DAY)
    step(
        county,
        case,
        "record_statement",
        statement="证书由代理机构提供，本人不知情。",
        received_on=TODAY,
    )
    return case


def ban(**fields) -> dict:
    """A 较重 decision: a two-year ban at every gate."""
    values = {
        "severity": Severity.SERIOUS,
        "measures": [Measure.BAN.value],
        "gates": [g.value for g in Gate],
        "starts_on": TODAY,
        "ends_on": TODAY.replace(year=TODAY.year + 2),
        "decision_no": "示科信〔2026〕9号",
        "legal_basis": "《科研失信行为调查处理规则》（国科发监〔2022〕221号）",
        "reason": "提供虚假申报材料。",
    }
    values.update(fields)
    return values


def decide(county, case, **fields) -> MisconductCase:
    return step(county, case, "decide", **ban(**fields))


def decided(county, reporter: str = "王某（实名举报）", **fields) -> MisconductCase:
    return decide(county, heard(county, reporter=reporter), **fields)


def barred(county, user: str = "applicant2", gate: Gate = Gate.APPLY) -> bool:
    person = county.users[user]
    subject = Subject(SubjectKind.PERSON, person.id_number, person.real_name, "PI")
    return not check_veto([subject], gate).passed
