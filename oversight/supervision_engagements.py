"""Third-party supervision over the whole course (DESIGN §6, issue 9).

For a project approved at or above SUPERVISION_THRESHOLD, staff appoint an audit firm at
contract: the firm and each of its auditors assigned pass the veto (gate `audit`). The
engagement runs until the special audit at acceptance, its last step, ends it with the
opinion (or staff end it, or a replacement firm takes over). While it runs, and only
then, the firm's assigned auditors read the project's funds; every act of theirs (a fund
check, a finding, closing or reopening it, a flag annotation) passes the veto again for
the firm and the acting auditor. Fund checks fall due every SUPERVISION_CHECK_MONTHS from
the appointment; a daily job creates them (`create_due_checks`).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.roles import Role, has_role
from accounts.text import check_text
from funding.models import Project
from funding.states import RUNNING_STATES, ProjectStatus
from integrity.gates import guard, keep_refusal
from integrity.models import Gate, SubjectKind
from integrity.policy import Subject, VetoRefused
from lists.money import grouped
from trail.kinds import EventKind
from trail.services import record

from .models import AuditEngagement, FundCheck

# A supervision firm is appointed from the contract until acceptance is asked for.
APPOINTABLE_STATES = frozenset({ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS})
MAX_REASON_CHARS = 300


# --- who is on an engagement --------------------------------------------------------------


def threshold() -> Decimal:
    return Decimal(str(settings.SUPERVISION_THRESHOLD))


def supervision_required(project: Project) -> bool:
    return (project.approved_amount or 0) >= threshold()


def engagement_subjects(firm: Organisation, people) -> list[Subject]:
    """The veto's subjects: the firm and each of its auditors named."""
    subjects = [Subject(SubjectKind.ORGANISATION, firm.credit_code, firm.name, _("Audit firm"))]
    subjects += [Subject(SubjectKind.PERSON, p.id_number, str(p), _("Auditor")) for p in people]
    return subjects


def _on(user) -> Q:
    return Q(lead_auditor=user) | Q(staff=user)


def engagements_of(user) -> QuerySet[AuditEngagement]:
    """The engagements `user` works on: as lead or assigned, for the firm they belong to."""
    if not (has_role(user, Role.AUDITOR) and user.organisation_id):
        return AuditEngagement.objects.none()
    return AuditEngagement.objects.filter(_on(user), firm_id=user.organisation_id)


def projects_seen_by_auditor(user) -> QuerySet:
    """Project ids whose page `user` reads as an auditor: those of their engagements. The
    funds, checks, findings and flags only while the engagement runs (running_engagement_of);
    the project page, with the opinion they signed, stays as the record of their work."""
    return engagements_of(user).values("project_id")


def running_engagement_of(user, project: Project) -> AuditEngagement | None:
    """The running engagement on `project` that `user` works on, or None."""
    return (
        engagements_of(user)
        .filter(project=project, ended_at__isnull=True)
        .select_related("firm", "project")
        .first()
    )


def running_engagement(project: Project) -> AuditEngagement | None:
    return (
        project.audits.filter(ended_at__isnull=True).select_related("firm", "lead_auditor").first()
    )


def running_supervision(project: Project) -> AuditEngagement | None:
    """The project's running whole-course engagement, if it has one."""
    engagement = running_engagement(project)
    return engagement if engagement is not None and engagement.whole_course else None


def assigned(engagement: AuditEngagement) -> list:
    """The lead and every auditor assigned, in id order, each once."""
    people = {engagement.lead_auditor_id: engagement.lead_auditor}
    people.update({u.pk: u for u in engagement.staff.all()})
    return [people[pk] for pk in sorted(people)]


def _check_people(firm: Organisation, lead, staff: list) -> list:
    if firm.kind != Organisation.Kind.AUDIT_FIRM:
        raise ValidationError(_("Only a registered audit firm can be appointed."))
    people = {p.pk: p for p in [lead, *staff]}
    for person in people.values():
        if person.organisation_id != firm.pk or not has_role(person, Role.AUDITOR):
            raise ValidationError(
                _("%(name)s is not an auditor of %(firm)s.") % {"name": person, "firm": firm}
            )
    return [people[pk] for pk in sorted(people)]


# --- appointing and ending ----------------------------------------------------------------


def appoint_supervision(
    project: Project, firm: Organisation, lead, staff: list, by
) -> AuditEngagement:
    """Staff appoint the supervision firm; the firm and each auditor pass the veto. A
    refusal is kept after the rollback, like every check."""
    try:
        return _appoint(project, firm, lead, staff, by)
    except VetoRefused as refused:
        keep_refusal(refused, by)
        raise


@transaction.atomic
def _appoint(project: Project, firm: Organisation, lead, staff: list, by) -> AuditEngagement:
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff appoint a supervision firm."))
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.status not in APPOINTABLE_STATES:
        raise ValidationError(
            _(
                "A supervision firm is appointed once the task contract is signed and before "
                "acceptance is requested."
            )
        )
    if not supervision_required(project):
        raise ValidationError(
            _("Supervision over the whole course is for projects of %(t)s yuan or more.")
            % {"t": grouped(threshold())}
        )
    if running_engagement(project) is not None:
        raise ValidationError(_("This project already has a running supervision engagement."))
    people = _check_people(firm, lead, staff)
    guard(project, Gate.AUDIT, engagement_subjects(firm, people), by)
    try:
        with transaction.atomic():
            engagement = AuditEngagement.objects.create(
                project=project, firm=firm, lead_auditor=lead, appointed_by=by, whole_course=True
            )
    except IntegrityError:  # another appointment won the race for the project
        raise ValidationError(
            _("This project already has a running supervision engagement.")
        ) from None
    engagement.staff.set(people)
    record(
        EventKind.SUPERVISION_APPOINTED,
        project,
        actor=by,
        data={
            "engagement": engagement.pk,
            "firm": firm.name,
            "credit_code": firm.credit_code,
            "lead_auditor": lead.pk,
            "staff": [p.pk for p in people],
            "check_months": settings.SUPERVISION_CHECK_MONTHS,
        },
    )
    return engagement


