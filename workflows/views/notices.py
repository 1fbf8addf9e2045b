"""立项公示: projects the leadership approved, on public notice before they are final;
anyone may object (异议) while the notice runs, and staff decide each objection."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.lockouts import client_ip
from accounts.ratelimit import within_rate
from accounts.roles import Role, has_role
from funding.models import Project
from funding.notice import notice_running
from funding.objection_services import decide_objection, lodge_objection, objections_closed_message
from funding.objections import Objection
from funding.states import ProjectStatus

from ..forms_notice import ObjectionDecisionForm, ObjectionForm
from .feedback import FAILED, attempt
from .projects import render_project, visible_project


def on_notice():
    return Project.objects.filter(status=ProjectStatus.PUBLIC_NOTICE).select_related(
        "applicant_org", "pi", "call"
    )


NOTICES_PER_PAGE = 50


def notice_list(request):
    # Whether an objection is pending is public; what it says and who lodged it are not.
    projects = on_notice().annotate(
        open_objections=Count("objections", filter=Q(objections__status=Objection.Status.OPEN))
    )
    page = Paginator(projects.order_by("call", "title", "pk"), NOTICES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "workflows/notices.html",
        {"projects": [(p, notice_running(p)) for p in page], "page": page},
    )


def lodge(request, pk: int):
    """Lodge an objection: no sign-in, a name and a contact, a rate per address."""
    project = get_object_or_404(on_notice(), pk=pk)
    running = notice_running(project)
    form = ObjectionForm(request.POST or None)
    if request.method == "POST":
        if not running:
            messages.error(request, objections_closed_message(project))
        elif form.is_valid():
            address = client_ip(request) or "unknown"
            if not within_rate(f"objection:ip:{address}", settings.OBJECTIONS_PER_ADDRESS):
                form.add_error(
                    None, _("Too many objections from your address; try again in an hour.")
                )
            else:
                lodged = attempt(
                    request,
                    lambda: lodge_objection(project.pk, **form.cleaned_data),
                    _(
                        "Your objection has been lodged. The bureau looks into it before the "
                        "notice closes and may contact you."
                    ),
                    form=form,
                )
                if lodged is not FAILED:
                    return redirect("notices")
    return render(
        request,
        "workflows/notice_objection.html",
        {"project": project, "form": form if running else None, "running": running},
    )


@login_required
@require_POST
def decide(request, pk: int, objection_id: int):
    """Staff record the finding and the outcome of one objection."""
    if not has_role(request.user, Role.STAFF):
        raise PermissionDenied
    project = visible_project(request, pk)
    objection = get_object_or_404(Objection, pk=objection_id, project=project)
    form = ObjectionDecisionForm(request.POST, prefix=f"objection-{objection.pk}")
    if form.is_valid():
        decided = attempt(
            request,
            lambda: decide_objection(objection.pk, request.user, **form.cleaned_data),
            _("The finding has been recorded."),
        )
        if decided is not FAILED:
            return redirect("project", pk=pk)
    else:
        messages.error(request, _("Choose an outcome and write down the finding."))
    typed = {"objection": objection.pk, "objection_form": form}
    return render_project(request, visible_project(request, pk), typed=typed)
