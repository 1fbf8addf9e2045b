"""The project page's "Recommended upward" card (issue 11): `{% upward_section project %}`.

A tag, so the project page needs one line and no context of its own; the card shows to
staff and leadership only, the form to staff, for a project approved or later.
"""

from __future__ import annotations

from django import template
from django.utils import timezone

from accounts.roles import Role, has_role

from ..models import UpwardRecommendation
from ..services import RECOMMENDABLE_STATES

register = template.Library()


@register.inclusion_tag("workplan/_upward_section.html", takes_context=True)
def upward_section(context, project) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    is_staff = has_role(user, Role.STAFF)
    if not (is_staff or has_role(user, Role.LEADER)):
        return {"shown": False}
    recommendations = list(project.upward_recommendations.all())
    may_recommend = is_staff and project.status in RECOMMENDABLE_STATES
    if not (recommendations or may_recommend):
        return {"shown": False}
    return {
        "shown": True,
        "project": project,
        "recommendations": recommendations,
        "may_recommend": may_recommend,
        "levels": UpwardRecommendation.Level.choices,
        "today": timezone.localdate().isoformat(),
        "csrf_token": context.get("csrf_token"),
    }
