"""Findings of the supervision firm and the rectification (整改) they ask of the unit.

The firm's auditor records a finding with its severity; with a deadline it is a
rectification request to the unit (承担单位: the project organisation's unit officers, or
the PI where the organisation has none). The unit answers with what it did and evidence
files; the firm closes the finding, or reopens it (with a reason, perhaps a new deadline).
Each step locks the finding, so two people closing it at once close it once. Every act of
the firm passes the veto again for the firm and the acting auditor.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role, has_role
from accounts.text import check_text
from documents.attachments import attach, check_upload
from documents.kinds import kind_named
from funding.models import Project
from funding.states import RUNNING_STATES
from integrity.gates import keep_refusal
from integrity.policy import VetoRefused
from trail.kinds import EventKind
from trail.services import record

from .models import AuditEngagement, FundCheck, RectificationAnswer, SupervisionFinding
from .supervision_engagements import acting_engagement, running_engagement_of

EVIDENCE_KIND = "rectification_evidence"
MAX_EVIDENCE_FILES = 10
Status, Severity = SupervisionFinding.Status, SupervisionFinding.Severity


# --- who ----------------------------------------------------------------------------------


def unit_officers(project: Project) -> QuerySet[User]:
    """The project organisation's active unit officers, the PI excepted (as the unit's
    review matches them, workflows.unit_review)."""
    return User.objects.filter(
        groups__name=Role.UNIT.value, is_active=True, organisation_id=project.applicant_org_id
    ).exclude(pk=project.pi_id)


def answers_for_unit(user, project: Project) -> bool:
    """A unit officer of the project's organisation; the PI only where it has none."""
    if user is None or not user.is_authenticated:
        return False
    if (
        has_role(user, Role.UNIT)
        and user.organisation_id is not None
        and user.organisation_id == project.applicant_org_id
        and user.pk != project.pi_id
    ):
        return True
    return user.pk == project.pi_id and not unit_officers(project).exists()


def can_see_findings(user, project: Project) -> bool:
    if not user.is_authenticated:
        return False
    if any(has_role(user, r) for r in (Role.STAFF, Role.LEADER, Role.INTEGRITY)):
        return True
    if running_engagement_of(user, project) is not None:
        return True
    own = user.organisation_id is not None and user.organisation_id == project.applicant_org_id
    return user.pk == project.pi_id or (own and has_role(user, Role.UNIT))


def findings_shown_to(user, project: Project) -> QuerySet[SupervisionFinding]:
    """Every engagement's findings; an auditor sees only those of their running one."""
    findings = SupervisionFinding.objects.filter(engagement__project=project)
    if not any(has_role(user, r) for r in (Role.STAFF, Role.LEADER, Role.INTEGRITY)):
        engagement = running_engagement_of(user, project)
        if engagement is not None:
            findings = findings.filter(engagement=engagement)
    return findings.select_related("engagement__firm", "raised_by", "closed_by", "fund_check")


# --- the firm's steps ---------------------------------------------------------------------


def _firm_acts(action):
    """Run a firm's step; a refusal by the veto is kept after the rollback."""

    def run(*args, **kwargs):
        by = kwargs.get("by") if "by" in kwargs else args[1]
        try:
            return action(*args, **kwargs)
        except VetoRefused as refused:
            keep_refusal(refused, by)
            raise

    run.__name__, run.__doc__ = action.__name__, action.__doc__
    return run


