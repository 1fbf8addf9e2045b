"""立项公示: projects the leadership approved, on public notice before they are final."""

from django.shortcuts import render

from funding.models import Project
from funding.states import ProjectStatus


def notice_list(request):
    projects = (
        Project.objects.filter(status=ProjectStatus.PUBLIC_NOTICE)
        .select_related("applicant_org", "pi", "call")
        .order_by("call", "title")
    )
    return render(request, "workflows/notices.html", {"projects": projects})
