from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.forms import errors_onto
from accounts.roles import Role, has_role
from funding.models import Call, Project
from funding.services import call_is_open, create_project, update_application

from ..forms import ProjectForm


@login_required
def apply(request, pk: int):
    call = get_object_or_404(Call, pk=pk)
    if not has_role(request.user, Role.APPLICANT):
        raise PermissionDenied
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = create_project(request.user, call, form.project_data())
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("Draft saved. Check it, then sign and submit."))
            return redirect("project", pk=project.pk)
    return render(
        request, "workflows/apply.html", {"call": call, "form": form, "open": call_is_open(call)}
    )


@login_required
def edit_application(request, pk: int):
    project = get_object_or_404(Project, pk=pk, pi=request.user)
    form = ProjectForm(request.POST or None, initial=ProjectForm.initial_from(project))
    if request.method == "POST" and form.is_valid():
        try:
            update_application(request.user, project, form.project_data())
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("The application has been saved."))
            return redirect("project", pk=project.pk)
    return render(
        request,
        "workflows/apply.html",
        {"call": project.call, "form": form, "open": True, "project": project},
    )
