"""The inbox's sections beside the task table: each lists what waits for one role, with
its due date or the day it started waiting (workflows.inbox_items).

Deadlines come from the rules that set them: an expert review's due date
(funding.review_deadlines), a progress report's, a rectification's (整改, the firm's
request or a sanction's 暂停项目限期整改), the end of the public notice for an
objection, the respondent's deadline to reply in a case. Where no rule sets one (a
veto override, a budget adjustment, a drawn inspection, a panel's verdict), the row says
since when it waits. Sections of other roles are not even queried.
"""

from __future__ import annotations

import datetime

from django.db.models import IntegerField, OuterRef, Subquery
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from funding.adjustments import adjustments_waiting_for
from funding.models import Project
from funding.objection_services import objections_to_decide
from funding.review_deadlines import late_reviews, pending_reviews
from integrity.cases import cases_waiting_for_officer
from integrity.models import Appeal, CaseStatus, VetoOverride
from integrity.overrides import overrides_waiting_for
from integrity.respondents import cases_notified_to
from integrity.services import rectifications_to_record
from oversight.findings import overdue_rectifications
from oversight.inspections import inspections_waiting_for
from oversight.panels import panels_waiting_for
from oversight.supervision import open_reports, overdue_reports

from .inbox_items import day, item, label, pk_url, section, shown

PROJECT_TYPE = Project._meta.label_lower


def _project_url(project) -> str:
    return pk_url("project", project.pk)


# --- the integrity officer ----------------------------------------------------------------


def _officer_cases():
    """The cases waiting for the officer, with the day an appeal or review was filed."""
    filed = Appeal.objects.filter(case=OuterRef("pk")).order_by("-filed_on", "-pk")
    return cases_waiting_for_officer().annotate(
        challenged_on=Subquery(filed.values("filed_on")[:1])
    )


def _case_item(case, today) -> dict:
    hearing = getattr(case, "hearing", None)
    lapsed = case.status == CaseStatus.INVESTIGATING and hearing is not None and not hearing.heard
    challenged = case.status in (CaseStatus.APPEALED, CaseStatus.UNDER_REVIEW)
    return item(
        f"{case.respondent_name} · {label(case, 'misconduct')}",
        today,
        url=pk_url("case", case.pk),
        detail=(
            _("The respondent's deadline to reply has passed: record it")
            if lapsed
            else label(case, "status")
        ),
        # The respondent's deadline is the officer's once it has passed unanswered.
        due=hearing.reply_by if lapsed else None,
        since=case.challenged_on if challenged and case.challenged_on else case.opened_at,
    )


def _sanction_item(sanction, today) -> dict:
    return item(
        f"{sanction.subject_name} · {sanction.decision_no}",
        today,
        url=pk_url("sanction", sanction.pk),
        detail=_("Record the rectification once it is done"),
        due=sanction.rectify_by,
    )


def integrity_sections(user, today: datetime.date) -> list[dict]:
    return [
        section(
            "cases",
            _("Misconduct cases waiting for you"),
            _officer_cases(),
            lambda c: _case_item(c, today),
            link=reverse("cases"),
        ),
        section(
            "sanction-rectifications",
            _("Rectifications (整改) ordered by a sanction, to record"),
            rectifications_to_record(),
            lambda s: _sanction_item(s, today),
        ),
    ]


# --- the leader ---------------------------------------------------------------------------


def _overrides(user):
    """The overrides to approve, each with the title of the project it is for."""
    project = Project.objects.filter(pk=Cast(OuterRef("object_id"), IntegerField()))
    return overrides_waiting_for(user).annotate(project_title=Subquery(project.values("title")[:1]))


def _override_item(override: VetoOverride, today) -> dict:
    on_project = override.object_type == PROJECT_TYPE
    sanction = override.sanction
    return item(
        override.project_title if on_project else f"{override.object_type} {override.object_id}",
        today,
        url=pk_url("project", override.object_id) if on_project else "",
        detail=_("%(gate)s · despite %(sanction)s · asked by %(who)s: %(reason)s")
        % {
            "gate": label(override, "gate"),
            "sanction": f"{sanction.subject_name} {sanction.decision_no}" if sanction else "—",
            "who": override.requested_by,
            "reason": override.reason[:120],
        },
        since=override.requested_at,
        mark=("override", override.pk),
    )


