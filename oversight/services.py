"""Audits and acceptance records. State changes belong to workflows.lifecycle."""

from __future__ import annotations

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.roles import Role, has_role
from funding.models import Project
from funding.states import ProjectStatus
from integrity.models import SubjectKind
from integrity.policy import Subject
from trail.kinds import EventKind
from trail.services import record

from . import findings as supervision_findings
from . import supervision_engagements as engagements
from .models import AcceptanceReview, AuditEngagement, FindingsAnswer, TechReport
from .panels import Tally, check_conclusion, latest_engagement, tally


def audit_subjects(firm: Organisation, auditor) -> list[Subject]:
    return [
        Subject(SubjectKind.ORGANISATION, firm.credit_code, firm.name, _("Audit firm")),
        Subject(SubjectKind.PERSON, auditor.id_number, str(auditor), _("Auditor")),
    ]


def appoint_audit(project: Project, firm: Organisation, auditor, by) -> AuditEngagement:
    if firm.kind != Organisation.Kind.AUDIT_FIRM:
        raise ValidationError(_("Only a registered audit firm can be appointed."))
    if auditor.organisation_id != firm.pk or not has_role(auditor, Role.AUDITOR):
        raise ValidationError(_("The lead auditor must be an auditor of that firm."))
    # A firm replaced (or a supervision engagement the new firm takes over from) ends here:
    # its auditors lose the funds. The lifecycle's transition event records the change.
    for running in project.audits.select_for_update().filter(ended_at__isnull=True):
        engagements.close(running, "replaced by another firm")
    engagement = AuditEngagement.objects.create(
        project=project, firm=firm, lead_auditor=auditor, appointed_by=by
    )
    engagement.staff.add(auditor)
    project._current_engagement = engagement
    return engagement


def take_up_audit(project: Project, engagement: AuditEngagement, auditor) -> AuditEngagement:
    """The special audit as the last step of the running supervision engagement: its
    firm, with `auditor` (one of its assigned auditors) leading the audit."""
    if auditor.pk not in {p.pk for p in engagements.assigned(engagement)}:
        raise ValidationError(
            _(
                "The lead auditor must be one of the auditors assigned to the supervision "
                "engagement of %(firm)s."
            )
            % {"firm": engagement.firm}
        )
    if engagement.lead_auditor_id != auditor.pk:
        engagement.lead_auditor = auditor
        engagement.save(update_fields=["lead_auditor"])
    project._current_engagement = engagement
    return engagement


def current_engagement(project: Project) -> AuditEngagement | None:
    # Cached on the instance: the permission check and the action both ask.
    if not hasattr(project, "_current_engagement"):
        project._current_engagement = (
            project.audits.select_related("firm", "lead_auditor").order_by("-appointed_at").first()
        )
    return project._current_engagement


def record_audit_opinion(project: Project, auditor, opinion: str, findings: str):
    """The opinion ends the engagement (the special audit is its last step). It is built
    on the engagement's findings: the open serious ones are listed in it, and while one
    is open the opinion cannot be unqualified."""
    engagement = current_engagement(project)
    if engagement is None or engagement.lead_auditor_id != auditor.pk:
        raise ValidationError(_("Only the appointed lead auditor can issue the opinion."))
    if opinion not in AuditEngagement.Opinion.values:
        raise ValidationError(_("Choose an audit opinion."))
    if not findings.strip():
        raise ValidationError(_("Write the audit findings."))
    serious = supervision_findings.open_serious(engagement)
    if serious and opinion == AuditEngagement.Opinion.UNQUALIFIED:
        raise ValidationError(
            _("%(n)d serious findings are still open: the opinion cannot be unqualified.")
            % {"n": len(serious)}
        )
    engagement.opinion = opinion
    engagement.findings = supervision_findings.opinion_text(findings.strip(), serious)
    engagement.opinion_at = timezone.now()
    engagement.save(update_fields=["opinion", "findings", "opinion_at"])
    if engagement.ended_at is None:
        engagements.close(engagement, "audit opinion issued")
    return engagement


MAX_EMBARGO_YEARS = 5


