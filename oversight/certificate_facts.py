"""What a certificate states about how, when and by whom a project was accepted.

Two ways lead to an accepted project (workflows.lifecycle): the panel's conclusion
(`conclude_acceptance`, 通过验收) and simple filing (`accept_by_filing`, 结题备案, no panel).
The trail's transition into "accepted" says which one and when. A certificate says
通过验收 only when a passed acceptance review exists as well: without one it is a filing
certificate, whatever else is found.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from funding.models import Project
from funding.states import ProjectStatus
from trail.kinds import EventKind
from trail.services import history_of

from .models import AcceptanceReview

FILING_TRANSITION = "accept_by_filing"


@dataclass(frozen=True)
class Acceptance:
    by_filing: bool
    on: datetime.date | None  # the day the project became accepted
    review: AcceptanceReview | None  # the passed review, for a panel's acceptance


def passed_review(project: Project) -> AcceptanceReview | None:
    return (
        project.acceptances.filter(conclusion=AcceptanceReview.Conclusion.PASSED)
        .order_by("-recorded_at", "-pk")
        .first()
    )


def acceptance_of(project: Project) -> Acceptance:
    accepted = (
        history_of(project)
        .filter(kind=EventKind.PROJECT_TRANSITION, after__status=ProjectStatus.ACCEPTED)
        .last()
    )
    review = passed_review(project)
    filed = accepted is not None and accepted.data.get("transition") == FILING_TRANSITION
    by_filing = filed or review is None
    if accepted is not None:
        moment = accepted.at
    else:
        moment = review.recorded_at if review is not None else None
    return Acceptance(
        by_filing=by_filing,
        on=timezone.localtime(moment).date() if moment else None,
        review=None if by_filing else review,
    )


def panel_names(project: Project) -> list[str]:
    """The names of the panel that accepted the project, as recorded with its conclusion.

    The one place a certificate reads the panel: switch it here when the drawn panel
    (AcceptancePanel) becomes the record. The review's text keeps the names as they
    stood that day; its members are the fallback for reviews recorded without it."""
    review = passed_review(project)
    if review is None:
        return []
    names = [line.strip() for line in review.panel.splitlines() if line.strip()]
    return names or [str(member) for member in review.panel_members.order_by("pk")]