def leader_sections(user, today: datetime.date) -> list[dict]:
    return [
        section(
            "overrides",
            _("Veto overrides waiting for your approval"),
            _overrides(user),
            lambda o: _override_item(o, today),
        )
    ]


# --- bureau staff -------------------------------------------------------------------------


def _objection_item(objection, today) -> dict:
    project = objection.project
    return item(
        project.title,
        today,
        project=project,
        url=_project_url(project),
        detail=_("Objection lodged on %(d)s: record the finding") % {"d": day(objection.lodged_at)},
        # The notice cannot close as approved while it is open.
        due=project.notice_ends_on,
        mark=("objection", objection.pk),
    )


def _late_review_item(assignment, today) -> dict:
    return item(
        assignment.project.title,
        today,
        project=assignment.project,
        url=_project_url(assignment.project),
        detail=str(assignment.expert),
        due=assignment.due_on,
    )


def _late_report_item(report, today) -> dict:
    return item(
        report.project.title,
        today,
        project=report.project,
        url=_project_url(report.project),
        detail=f"{label(report, 'kind')} · {report.project.pi}",
        due=report.due_on,
    )


def _late_rectification_item(finding, today) -> dict:
    project = finding.engagement.project
    return item(
        project.title,
        today,
        project=project,
        url=pk_url("supervision", project.pk),
        detail=f"{finding.engagement.firm} · {finding.text[:80]}",
        due=finding.rectify_by,
    )


# Each section reads only the columns its rows print (the rows' own, their project's title,
# a person's name): the count over every matching row sorts and carries no more than that,
# and a row is made from a few values instead of three or four whole tables (issue 10).
PROJECT = ("project__title", "project__notice_ends_on")
PERSON = ("real_name", "username")  # what User.__str__ reads


def staff_sections(user, today: datetime.date) -> list[dict]:
    return [
        section(
            "objections",
            _("Objections to the public notice to decide"),
            objections_to_decide(user).only("lodged_at", *PROJECT),
            lambda o: _objection_item(o, today),
        ),
        section(
            "late-reviews",
            _("Late expert reviews"),
            late_reviews(today)
            .select_related(None)
            .select_related("project", "expert")
            .only("due_on", *PROJECT, *(f"expert__{f}" for f in PERSON)),
            lambda a: _late_review_item(a, today),
            testid="late-reviews",
        ),
        section(
            "late-reports",
            _("Progress reports overdue"),
            overdue_reports(today)
            .select_related("project__pi")
            .only("kind", "due_on", *PROJECT, *(f"project__pi__{f}" for f in PERSON))
            .order_by("due_on", "pk"),
            lambda r: _late_report_item(r, today),
            # The overview lists them all, in the same order.
            link=reverse("dashboard-section", args=["reports-overdue"]),
        ),
        section(
            "late-rectifications",
            _("Rectifications (整改) overdue"),
            overdue_rectifications(today)
            .select_related(None)
            .select_related("engagement__project", "engagement__firm")
            .only(
                "text",
                "rectify_by",
                *(f"engagement__{f}" for f in PROJECT),
                "engagement__firm__name",
            ),
            lambda f: _late_rectification_item(f, today),
            link=reverse("dashboard-section", args=["rectifications-overdue"]),
        ),
    ]


# --- the unit (and staff standing in for a unit without an officer) -----------------------


def _adjustment_item(adjustment, today) -> dict:
    return item(
        adjustment.project.title,
        today,
        project=adjustment.project,
        url=_project_url(adjustment.project),
        detail=_("%(source)s → %(target)s · %(amount)s yuan")
        % {
            "source": label(adjustment, "from_category"),
            "target": label(adjustment, "to_category"),
            "amount": adjustment.amount,
        },
        since=adjustment.requested_at,
        mark=("adjustment", adjustment.pk),
    )