def file_tech_report(project: Project, data: dict) -> TechReport:
    """File (or, after a reconsideration, replace) the project's final tech report."""
    access = data.get("access")
    until = data.get("embargo_until")
    if not (data.get("title") or "").strip() or not (data.get("abstract") or "").strip():
        raise ValidationError(_("A tech report needs a title and an abstract."))
    if access not in TechReport.Access.values:
        raise ValidationError(_("Choose whether the report is open or embargoed."))
    if access == TechReport.Access.EMBARGOED:
        today = timezone.localdate()
        if until is None or until <= today:
            raise ValidationError(_("An embargo needs a date in the future."))
        if until > today.replace(year=today.year + MAX_EMBARGO_YEARS):
            raise ValidationError(
                _("An embargo lasts at most %(n)d years.") % {"n": MAX_EMBARGO_YEARS}
            )
    else:
        until = None
    # The caller holds the project lock, so a plain read-then-write is safe (and cheaper
    # than update_or_create's savepoint).
    report = TechReport.objects.filter(project=project).first() or TechReport(project=project)
    report.title, report.abstract = data["title"].strip(), data["abstract"].strip()
    report.keywords = (data.get("keywords") or "").strip()
    report.access, report.embargo_until = access, until
    report.save()
    return report


def panel_problems(project: Project, members: list) -> list[str]:
    """At least MIN_ACCEPTANCE_PANEL distinct experts, none from the applicant or the team."""
    problems = []
    if len({m.pk for m in members}) < settings.MIN_ACCEPTANCE_PANEL:
        problems.append(
            _("An acceptance panel has at least %(n)d distinct experts.")
            % {"n": settings.MIN_ACCEPTANCE_PANEL}
        )
    team = set(project.team.values_list("id_number", flat=True)) | {project.pi.id_number}
    experts = set(
        get_user_model()
        .objects.filter(pk__in=[m.pk for m in members], groups__name=Role.EXPERT.value)
        .values_list("pk", flat=True)
    )  # one query for the whole panel
    for member in members:
        if member.pk not in experts:
            problems.append(_("%(name)s is not an expert.") % {"name": member})
        elif member.organisation_id and member.organisation_id == project.applicant_org_id:
            problems.append(
                _("%(name)s works for the applicant and must be excluded (回避).")
                % {"name": member}
            )
        elif member.id_number and member.id_number in team:
            problems.append(_("%(name)s is on the project team.") % {"name": member})
    return problems


def record_acceptance(
    project: Project, by, data: dict, counted: Tally | None = None
) -> AcceptanceReview:
    """The conclusion of the current round, from the drawn panel's votes and the rule.

    `data` gives only the conclusion and the remarks: the members and the task and
    financial results come from the panel (`oversight.panels.tally`)."""
    counted = counted or tally(project, in_progress=True)
    conclusion, remarks = data.get("conclusion"), (data.get("remarks") or "").strip()
    check_conclusion(project, counted, conclusion, remarks)
    members = counted.members
    problems = panel_problems(project, members)
    if problems:
        raise ValidationError(problems)
    rectify_by = None
    if conclusion == AcceptanceReview.Conclusion.RECONSIDER:
        months = settings.RECONSIDERATION_MONTHS
        rectify_by = timezone.localdate() + relativedelta(months=months)
    # The names as they stood that day, like the trail's actor names; the accounts follow.
    review = AcceptanceReview.objects.create(
        project=project,
        panel="\n".join(str(m) for m in members),
        task_review_passed=counted.task_passed,
        financial_review_passed=counted.financial_passed,
        conclusion=conclusion,
        remarks=remarks,
        recorded_by=by,
        drawn_panel=counted.panel,
        round=counted.round,
        rectify_by=rectify_by,
    )
    # One insert for the panel (the review is new, so nothing to compare with).
    through = AcceptanceReview.panel_members.through
    through.objects.bulk_create(through(acceptancereview=review, user=m) for m in members)
    return review


def answer_findings(project: Project, by, text: str) -> FindingsAnswer:
    """The PI answers a qualified opinion's findings (needed before a financial pass)."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if by is None or by.pk != project.pi_id:
            raise PermissionDenied(_("Only the project's PI answers the audit findings."))
        if project.status not in (ProjectStatus.UNDER_ACCEPTANCE, ProjectStatus.RECONSIDERATION):
            raise ValidationError(
                _("The findings are answered during the acceptance review or the rectification.")
            )
        engagement = latest_engagement(project)
        if engagement is None or engagement.opinion != AuditEngagement.Opinion.QUALIFIED:
            raise ValidationError(_("Only the findings of a qualified audit opinion are answered."))
        text = (text or "").strip()
        if not text:
            raise ValidationError(_("Write your answer to the findings."))
        answer = FindingsAnswer.objects.filter(engagement=engagement).first() or FindingsAnswer(
            engagement=engagement
        )
        answer.text, answer.answered_by, answer.answered_at = text, by, timezone.now()
        answer.save()
        record(
            EventKind.FINDINGS_ANSWERED,
            project,
            actor=by,
            data={"engagement": engagement.pk, "answer": text},
        )
        return answer