def _clean_text(text: str, label: str, empty: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(empty)
    check_text(text, label=label)
    return text


def _check_deadline(rectify_by: datetime.date | None) -> None:
    if rectify_by is not None and rectify_by <= timezone.localdate():
        raise ValidationError(_("The rectification deadline must be a date after today."))


@_firm_acts
def raise_finding(
    project: Project,
    by,
    severity: str,
    text: str,
    rectify_by: datetime.date | None = None,
    fund_check: FundCheck | None = None,
) -> SupervisionFinding:
    """A finding of the running engagement; with `rectify_by`, a rectification request."""
    with transaction.atomic():
        return create_finding(project, by, severity, text, rectify_by, fund_check)


def create_finding(
    project, by, severity, text, rectify_by, fund_check, engagement=None
) -> SupervisionFinding:
    """raise_finding's body, in the caller's transaction; `engagement`: the caller has
    locked the project and passed the veto for it already (a flag annotation)."""
    if engagement is None:
        project = Project.objects.select_for_update().get(pk=project.pk)
    if severity not in Severity.values:
        raise ValidationError(_("Choose the severity of the finding."))
    text = _clean_text(text, _("Finding"), _("Describe the finding."))
    _check_deadline(rectify_by)
    engagement = engagement or acting_engagement(by, project)
    if fund_check is not None and fund_check.engagement_id != engagement.pk:
        raise ValidationError(_("That fund check belongs to another engagement."))
    finding = SupervisionFinding.objects.create(
        engagement=engagement,
        fund_check=fund_check,
        severity=severity,
        text=text,
        rectify_by=rectify_by,
        raised_by=by,
    )
    record(
        EventKind.SUPERVISION_FINDING,
        project,
        actor=by,
        data={
            "engagement": engagement.pk,
            "finding": finding.pk,
            "severity": severity,
            "text": text,
            "rectify_by": rectify_by,
            "check": fund_check.pk if fund_check else None,
        },
    )
    return finding


def _locked(finding: SupervisionFinding) -> SupervisionFinding:
    return (
        SupervisionFinding.objects.select_for_update()
        .select_related("engagement__project", "engagement__firm")
        .get(pk=finding.pk)
    )


def _firm_locks(finding: SupervisionFinding, by) -> SupervisionFinding:
    finding = _locked(finding)
    engagement = running_engagement_of(by, finding.engagement.project)
    if engagement is None or engagement.pk != finding.engagement_id:
        raise PermissionDenied(_("Only an auditor of the running engagement may do this."))
    return finding


@_firm_acts
def close_finding(finding: SupervisionFinding, by, note: str = "") -> SupervisionFinding:
    """The firm is satisfied: the finding (and its rectification) is closed."""
    with transaction.atomic():
        finding = _firm_locks(finding, by)
        if finding.status == Status.CLOSED:
            raise ValidationError(_("This finding is already closed."))
        note = (note or "").strip()
        check_text(note, label=_("Note"))
        project = finding.engagement.project
        acting_engagement(by, project)
        before = finding.status
        finding.status, finding.closed_by, finding.closed_at = Status.CLOSED, by, timezone.now()
        finding.save(update_fields=["status", "closed_by", "closed_at"])
        record(
            EventKind.RECTIFICATION,
            project,
            actor=by,
            before={"status": before},
            after={"status": Status.CLOSED},
            data={"finding": finding.pk, "step": "closed", "note": note},
        )
        return finding


@_firm_acts
def reopen_finding(
    finding: SupervisionFinding, by, reason: str, rectify_by: datetime.date | None = None
) -> SupervisionFinding:
    """The answer does not satisfy the firm, or a closed finding comes back: open again,
    with a reason and perhaps a new deadline."""
    with transaction.atomic():
        finding = _firm_locks(finding, by)
        if finding.status == Status.OPEN:
            raise ValidationError(_("This finding is already open."))
        reason = _clean_text(reason, _("Reason"), _("Please give a reason."))
        _check_deadline(rectify_by)
        project = finding.engagement.project
        acting_engagement(by, project)
        before = {"status": finding.status, "rectify_by": finding.rectify_by}
        finding.status, finding.closed_by, finding.closed_at = Status.OPEN, None, None
        if rectify_by is not None:
            finding.rectify_by = rectify_by
        finding.save(update_fields=["status", "closed_by", "closed_at", "rectify_by"])
        record(
            EventKind.RECTIFICATION,
            project,
            actor=by,
            before=before,
            after={"status": Status.OPEN, "rectify_by": finding.rectify_by},
            data={"finding": finding.pk, "step": "reopened", "reason": reason},
        )
        return finding


# --- the unit's answer --------------------------------------------------------------------


def answer_rectification(
    finding: SupervisionFinding, by, text: str, files: list
) -> RectificationAnswer:
    """The unit says what it rectified, with evidence files (checked all before any is
    stored; a refused file stores nothing)."""
    kind = kind_named(EVIDENCE_KIND)
    files = list(files or [])
    with transaction.atomic():
        finding = _locked(finding)
        project = finding.engagement.project
        if not answers_for_unit(by, project):
            raise PermissionDenied(_("Only the project's unit answers a rectification request."))
        if not finding.is_rectification:
            raise ValidationError(_("This finding asks for no rectification."))
        if finding.status != Status.OPEN:
            raise ValidationError(
                _("This rectification has been answered already; the firm closes or reopens it.")
            )
        if finding.engagement.ended_at is not None:
            raise ValidationError(_("The supervision engagement has ended."))
        text = _clean_text(text, _("Answer"), _("Write what was rectified."))
        if not files:
            raise ValidationError(_("Attach the evidence of the rectification."))
        if len(files) > MAX_EVIDENCE_FILES:
            raise ValidationError(_("Attach at most %(n)d files.") % {"n": MAX_EVIDENCE_FILES})
        for upload in files:
            check_upload(kind, upload)
            upload.seek(0)
        answer = RectificationAnswer.objects.create(finding=finding, text=text, answered_by=by)
        for upload in files:
            attach(answer, EVIDENCE_KIND, upload, by)
        late = timezone.localdate() > finding.rectify_by
        finding.status = Status.ANSWERED
        finding.save(update_fields=["status"])
        record(
            EventKind.RECTIFICATION,
            project,
            actor=by,
            before={"status": Status.OPEN},
            after={"status": Status.ANSWERED},
            data={
                "finding": finding.pk,
                "step": "answered",
                "answer": answer.pk,
                "text": text,
                "files": len(files),
                "late": late,
            },
        )
        return answer


# --- what the opinion, the overview and the inboxes show -----------------------------------


def open_serious(engagement: AuditEngagement) -> list[SupervisionFinding]:
    return list(
        engagement.supervision_findings.filter(severity=Severity.SERIOUS)
        .exclude(status=Status.CLOSED)
        .order_by("pk")
    )


def opinion_text(findings: str, serious: list[SupervisionFinding]) -> str:
    """The opinion's findings, with the open serious findings listed after them."""
    if not serious:
        return findings
    lines = [findings, "", _("Serious findings still open:")]
    lines += [f"{n}. {f.text}" for n, f in enumerate(serious, start=1)]
    return "\n".join(lines)


def overdue_rectifications(today: datetime.date | None = None) -> QuerySet[SupervisionFinding]:
    """Rectification requests unanswered after their deadline, on running engagements."""
    today = today or timezone.localdate()
    return (
        SupervisionFinding.objects.filter(
            status=Status.OPEN,
            rectify_by__lt=today,
            engagement__ended_at__isnull=True,
            engagement__project__status__in=RUNNING_STATES,
        )
        .select_related("engagement__project__applicant_org", "engagement__firm")
        .order_by("rectify_by", "pk")
    )


def rectifications_for_unit(user) -> QuerySet[SupervisionFinding]:
    """Rectification requests `user`'s unit has still to answer (a unit officer's inbox)."""
    if not (has_role(user, Role.UNIT) and user.organisation_id):
        return SupervisionFinding.objects.none()
    return (
        SupervisionFinding.objects.filter(
            status=Status.OPEN,
            rectify_by__isnull=False,
            engagement__ended_at__isnull=True,
            engagement__project__applicant_org_id=user.organisation_id,
        )
        .exclude(engagement__project__pi=user)
        .select_related("engagement__project")
        .order_by("rectify_by", "pk")
    )


def answers_for_firm(user) -> QuerySet[SupervisionFinding]:
    """Answered rectifications waiting for the firm to close or reopen them."""
    if not (has_role(user, Role.AUDITOR) and user.organisation_id):
        return SupervisionFinding.objects.none()
    mine = Q(engagement__lead_auditor=user) | Q(engagement__staff=user)
    return (
        SupervisionFinding.objects.filter(
            mine,
            status=Status.ANSWERED,
            engagement__ended_at__isnull=True,
            engagement__firm_id=user.organisation_id,
        )
        .distinct()
        .select_related("engagement__project")
        .order_by("pk")
    )


def rectifications_for_pi(user) -> QuerySet[SupervisionFinding]:
    """Rectification requests `user` answers as PI because their project's organisation
    has no unit officer (answers_for_unit): the PI's inbox."""
    if user is None or not user.is_authenticated:
        return SupervisionFinding.objects.none()
    officers = User.objects.filter(
        groups__name=Role.UNIT.value,
        is_active=True,
        organisation_id=OuterRef("engagement__project__applicant_org_id"),
    ).exclude(pk=OuterRef("engagement__project__pi_id"))
    return (
        SupervisionFinding.objects.filter(
            status=Status.OPEN,
            rectify_by__isnull=False,
            engagement__ended_at__isnull=True,
            engagement__project__pi=user,
        )
        .exclude(Exists(officers))
        .select_related("engagement__project")
        .order_by("rectify_by", "pk")
    )