def adjustment_section(user, today: datetime.date) -> dict:
    return section(
        "adjustments",
        _("Budget adjustments waiting for your unit"),
        # None for other roles: no query.
        adjustments_waiting_for(user).only(
            "from_category", "to_category", "amount", "requested_at", *PROJECT
        ),
        lambda a: _adjustment_item(a, today),
    )


# --- experts and inspectors ---------------------------------------------------------------


def _own_review_item(assignment, today) -> dict:
    # Only the title: the expert may not have declared no conflict yet.
    return item(
        assignment.project.title,
        today,
        url=_project_url(assignment.project),
        due=assignment.due_on,
    )


def _panel_item(panel, today) -> dict:
    return item(
        panel.project.title,
        today,
        url=_project_url(panel.project),
        detail=_("Give your verdict"),
        since=panel.drawn_at,
    )


def _inspection_item(drawn, today) -> dict:
    draw = drawn.inspectiondraw
    return item(
        drawn.project.title,
        today,
        url=pk_url("inspection", draw.pk),
        detail=_("Random inspection (双随机) no. %(n)s: record the result") % {"n": draw.pk},
        since=draw.drawn_at,
        mark=("inspection", draw.pk),
    )


def expert_sections(user, today: datetime.date) -> list[dict]:
    return [
        section(
            "my-reviews",
            _("Your reviews due"),
            pending_reviews().filter(expert=user).order_by("due_on", "pk"),
            lambda a: _own_review_item(a, today),
            testid="my-reviews",
        ),
        section(
            "panel-votes",
            _("Acceptance panels waiting for your verdict"),
            panels_waiting_for(user),
            lambda p: _panel_item(p, today),
        ),
        section(
            "inspections",
            _("Random inspections drawn for you"),
            inspections_waiting_for(user),
            lambda d: _inspection_item(d, today),
        ),
    ]


# --- the PI and the respondent ------------------------------------------------------------


def _report_item(report, today) -> dict:
    return item(
        report.project.title,
        today,
        project=report.project,
        url=_project_url(report.project),
        detail=label(report, "kind"),
        due=report.due_on,
    )


def _respondent_item(case, today) -> dict:
    hearing = case.hearing
    return item(
        label(case, "misconduct"),
        today,
        url=pk_url("respondent-case", case.pk),
        detail=label(case, "status"),
        due=None if hearing.heard else hearing.reply_by,
        since=hearing.notified_on,
    )


def pi_sections(user, today: datetime.date) -> list[dict]:
    return [
        section(
            "reports",
            _("Progress reports due"),
            open_reports(today)
            .filter(project__pi=user)
            .select_related(None)
            .select_related("project")
            .only("kind", "due_on", *PROJECT)
            .order_by("due_on", "pk"),
            lambda r: _report_item(r, today),
        )
    ]


def respondent_section(user, today: datetime.date) -> dict:
    return section(
        "respondent-cases",
        _("Misconduct cases concerning you"),
        cases_notified_to(user).only(
            "misconduct",
            "status",
            *(f"hearing__{f}" for f in ("notified_on", "reply_by", "received_on", "lapsed_on")),
        ),
        lambda c: _respondent_item(c, today),
    )


def sections_for(user, today: datetime.date) -> list[dict]:
    """Every section that waits for `user`, by role, the empty ones left out."""
    found = []
    if has_role(user, Role.INTEGRITY):
        found += integrity_sections(user, today)
    if has_role(user, Role.LEADER):
        found += leader_sections(user, today)
    if has_role(user, Role.STAFF):
        found += staff_sections(user, today)
    if has_role(user, Role.UNIT) or has_role(user, Role.STAFF):
        found.append(adjustment_section(user, today))
    if has_role(user, Role.EXPERT):
        found += expert_sections(user, today)
    found += pi_sections(user, today)  # whoever leads a project, whatever their roles
    found.append(respondent_section(user, today))
    return shown(found)
