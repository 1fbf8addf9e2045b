"""双随机、一公开: a draw's page and its results, recorded by its inspectors or staff.

The list of draws, where staff draw, is oversight.lists.inspections.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from accounts.text import BoundedFormMixin
from funding.models import Project
from oversight.inspections import record_result
from oversight.models import InspectionDraw, InspectionResult

from .feedback import FAILED, attempt


class ResultForm(BoundedFormMixin, forms.Form):
    conclusion = forms.ChoiceField(
        label=gettext_lazy("Conclusion"), choices=InspectionResult.Conclusion.choices
    )
    finding = forms.CharField(
        label=gettext_lazy("Finding"), widget=forms.Textarea(attrs={"rows": 2})
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
