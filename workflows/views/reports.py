"""A tech report's public page (科技报告): no sign-in needed.

The library's list is oversight.lists.reports.
"""

from django.shortcuts import get_object_or_404, render

from documents.access import Visibility, visibility
from documents.attachments import current_documents
from oversight.models import TechReport
from oversight.reports import public_reports


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
