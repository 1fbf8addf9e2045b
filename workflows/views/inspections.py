"""双随机、一公开: the public list of draws and results; staff draw, inspectors record."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from accounts.text import BoundedFormMixin
from funding.models import Project
from oversight.inspections import draw_inspections, record_result
from oversight.models import InspectionDraw, InspectionResult

from .feedback import FAILED, attempt


class DrawForm(BoundedFormMixin, forms.Form):
    n_projects = forms.IntegerField(label=gettext_lazy("Projects to draw"), min_value=1)
    n_inspectors = forms.IntegerField(label=gettext_lazy("Inspectors to draw"), min_value=1)
    seed = forms.CharField(
        label=gettext_lazy("Seed (empty: a random one, published with the draw)"),
        required=False,
        max_length=64,
    )


class ResultForm(BoundedFormMixin, forms.Form):
    conclusion = forms.ChoiceField(
        label=gettext_lazy("Conclusion"), choices=InspectionResult.Conclusion.choices
    )
    finding = forms.CharField(
        label=gettext_lazy("Finding"), widget=forms.Textarea(attrs={"rows": 2})
    )


def draw_list(request):
    # The pools stay in the database: the list shows their size (pool_size), and the pool
    # of each draw is on its own page.
    draws = InspectionDraw.objects.defer("population", "inspector_pool").prefetch_related(
        "projects__applicant_org", "inspectors"
    )
    can_draw = has_role(request.user, Role.STAFF)
    form = DrawForm(request.POST or None) if can_draw else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draw = attempt(
            request,
            lambda: draw_inspections(
                request.user, data["n_projects"], data["n_inspectors"], data["seed"]
            ),
            _("Drawn. The seed and the pool are published with the result."),
        )
        if draw is not FAILED:
            return redirect("inspection", pk=draw.pk)
    # Every draw stays public, a page at a time.
    page = Paginator(draws.order_by("-drawn_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(
        request, "workflows/inspections.html", {"draws": page, "page": page, "form": form}
    )


def draw_page(request, pk: int, failed=None):
    """The draw and its results; `failed` (project id, bound form) comes back as typed."""
    draw = get_object_or_404(InspectionDraw, pk=pk)
    results = {r.project_id: r for r in draw.results.all()}
    may_record = request.user.is_authenticated and (
        has_role(request.user, Role.STAFF) or draw.inspectors.filter(pk=request.user.pk).exists()
    )
    rows = [
        {
            "project": p,
            "result": results.get(p.pk),
            "form": may_record
            and (failed[1] if failed and failed[0] == p.pk else ResultForm(prefix=str(p.pk))),
        }
        for p in draw.projects.select_related("applicant_org")
    ]
    return render(request, "workflows/inspection.html", {"draw": draw, "rows": rows})


@require_POST
def record(request, pk: int, project_id: int):
    draw = get_object_or_404(InspectionDraw, pk=pk)
    project = get_object_or_404(Project, pk=project_id)
    form = ResultForm(request.POST, prefix=str(project_id))
    if not request.user.is_authenticated:
        return redirect("login")
    if not form.is_valid():
        messages.error(request, _("Please correct the fields below."))
        return draw_page(request, pk, failed=(project.pk, form))
    data = form.cleaned_data
    done = attempt(
        request,
        lambda: record_result(draw, project, request.user, data["conclusion"], data["finding"]),
        _("The result has been recorded and published."),
        form=form,
    )
    if done is FAILED:
        return draw_page(request, pk, failed=(project.pk, form))
    return redirect("inspection", pk=pk)
