"""The public library of tech reports (科技报告): no sign-in needed."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from oversight.reports import public_reports


def report_list(request):
    query = request.GET.get("q", "").strip()[:100]
    page = Paginator(public_reports(query), 20).get_page(request.GET.get("page"))
    return render(request, "workflows/reports.html", {"page": page, "query": query})


def report_detail(request, pk: int):
    report = get_object_or_404(public_reports(), pk=pk)
    return render(request, "workflows/report.html", {"report": report})
