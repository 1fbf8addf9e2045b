"""The respondent's page of a case: the notice, the deadline to reply, the decision once
made, and the evidence disclosed to the parties. Read only; the statement is given to
the officer, who records it.

Shown to the respondent (see integrity.respondents) from the notice on, and to the
integrity officer as a preview of what the respondent sees. Anyone else: 404, as if
there were no case.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path

from accounts.roles import Role, has_role

from ..evidence import disclosed_evidence
from ..models import MisconductCase
from ..respondents import is_respondent, was_notified


@login_required
def respondent_case(request, pk: int):
    case = get_object_or_404(
        MisconductCase.objects.select_related("hearing", "sanction", "letter"), pk=pk
    )
    officer = has_role(request.user, Role.INTEGRITY)
    if not officer and not (is_respondent(request.user, case) and was_notified(case)):
        raise Http404
    return render(
        request,
        "integrity/respondent_case.html",
        {
            "case": case,
            "hearing": getattr(case, "hearing", None),
            "preview": officer and not is_respondent(request.user, case),
            "evidence": disclosed_evidence(case) if was_notified(case) else [],
            "letter": getattr(case, "letter", None),
        },
    )


urlpatterns = [path("my-cases/<int:pk>/", respondent_case, name="respondent-case")]
