"""Acceptance long overdue proposes a misconduct case (DESIGN §6).

A project whose end date is more than ACCEPTANCE_OVERDUE_CASE_MONTHS months past and
that has not asked for acceptance (still contracted or in progress) may be breaching its
task contract. The daily job proposes one case per project to the integrity officer,
who opens an investigation or dismisses it; it never decides anything by itself.
"""

from __future__ import annotations

import calendar
import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.identity import normalise_id_number
from funding.models import Project
from funding.states import ProjectStatus
from integrity.cases import propose_case
from integrity.models import MisconductCase, MisconductType, SubjectKind

log = logging.getLogger(__name__)
SOURCE = "funding.project"  # MisconductCase.source_type of these proposals


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` earlier (the month's last day when it has fewer days)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def overdue_projects(today: datetime.date | None = None):
    """Running projects whose end date is more than the setting's months past, unasked."""
    today = today or timezone.localdate()
    cutoff = months_before(today, settings.ACCEPTANCE_OVERDUE_CASE_MONTHS)
    return (
        Project.objects.filter(
            status__in=[ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS],
            end_date__lt=cutoff,
        )
        .select_related("pi", "applicant_org")
        .order_by("end_date", "pk")
    )


def _months_late(end: datetime.date, today: datetime.date) -> int:
    months = (today.year - end.year) * 12 + today.month - end.month
    return months - 1 if today.day < end.day else months


def _valid_id_number(number: str) -> bool:
    try:
        return bool(number) and bool(normalise_id_number(number))
    except ValidationError:
        return False


def proposed_case_for(project: Project, today: datetime.date) -> MisconductCase:
    """The case as proposed: the PI by ID number, else the applicant organisation."""
    pi, org = project.pi, project.applicant_org
    late_days = (today - project.end_date).days
    allegation = (
        f"项目《{project.title}》（项目编号 {project.pk}）实施期限已于"
        f"{project.end_date.year}年{project.end_date.month}月{project.end_date.day}日届满，"
        f"至今已逾期{_months_late(project.end_date, today)}个月（{late_days}天）仍未申请结题验收，"
        f"超过规定期限（期满后3个月内申请验收），涉嫌违反项目任务书约定。"
    )
    fields = {
        "reporter": "系统自动提出（验收逾期）",
        "misconduct": MisconductType.CONTRACT,
        "allegation": allegation,
        "evidence": f"任务书约定结束日期 {project.end_date.isoformat()}；"
        f"截至 {today.isoformat()} 未提交验收申请。",
        "respondent_unit": org.name,
    }
    if _valid_id_number(pi.id_number):
        fields.update(
            respondent_kind=SubjectKind.PERSON,
            respondent_id=pi.id_number,
            respondent_name=pi.real_name or pi.username,
        )
    else:  # no (valid) ID number on file: the organisation answers instead
        fields.update(
            respondent_kind=SubjectKind.ORGANISATION,
            respondent_id=org.credit_code,
            respondent_name=org.name,
        )
    return MisconductCase(**fields)


def propose_overdue_acceptance_cases(today: datetime.date | None = None) -> int:
    """Propose one case per overdue project, never twice; returns how many are new."""
    today = today or timezone.localdate()
    proposed = 0
    already = set(
        MisconductCase.objects.filter(source_type=SOURCE).values_list("source_id", flat=True)
    )
    for project in overdue_projects(today):
        if str(project.pk) in already:
            continue
        try:
            proposed += propose_case(proposed_case_for(project, today), SOURCE, project.pk)
        except ValidationError as error:  # e.g. an invalid number on file: skip, say so
            log.warning("no case proposed for project %s: %s", project.pk, error.messages)
    return proposed
