"""Lodging and deciding objections (异议) to a project on public notice.

Anyone lodges one while the notice runs; staff record a finding and an outcome. The
notice cannot close while one is open, nor after one was upheld: an upheld objection
means the approval does not stand, and staff (or the leader) reject the project.

The journal records each objection by its number and a digest of what was lodged, not
the name or contact of the person: the journal keeps everything forever and is shown to
whoever sees the project, the applicant included; the person stays on the objection.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from accounts.text import check_text
from trail.kinds import EventKind
from trail.services import record

from .models import Project
from .notice import notice_running
from .objections import Objection
from .states import ProjectStatus

# Longer belongs in a letter to the bureau, with its evidence.
OBJECTION_TEXT_MAX = 5000


def _max_length(field: str) -> int:
    return Objection._meta.get_field(field).max_length


def _digest(objection: Objection) -> str:
    lodged = "\x1f".join((objection.name, objection.contact, objection.text))
    return hashlib.sha256(lodged.encode()).hexdigest()


def lodge_objection(project_id: int, *, name: str, contact: str, text: str) -> Objection:
    """Lodge an objection while the project's notice runs (no sign-in: anyone may)."""
    name, contact, text = (str(v or "").strip() for v in (name, contact, text))
    for value, label, limit, multiline in (
        (name, _("Name"), _max_length("name"), False),
        (contact, _("Contact"), _max_length("contact"), False),
        (text, _("Objection"), OBJECTION_TEXT_MAX, True),
    ):
        if not value:
            raise ValidationError(_("%(label)s: this field is required.") % {"label": label})
        check_text(value, label=label, max_length=limit, multiline=multiline)
    with transaction.atomic():
        # The row lock queues a lodging behind a closing of the notice, and vice versa.
        project = Project.objects.select_for_update().get(pk=project_id)
        if not notice_running(project):
            raise ValidationError(objections_closed_message(project))
        objection = Objection.objects.create(project=project, name=name, contact=contact, text=text)
        record(
            EventKind.OBJECTION_LODGED,
            project,
            actor=None,  # the person is on the objection, not in the journal
            data={"objection": objection.pk, "sha256": _digest(objection)},
        )
    return objection


def objections_closed_message(project: Project) -> str:
    if project.status != ProjectStatus.PUBLIC_NOTICE:
        return _("This project is not on public notice; objections are no longer taken here.")
    return _(
        "The public notice ended on %(d)s; objections are no longer taken here. "
        "Write to the bureau instead."
    ) % {"d": project.notice_ends_on}


def decide_objection(objection_id: int, actor, *, outcome: str, finding: str) -> Objection:
    """Staff record the finding (调查核实意见) and the outcome: upheld or dismissed."""
    if not has_role(actor, Role.STAFF):
        raise PermissionDenied(_("Only staff decide objections."))
    if outcome not in (Objection.Status.UPHELD, Objection.Status.DISMISSED):
        raise ValidationError(_("Choose whether the objection is upheld or dismissed."))
    finding = str(finding or "").strip()
    if not finding:
        raise ValidationError(_("Write down the finding."))
    check_text(finding, label=_("Finding"))
    with transaction.atomic():
        project_id = Objection.objects.values_list("project_id", flat=True).get(pk=objection_id)
        # Locked in the order closing the notice takes them: the project, then its rows.
        project = Project.objects.select_for_update().get(pk=project_id)
        objection = Objection.objects.select_for_update().get(pk=objection_id)
        if objection.status != Objection.Status.OPEN:
            raise ValidationError(
                _("This objection was already decided: %(outcome)s.")
                % {"outcome": objection.get_status_display()}
            )
        objection.status, objection.finding = outcome, finding
        objection.decided_by, objection.decided_at = actor, timezone.now()
        objection.save(update_fields=["status", "finding", "decided_by", "decided_at"])
        record(
            EventKind.OBJECTION_DECIDED,
            project,
            actor=actor,
            data={"objection": objection.pk, "outcome": outcome, "finding": finding},
        )
    return objection


def closing_blocker(project: Project) -> str | None:
    """Why the notice may not close as approved because of its objections, or None."""
    statuses = set(project.objections.values_list("status", flat=True))
    if Objection.Status.OPEN in statuses:
        return _("An objection to this project is still open: record its finding first.")
    if Objection.Status.UPHELD in statuses:
        return _("An objection to this project was upheld: it cannot be approved; reject it.")
    return None


def objections_of(project: Project) -> QuerySet[Objection]:
    return project.objections.select_related("decided_by")


def objection_context(project: Project, user) -> dict:
    """The project page's objection section: the objections for staff and the leader,
    for everyone else only whether one is open (as the public notice shows)."""
    if project.notice_ends_on is None and project.status != ProjectStatus.PUBLIC_NOTICE:
        # Never on notice: nothing to show, and no query on most project pages.
        return {
            "objections": [],
            "objections_shown": False,
            "objection_open": False,
            "can_decide_objections": False,
        }
    deciders = has_role(user, Role.STAFF) or has_role(user, Role.LEADER)
    objections = list(objections_of(project)) if deciders else []
    return {
        "objections": objections,
        "objections_shown": deciders,
        "objection_open": any(o.status == Objection.Status.OPEN for o in objections)
        if deciders
        else project.objections.filter(status=Objection.Status.OPEN).exists(),
        "can_decide_objections": has_role(user, Role.STAFF),
    }


def objections_to_decide(user) -> QuerySet[Objection]:
    """Open objections, for staff who decide them (an inbox): the notice ending first
    comes first, since the notice cannot close as approved while one is open."""
    if not has_role(user, Role.STAFF):
        return Objection.objects.none()
    return (
        Objection.objects.filter(status=Objection.Status.OPEN)
        .select_related("project")
        .order_by("project__notice_ends_on", "lodged_at", "pk")
    )
