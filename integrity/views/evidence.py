"""Disclosing a piece of case evidence to the parties, or withholding it again: the
officer's switch on each row of the case page's evidence."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from documents.models import Attachment

from ..evidence import set_disclosure
from ..models import MisconductCase
from .feedback import attempt


@login_required
@require_POST
def evidence_disclosure(request, pk: int, attachment_id: int):
    """POST disclosed=yes discloses the file, disclosed=no withholds it again."""
    if not has_role(request.user, Role.INTEGRITY):
        raise PermissionDenied
    case = get_object_or_404(MisconductCase, pk=pk)
    attachment = get_object_or_404(
        Attachment.objects.of(case).present(), pk=attachment_id, kind="case_evidence"
    )
    choice = request.POST.get("disclosed", "")
    if choice not in ("yes", "no"):
        messages.error(request, _("Choose whether to disclose the file or withhold it."))
        return redirect("case", pk=pk)
    disclosed = choice == "yes"
    attempt(
        request,
        lambda: set_disclosure(case, attachment, disclosed, request.user),
        _("%(name)s is now disclosed to the parties.") % {"name": attachment.name}
        if disclosed
        else _("%(name)s is now withheld from the parties.") % {"name": attachment.name},
    )
    return redirect("case", pk=pk)


urlpatterns = [
    path(
        "cases/<int:pk>/evidence/<int:attachment_id>/disclosure/",
        evidence_disclosure,
        name="case-evidence-disclosure",
    ),
]
