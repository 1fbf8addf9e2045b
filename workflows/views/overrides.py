"""Asking for and approving a two-person override of the veto, from the project page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from integrity.overrides import approve_override, overrides_for, request_override

from ..forms import OverrideForm
from .feedback import FAILED, attempt
from .projects import render_project, visible_project


@login_required
@require_POST
def ask(request, pk: int):
    project = visible_project(request, pk)
    form = OverrideForm(request.POST, project=project)
    if not form.is_valid():
        messages.error(
            request, _("Choose the gate and the sanction, and write the reason for the override.")
        )
        return render_project(request, project, override_form=form)
    data = form.cleaned_data
    done = attempt(
        request,
        lambda: request_override(
            project, data["gate"], data["sanction"], data["reason"], request.user
        ),
        _("The override waits for a leader's approval."),
        form=form,
    )
    if done is FAILED:  # e.g. a serious case: the reason typed stays, with why not
        return render_project(request, project, override_form=form)
    return redirect("project", pk=pk)


@login_required
@require_POST
def approve(request, pk: int, override_id: int):
    project = visible_project(request, pk)
    override = get_object_or_404(overrides_for(project), pk=override_id)
    attempt(
        request,
        lambda: approve_override(override, project, request.user),
        _("Override approved: the next check at that gate will let the action through."),
    )
    return redirect("project", pk=pk)
