"""双随机、一公开: a seeded, reproducible draw of projects and inspectors, results public.

The pool is every project in progress and every expert reviewer, in id order; the draw
is `random.Random(seed).sample` over each. Keeping the pool and the seed lets anyone
repeat the draw (`redo_draw`) and see that nobody picked.
"""

from __future__ import annotations

import random
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from funding.models import Project
from funding.services import expert_subject
from funding.states import ProjectStatus
from integrity.gates import guard, keep_refusal
from integrity.models import Gate, SubjectKind
from integrity.policy import Subject, VetoRefused, check_veto
from trail.kinds import EventKind
from trail.services import record

from .models import InspectionDraw, InspectionResult


def _sample(seed: str, pool: list[int], size: int) -> list[int]:
    return sorted(random.Random(f"{seed}|{len(pool)}").sample(pool, size))


def redo_draw(seed: str, population: list[int], inspector_pool: list[int], n: int, m: int):
    return _sample(seed, population, n), _sample(seed + "|inspectors", inspector_pool, m)


@transaction.atomic
def draw_inspections(by, n_projects: int, n_inspectors: int, seed: str = "") -> InspectionDraw:
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff draw inspections."))
    population = list(
        Project.objects.filter(status=ProjectStatus.IN_PROGRESS)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    inspector_pool, excluded = eligible_inspectors()
    if not 1 <= n_projects <= len(population):
        raise ValidationError(
            _("Draw between 1 and %(n)d projects (those in progress).") % {"n": len(population)}
        )
    if not 1 <= n_inspectors <= len(inspector_pool):
        raise ValidationError(
            _("Draw between 1 and %(n)d inspectors.") % {"n": len(inspector_pool)}
        )
    seed = seed.strip() or secrets.token_hex(8)
    projects, inspectors = redo_draw(seed, population, inspector_pool, n_projects, n_inspectors)
    draw = InspectionDraw.objects.create(
        seed=seed,
        population=population,
        pool_size=len(population),
        inspector_pool=inspector_pool,
        drawn_by=by,
    )
    draw.projects.set(projects)
    draw.inspectors.set(inspectors)
    drawn = get_user_model().objects.filter(pk__in=inspectors)
    guard(draw, Gate.REVIEW, [expert_subject(u, _("Inspector")) for u in drawn], by)
    record(
        EventKind.INSPECTION_DRAWN,
        draw,
        actor=by,
        data={
            "seed": seed,
            "projects": projects,
            "inspectors": inspectors,
            "pool": len(population),
            "excluded": excluded,
        },
    )
    return draw


def eligible_inspectors() -> tuple[list[int], dict[str, list[int]]]:
    """Active experts who may inspect today, in id order, and who was left out and why:
    nobody without an ID number, nobody the register bars from expert work."""
    experts = list(
        get_user_model()
        .objects.filter(groups__name=Role.EXPERT.value, is_active=True)
        .order_by("pk")
        .values_list("pk", "id_number", "real_name")
    )
    subjects = [Subject(SubjectKind.PERSON, number, name, "") for _pk, number, name in experts]
    barred = {s.subject_id for s in check_veto(subjects, Gate.REVIEW).blocking}
    pool = [pk for pk, number, _name in experts if number and number not in barred]
    excluded = {
        "no_identity": [pk for pk, number, _name in experts if not number],
        "sanctioned": [pk for pk, number, _name in experts if number and number in barred],
    }
    return pool, excluded


def record_result(draw: InspectionDraw, project: Project, by, conclusion: str, finding: str):
    """An inspection result; a refusal by the veto is kept after the rollback."""
    try:
        return _record_result(draw, project, by, conclusion, finding)
    except VetoRefused as refused:
        keep_refusal(refused, by)
        raise


@transaction.atomic
def _record_result(draw: InspectionDraw, project: Project, by, conclusion: str, finding: str):
    is_inspector = draw.inspectors.filter(pk=by.pk).exists()
    if not (has_role(by, Role.STAFF) or is_inspector):
        raise PermissionDenied(_("Only staff or a drawn inspector record results."))
    if not draw.projects.filter(pk=project.pk).exists():
        raise ValidationError(_("That project was not drawn."))
    if conclusion not in InspectionResult.Conclusion.values or not finding.strip():
        raise ValidationError(_("Give a conclusion and what was found."))
    if InspectionResult.objects.filter(draw=draw, project=project).exists():
        raise ValidationError(_("This project's result is already recorded."))
    # The inspectors are checked as the result is recorded, not only when drawn: the one
    # recording it, or, when staff record it for them, every inspector of the draw.
    inspectors = [by] if is_inspector else list(draw.inspectors.all())
    guard(project, Gate.REVIEW, [expert_subject(u, _("Inspector")) for u in inspectors], by)
    result = InspectionResult.objects.create(
        draw=draw, project=project, conclusion=conclusion, finding=finding.strip(), recorded_by=by
    )
    record(
        EventKind.INSPECTION_RESULT,
        project,
        actor=by,
        data={"draw": draw.pk, "conclusion": conclusion, "finding": result.finding},
    )
    return result


def inspections_waiting_for(user) -> QuerySet:
    """The drawn projects whose result `user`, drawn as their inspector, has still to
    record: rows of the draw's project list, each with its draw and project, the
    oldest draw first (an inspector's inbox)."""
    drawn = InspectionDraw.projects.through
    recorded = InspectionResult.objects.filter(
        draw=OuterRef("inspectiondraw"), project=OuterRef("project")
    )
    return (
        drawn.objects.filter(inspectiondraw__inspectors=user)
        .exclude(Exists(recorded))
        .select_related("inspectiondraw", "project")
        .defer("inspectiondraw__population", "inspectiondraw__inspector_pool")
        .order_by("inspectiondraw__drawn_at", "inspectiondraw_id", "project_id")
    )
