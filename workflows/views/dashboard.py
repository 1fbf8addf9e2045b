from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.roles import Role, has_role
from funding.flags import late_first_disbursements
from funding.recovery import outstanding_summary
from oversight import dashboard
from oversight.findings import overdue_rectifications
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
            "late_rectifications": overdue_rectifications(),  # 整改 past its deadline (issue 9)
            # First tranche later than FIRST_DISBURSEMENT_DAYS after signing (issue 9).
            "late_disbursements": late_first_disbursements(),
            "first_disbursement_days": settings.FIRST_DISBURSEMENT_DAYS,
            "recoveries": outstanding_summary(),  # 追回 not yet refunded (issue 9)
        },
    )
