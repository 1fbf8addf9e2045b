from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.roles import Role, has_role
from oversight import dashboard
from oversight.supervision import overdue_reports


@login_required
def dashboard_page(request):
    if not (has_role(request.user, Role.LEADER) or has_role(request.user, Role.STAFF)):
        raise PermissionDenied
    return render(
        request,
        "workflows/dashboard.html",
        {
            "pipeline": dashboard.pipeline(),
            "money": dashboard.money(),
            "overdue": dashboard.overdue_acceptance(),
            "integrity": dashboard.integrity_watch(),
            "late_reports": overdue_reports(),
        },
    )
