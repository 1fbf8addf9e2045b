"""The public library of tech reports (科技报告): no sign-in needed."""

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from accounts.text import BoundedFormMixin
from documents.access import Visibility, visibility
from documents.attachments import current_documents
from oversight.models import TechReport
from oversight.reports import public_reports


class ReportSearchForm(BoundedFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search titles, abstracts and keywords"), required=False, max_length=100
    )


def report_list(request):
    form = ReportSearchForm(request.GET or None)
    # A term that cannot be searched (control characters, too long) finds nothing, with why.
    valid = form.is_valid() if form.is_bound else True
    query = form.cleaned_data.get("q", "").strip() if valid and form.is_bound else ""
    reports = public_reports(query) if valid else TechReport.objects.none()
    page = Paginator(reports, 20).get_page(request.GET.get("page"))
    context = {"page": page, "query": request.GET.get("q", "")[:100], "form": form}
    return render(request, "workflows/reports.html", context)


def report_detail(request, pk: int):
    report = get_object_or_404(public_reports(), pk=pk)
    return render(
        request,
        "workflows/report.html",
        {"report": report, "full_text": public_full_text(request.user, report)},
    )


def public_full_text(user, report: TechReport):
    """The current full-text file, when the access rule lets `user` have it (the embargo
    applies to the file as to the page)."""
    document = current_documents(report.project, "tech_report").first()
    if document is None or visibility(user, document) is not Visibility.ALLOWED:
        return None
    return document
