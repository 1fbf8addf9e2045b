"""Reviews against a call's criteria, their summary for the deciders, and the opinions
released to the applicant (anonymised: no names, no scores)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from accounts.text import check_text
from trail.kinds import EventKind
from trail.services import record

from .models import ExpertAssignment, Project
from .states import ProjectStatus


def criteria_of(project: Project) -> list[dict]:
    return list(project.call.criteria or [])


def checked_scores(criteria: list[dict], scores) -> dict[str, int]:
    """One whole score from 0 to 100 per criterion, none missing, none extra."""
    names = [c["name"] for c in criteria]
    if not isinstance(scores, dict) or set(scores) != set(names):
        raise ValidationError(_("Give a score for every criterion."))
    checked = {}
    for name in names:
        value = scores[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise ValidationError(
                _("The score for “%(name)s” must be a whole number from 0 to 100.") % {"name": name}
            )
        checked[name] = value
    return checked


def weighted_total(criteria: list[dict], scores: dict[str, int]) -> int:
    """The weighted mean of the criteria's scores, rounded half up to a whole point."""
    weights = {c["name"]: Decimal(str(c["weight"])) for c in criteria}
    total = sum(weights.values(), Decimal(0))
    mean = sum((weights[n] * scores[n] for n in weights), Decimal(0)) / total
    return int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- the summary where staff and the leader decide ---------------------------------------


@dataclass
class Spread:
    mean: float | None = None
    sd: float | None = None  # population standard deviation
    low: int | None = None
    high: int | None = None

    @classmethod
    def of(cls, values: list[int]) -> Spread:
        if not values:
            return cls()
        return cls(
            mean=round(statistics.fmean(values), 1),
            sd=round(statistics.pstdev(values), 1),
            low=min(values),
            high=max(values),
        )


@dataclass
class Summary:
    criteria: list[dict]
    reviews: list[dict] = field(default_factory=list)
    per_criterion: list[dict] = field(default_factory=list)
    total: Spread = field(default_factory=Spread)
    declined: list[ExpertAssignment] = field(default_factory=list)
    divergence: int = 0


def submitted_reviews(project: Project):
    """The submitted reviews in their stable order (the applicant's "Expert 1, 2, 3")."""
    return project.assignments.filter(
        submitted_at__isnull=False, declined_at__isnull=True
    ).order_by("pk")


def review_summary(project: Project) -> Summary:
    """Each opinion with its scores, mean and spread per criterion and in total, and the
    reviews whose total lies more than REVIEW_DIVERGENCE points from the mean."""
    criteria = criteria_of(project)
    reviews = list(submitted_reviews(project).select_related("expert"))
    divergence = settings.REVIEW_DIVERGENCE
    summary = Summary(criteria=criteria, divergence=divergence)
    summary.total = Spread.of([r.score for r in reviews])
    for criterion in criteria:
        name = criterion["name"]
        values = [r.scores[name] for r in reviews if name in (r.scores or {})]
        summary.per_criterion.append({"criterion": criterion, "spread": Spread.of(values)})
    for number, review in enumerate(reviews, start=1):
        off = None if summary.total.mean is None else review.score - summary.total.mean
        summary.reviews.append(
            {
                "number": number,
                "assignment": review,
                "scores": [(review.scores or {}).get(c["name"]) for c in criteria],
                "divergent": off is not None and len(reviews) > 1 and abs(off) > divergence,
                "off": None if off is None else round(off, 1),
            }
        )
    summary.declined = list(
        project.assignments.filter(declined_at__isnull=False)
        .select_related("expert", "replaced_by__expert")
        .order_by("declined_at", "pk")
    )
    return summary


# --- opinions released to the applicant ---------------------------------------------------


def released_opinions(project: Project) -> list[dict]:
    """What the applicant reads: "Expert n" and the released text, nothing else."""
    return [
        {"number": number, "text": review.released_opinion}
        for number, review in enumerate(submitted_reviews(project), start=1)
        if review.released_at and review.released_opinion
    ]


@transaction.atomic
def release_opinions(project: Project, by, texts: dict[int, str]) -> list[int]:
    """Staff release an anonymised text per review (empty: withdrawn); journaled.

    `texts` maps assignment ids to the text to show the applicant. Returns the ids of
    the reviews whose released text changed.
    """
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff release review opinions."))
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.status in (ProjectStatus.FORMAL_CHECK, ProjectStatus.EXPERT_REVIEW):
        raise ValidationError(_("Opinions are released once the expert review is concluded."))
    reviews = {r.pk: r for r in submitted_reviews(project).select_for_update()}
    if set(texts) - set(reviews):
        raise ValidationError(_("Only this project's submitted reviews can be released."))
    changed, now = [], timezone.now()
    for pk, text in texts.items():
        text = text.strip() if isinstance(text, str) else ""
        check_text(text, label=_("Released opinion"))
        review = reviews[pk]
        if text == review.released_opinion and bool(text) == bool(review.released_at):
            continue
        review.released_opinion, review.released_at = text, (now if text else None)
        review.save(update_fields=["released_opinion", "released_at"])
        changed.append(pk)
    if changed:
        numbers = {pk: n for n, pk in enumerate(reviews, start=1)}
        record(
            EventKind.OPINIONS_RELEASED,
            project,
            actor=by,
            data={
                "released": {
                    str(numbers[pk]): reviews[pk].released_opinion
                    for pk in changed
                    if reviews[pk].released_at
                },
                "withdrawn": [numbers[pk] for pk in changed if not reviews[pk].released_at],
            },
        )
    return changed
