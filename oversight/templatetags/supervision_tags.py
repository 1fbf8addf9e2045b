"""The project page's supervision block (issue 9): `{% supervision_section project %}`.

A tag, so the project page needs one line and no context of its own: who sees what is
decided here, by the same rules as the supervision pages.
"""

from __future__ import annotations

from django import template
from django.utils import timezone

from accounts.roles import Role, has_role
from funding.states import ProjectStatus

from .. import findings as rules
from .. import supervision_engagements as engagements
from ..models import SupervisionFinding

register = template.Library()


@register.inclusion_tag("workflows/supervision_section.html", takes_context=True)
def supervision_section(context, project) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not rules.can_see_findings(user, project):
        return {"shown": False}
    is_staff = has_role(user, Role.STAFF)
    running = engagements.running_engagement(project)
    has_any = running is not None or project.audits.filter(whole_course=True).exists()
    may_appoint = (
        is_staff
        and running is None
        and project.status in engagements.APPOINTABLE_STATES
        and engagements.supervision_required(project)
    )
    if not (has_any or may_appoint):
        return {"shown": False}
    findings = list(rules.findings_shown_to(user, project))
    today = timezone.localdate()
    open_ = [f for f in findings if f.status != SupervisionFinding.Status.CLOSED]
    overdue = [
        f
        for f in findings
        if f.status == SupervisionFinding.Status.OPEN and f.rectify_by and f.rectify_by < today
    ]
    # The lead auditor writing the opinion sees what it is built on, where they write it.
    writing_opinion = (
        running is not None
        and project.status == ProjectStatus.UNDER_AUDIT
        and running.lead_auditor_id == user.pk
    )
    return {
        "shown": True,
        "project": project,
        "running": running,
        "may_appoint": may_appoint,
        "open_count": len(open_),
        "overdue_count": len(overdue),
        "opinion_findings": findings if writing_opinion else [],
        "writing_opinion": writing_opinion,
    }