def end_engagement(engagement: AuditEngagement, by, reason: str) -> AuditEngagement:
    """Staff end a running engagement, with a reason; its auditors lose the funds at once."""
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff end a supervision engagement."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Please give a reason."))
    check_text(reason, label=_("Reason"), max_length=MAX_REASON_CHARS, multiline=False)
    with transaction.atomic():
        locked = AuditEngagement.objects.select_for_update().get(pk=engagement.pk)
        if locked.ended_at is not None:
            raise ValidationError(_("This engagement has already ended."))
        close(locked, reason)
        record(
            EventKind.SUPERVISION_ENDED,
            locked.project,
            actor=by,
            before={"running": True},
            after={"running": False},
            data={"engagement": locked.pk, "firm": locked.firm.name, "reason": reason},
        )
    return locked


def close(engagement: AuditEngagement, reason: str) -> None:
    """End `engagement` now (in the caller's transaction; the caller records why)."""
    engagement.ended_at, engagement.end_reason = timezone.now(), reason[:MAX_REASON_CHARS]
    engagement.save(update_fields=["ended_at", "end_reason"])


# --- the auditor acting -------------------------------------------------------------------


def acting_engagement(user, project: Project) -> AuditEngagement:
    """The running engagement `user` acts on for `project`; the firm and `user` pass the
    veto again (inside the caller's transaction: a refusal rolls the act back)."""
    engagement = running_engagement_of(user, project)
    if engagement is None:
        raise PermissionDenied(_("Only an auditor of the running engagement may do this."))
    guard(project, Gate.AUDIT, engagement_subjects(engagement.firm, [user]), user)
    return engagement


# --- the periodic fund checks -------------------------------------------------------------


def due_dates(start: datetime.date, until: datetime.date, months: int) -> list[datetime.date]:
    """Every `months` from `start` (its day, or the month's last), up to `until`."""
    dates, n = [], 1
    while (due := start + relativedelta(months=months * n)) <= until:
        dates.append(due)
        n += 1
    return dates


def create_due_checks(today: datetime.date | None = None) -> int:
    """The fund checks fallen due for every running whole-course engagement of a running
    project; run daily (idempotent: a check is made once). Returns how many were made."""
    today = today or timezone.localdate()
    months = settings.SUPERVISION_CHECK_MONTHS
    engagements = AuditEngagement.objects.filter(
        whole_course=True, ended_at__isnull=True, project__status__in=RUNNING_STATES
    ).only("pk", "appointed_at")
    made = 0
    for engagement in engagements.iterator():
        start = timezone.localdate(engagement.appointed_at)
        checks = []
        previous = start
        for due in due_dates(start, today, months):
            checks.append(FundCheck(engagement=engagement, period_from=previous, due_on=due))
            previous = due
        if not checks:
            continue
        existing = set(
            FundCheck.objects.filter(engagement=engagement).values_list("due_on", flat=True)
        )
        new = [c for c in checks if c.due_on not in existing]
        FundCheck.objects.bulk_create(new, ignore_conflicts=True)
        made += len(new)
    return made


def record_fund_check(check: FundCheck, by, summary: str) -> FundCheck:
    try:
        return _record_check(check, by, summary)
    except VetoRefused as refused:
        keep_refusal(refused, by)
        raise


@transaction.atomic
def _record_check(check: FundCheck, by, summary: str) -> FundCheck:
    check = (
        FundCheck.objects.select_for_update().select_related("engagement__project").get(pk=check.pk)
    )
    project = check.engagement.project
    engagement = running_engagement_of(by, project)
    if engagement is None or engagement.pk != check.engagement_id:
        raise PermissionDenied(_("Only an auditor of the running engagement may do this."))
    if check.recorded_at is not None:
        raise ValidationError(_("This fund check has already been recorded."))
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError(_("Write what the check found."))
    check_text(summary, label=_("Conclusion of the check"))
    acting_engagement(by, project)  # the veto, again, for the firm and this auditor
    check.summary, check.recorded_by, check.recorded_at = summary, by, timezone.now()
    check.save(update_fields=["summary", "recorded_by", "recorded_at"])
    record(
        EventKind.FUND_CHECK,
        project,
        actor=by,
        data={
            "engagement": engagement.pk,
            "check": check.pk,
            "period_from": check.period_from,
            "due_on": check.due_on,
            "summary": summary,
        },
    )
    return check


def checks_waiting_for(user) -> QuerySet[FundCheck]:
    """Fund checks due and not yet recorded on the running engagements `user` works on."""
    running = engagements_of(user).filter(ended_at__isnull=True).values("pk")
    return (
        FundCheck.objects.filter(engagement__in=running, recorded_at__isnull=True)
        .select_related("engagement__project")
        .order_by("due_on", "pk")
    )
