"""The expert pool's pages: an expert's own profile; on the project page, the draw,
the no-conflict declaration (before it, an expert sees the title only), declining, the
review per criterion, the review summary for the deciders and the opinions released
to the applicant, anonymised."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from funding import expert_draw
from funding.expert_profiles import profile_of, save_expert_profile
from funding.experts import ExpertField
from funding.models import ExpertAssignment
from funding.reviews import release_opinions, released_opinions, review_summary
from funding.states import ProjectStatus as S

from ..actions import submit_expert_review
from ..forms_experts import (
    DeclareForm,
    DeclineForm,
    DrawForm,
    ExpertProfileForm,
    PickReplacementForm,
    ReleaseForm,
    ReviewForm,
)
from ..reviewing import declare_no_conflict, decline_review, pick_replacement
from .feedback import FAILED, attempt

# The states after the expert review in which staff may release opinions.
RELEASE_CLOSED = frozenset({S.DRAFT, S.SUBMITTED, S.FORMAL_CHECK, S.EXPERT_REVIEW})


# --- the expert's own profile ----------------------------------------------------------


@login_required
def profile_page(request):
    if not has_role(request.user, Role.EXPERT):
        raise PermissionDenied
    profile = profile_of(request.user)
    if request.method == "POST":
        form = ExpertProfileForm(request.POST)
        if form.is_valid():
            relations = form.apply_to(profile)
            saved = attempt(
                request,
                lambda: save_expert_profile(profile, relations, request.user),
                _("Your expert profile has been saved."),
                form=form,
            )
            if saved is not FAILED:
                return redirect("expert-profile")
        else:
            messages.error(request, _("Please correct the fields below."))
    else:
        form = ExpertProfileForm(initial=ExpertProfileForm.initial_from(profile))
    return render(request, "workflows/expert_profile.html", {"form": form, "profile": profile})


# --- what the project page shows of the pool and the reviews ----------------------------


def _assignment(project, user) -> ExpertAssignment | None:
    return project.assignments.filter(expert=user).first() if user.is_authenticated else None


def _deciders(user) -> bool:
    return has_role(user, Role.STAFF) or has_role(user, Role.LEADER)


def sees_released_opinions(user, project) -> bool:
    """The applicant's side (its applicants and unit office) and the deciders; never an
    expert of the project."""
    if _deciders(user) or has_role(user, Role.INTEGRITY):
        return True
    own = user.organisation_id is not None and user.organisation_id == project.applicant_org_id
    return own and (has_role(user, Role.APPLICANT) or has_role(user, Role.UNIT))


def pool_context(request, project, review_form=None) -> dict:
    """The context of templates/workflows/_review_pool.html and the review form."""
    user = request.user
    forms = getattr(request, "pool_forms", {})  # a refused form, back as typed
    mine = _assignment(project, user)
    reviewing = (
        project.status == S.EXPERT_REVIEW
        and mine is not None
        and not mine.submitted_at
        and not mine.declined_at
    )
    is_staff = has_role(user, Role.STAFF)
    pool = {"mine": mine if reviewing else None, "today": timezone.localdate()}
    if reviewing:
        pool["decline_form"] = forms.get("decline") or DeclineForm()
    if is_staff:
        pool.update(_staff_pool(project, forms))
    if sees_released_opinions(user, project):
        pool["released"] = released_opinions(project)
    summary = None
    if _deciders(user) and project.assignments.filter(submitted_at__isnull=False).exists():
        summary = review_summary(project)
    if reviewing:
        review_form = review_form or ReviewForm(project=project, declared=mine.no_conflict_declared)
    return {"review_form": review_form if reviewing else None, "pool": pool, "summary": summary}


def _staff_pool(project, forms: dict) -> dict:
    draws = list(project.review_draws.select_related("drawn_by"))
    labels = dict(ExpertField.choices)
    picked = {pk for draw in draws for pk in draw.picks}
    names = {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=picked)}
    for draw in draws:
        draw.pick_names = [names.get(pk, pk) for pk in draw.picks]
        draw.repeats = expert_draw.redo_draw(draw) == draw.picks
        draw.field_labels = [labels.get(f, f) for f in draw.fields]
        draw.left_out = {
            str(expert_draw.EXCLUSIONS.get(k, k)): len(v) for k, v in draw.excluded.items()
        }
    pool = {
        "draws": draws,
        "assignments": list(
            project.assignments.select_related("expert", "drawn", "replaced_by__expert")
        ),
    }
    if project.status == S.FORMAL_CHECK:
        pool["draw_form"] = forms.get("draw") or DrawForm(project=project)
    if project.status == S.EXPERT_REVIEW and expert_draw.awaiting_replacement(project):
        pool["pick_form"] = forms.get("pick") or PickReplacementForm()
    if (
        project.status not in RELEASE_CLOSED
        and project.assignments.filter(submitted_at__isnull=False).exists()
    ):
        pool["release_form"] = forms.get("release") or ReleaseForm(project=project)
    return pool


def title_only_page(request, project, review_form=None):
    """What an expert sees before declaring no conflict (or after declining): the title,
    the call and the state, the declaration and the way to decline. A review sent without
    the declaration comes back here as typed (`review_form`)."""
    mine = _assignment(project, request.user)
    forms = getattr(request, "pool_forms", {})
    open_ = (
        mine is not None
        and project.status == S.EXPERT_REVIEW
        and not mine.declined_at
        and not mine.submitted_at
    )
    return render(
        request,
        "workflows/expert_declare.html",
        {
            "project": project,
            "mine": mine,
            "open": open_,
            "declare_form": (forms.get("declare") or DeclareForm()) if open_ else None,
            "decline_form": (forms.get("decline") or DeclineForm()) if open_ else None,
            "review_form": review_form if open_ else None,
        },
    )


def _back(request, pk: int, name: str, form):
    """The project page again, `form` (refused) as typed."""
    from .projects import render_project, visible_project

    request.pool_forms = {name: form}
    return render_project(request, visible_project(request, pk))


# --- the expert's steps -----------------------------------------------------------------


def _step(request, pk: int, name: str, form, run, done: str):
    """A pool step's form: valid, `run(cleaned_data)` and back to the project page;
    invalid or refused, the project page with `form` as typed."""
    if form.is_valid():
        if attempt(request, lambda: run(form.cleaned_data), done) is not FAILED:
            return redirect("project", pk=pk)
    else:
        messages.error(request, _("Please correct the fields below."))
    return _back(request, pk, name, form)


@login_required
@require_POST
def declare(request, pk: int):
    from .projects import visible_project

    project = visible_project(request, pk)
    return _step(
        request,
        pk,
        "declare",
        DeclareForm(request.POST),
        lambda data: declare_no_conflict(project.pk, request.user),
        _("Declared. The application is open to you now."),
    )


@login_required
@require_POST
def decline(request, pk: int):
    from .projects import visible_project

    project = visible_project(request, pk)
    return _step(
        request,
        pk,
        "decline",
        DeclineForm(request.POST),
        lambda data: decline_review(
            project.pk, request.user, data["reason"], conflict=data["conflict"]
        ),
        _("You have declined this review."),
    )


@login_required
@require_POST
def review(request, pk: int):
    from .projects import render_project, visible_project

    project = visible_project(request, pk)
    mine = _assignment(project, request.user)
    declared = bool(mine and mine.no_conflict_declared)
    form = ReviewForm(request.POST, project=project, declared=declared)
    if not form.is_valid():
        messages.error(request, _("Please give every score and your opinion."))
        return render_project(request, project, review_form=form)
    done = attempt(
        request,
        lambda: submit_expert_review(project.pk, request.user, **form.review_kwargs(declared)),
        _("Your review has been submitted."),
        form=form,
    )
    if done is FAILED:
        return render_project(request, visible_project(request, pk), review_form=form)
    return redirect("project", pk=pk)


# --- staff's steps ----------------------------------------------------------------------


def _staff_project(request, pk: int):
    from .projects import visible_project

    if not has_role(request.user, Role.STAFF):
        raise PermissionDenied  # a clear 403 here; the services refuse on every path
    return visible_project(request, pk)


@login_required
@require_POST
def draw(request, pk: int):
    project = _staff_project(request, pk)
    return _step(
        request,
        pk,
        "draw",
        DrawForm(request.POST, project=project),
        lambda data: expert_draw.draw_reviewers(
            project, request.user, list(data["expert_fields"]), data["size"], data["seed"]
        ),
        _("Drawn. The seed and the pool are kept with the draw; tick the experts below."),
    )


@login_required
@require_POST
def pick(request, pk: int):
    project = _staff_project(request, pk)
    return _step(
        request,
        pk,
        "pick",
        PickReplacementForm(request.POST),
        lambda data: pick_replacement(project.pk, request.user, data["expert"], data["reason"]),
        _("The expert picked by hand takes the declined review."),
    )


@login_required
@require_POST
def release(request, pk: int):
    project = _staff_project(request, pk)
    form = ReleaseForm(request.POST, project=project)
    return _step(
        request,
        pk,
        "release",
        form,
        lambda data: release_opinions(project, request.user, form.texts()),
        _("The released opinions are shown to the applicant, without names or scores."),
    )
