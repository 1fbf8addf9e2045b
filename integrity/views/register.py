"""The integrity officer's register of sanctions: find, export, read, record, correct, revoke.

Every change goes through integrity.services, so the page, the admin and the case
procedure check and journal a sanction the same way. Nothing here deletes.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.forms import errors_onto
from accounts.roles import Role, has_role
from lists.pages import ListSpec, list_response

from ..filters import SanctionFilter
from ..forms import RectificationForm, RevokeForm, SanctionForm
from ..models import Measure, Sanction
from ..policy import effective_sanctions_q
from ..services import record_rectification, record_sanction, revoke_sanction
from ..tables import SanctionTable, period_text, shown_number, status_markers
from .sanction_history import sanction_history


def officer_only(view):
    """Signed in (else to the login page) and the integrity officer (else 403)."""

    @login_required
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not has_role(request.user, Role.INTEGRITY):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


REGISTER = ListSpec(
    title=gettext_lazy("Register of sanctions"),
    filterset_class=SanctionFilter,
    table_class=SanctionTable,
    export_name="register",
    template="integrity/register.html",
    intro=gettext_lazy(
        "Sanctions decided through a misconduct case enter the register themselves; record "
        "here those decided by another body. ID numbers are shown masked, here and in the "
        "exports."
    ),
)


def _counts(sanctions: QuerySet) -> dict[str, dict[str, int]]:
    """What the filtered register holds, in one query."""
    today = timezone.localdate()
    return {
        "counts": sanctions.order_by().aggregate(
            total=Count("pk"),
            in_force=Count("pk", filter=effective_sanctions_q(today)),
            under_appeal=Count("pk", filter=Q(under_appeal=True, status=Sanction.Status.EFFECTIVE)),
            revoked=Count("pk", filter=Q(status=Sanction.Status.REVOKED)),
        )
    }


def _register(request):
    sanctions = Sanction.objects.order_by("-recorded_at", "-pk")
    return list_response(request, REGISTER, sanctions, context=_counts)


@officer_only
def register_page(request):
    return _register(request)


@officer_only
def register_export(request):
    """The register's earlier export address: the same workbook as ?export=xlsx."""
    asked = request.GET.copy()
    request.GET = request.GET.copy()
    request.GET["export"] = "xlsx"
    response = _register(request)
    if response.status_code == 302:  # refused (bad filters): back to them, the reason shown
        asked.pop("export", None)
        return redirect(f"{reverse('register')}?{asked.urlencode()}")
    return response


def _sanction_page(request, sanction: Sanction, revoke_form=None, rectify_form=None):
    open_rectification = (
        Measure.SUSPEND_RECTIFY in (sanction.measures or [])
        and sanction.rectified_on is None
        and sanction.status != Sanction.Status.REVOKED
    )
    return render(
        request,
        "integrity/sanction.html",
        {
            "sanction": sanction,
            "number": shown_number(sanction),
            "measures": sanction.measure_labels(),
            "gates": sanction.gate_labels(),
            "period": period_text(sanction),
            "markers": status_markers(sanction, timezone.localdate()),
            # Only sanctions decided through a case have one.
            "case": getattr(sanction, "case", None),
            "history": sanction_history(sanction),
            "revoked": sanction.status == Sanction.Status.REVOKED,
            "revoke_form": revoke_form or RevokeForm(),
            "rectify_form": (rectify_form or RectificationForm()) if open_rectification else None,
        },
    )


def _get_sanction(pk: int) -> Sanction:
    return get_object_or_404(Sanction.objects.select_related("revoked_by", "recorded_by"), pk=pk)


@officer_only
def sanction_page(request, pk: int):
    return _sanction_page(request, _get_sanction(pk))


@officer_only
@require_POST
def sanction_revoke(request, pk: int):
    sanction = _get_sanction(pk)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            revoke_sanction(sanction, form.cleaned_data["reason"], request.user)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("The sanction is revoked; the veto no longer applies it."))
            return redirect("sanction", pk=pk)
    return _sanction_page(request, sanction, revoke_form=form)


@officer_only
@require_POST
def sanction_rectified(request, pk: int):
    sanction = _get_sanction(pk)
    form = RectificationForm(request.POST)
    if form.is_valid():
        try:
            record_rectification(sanction, form.cleaned_data["done_on"], request.user)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(
                request, _("The rectification is recorded; staff may now resume the projects.")
            )
            return redirect("sanction", pk=pk)
    return _sanction_page(request, sanction, rectify_form=form)


def _sanction_form_page(request, sanction: Sanction):
    is_new = sanction.pk is None
    heading = (
        _("Record a sanction") if is_new else _("Correct %(sanction)s") % {"sanction": sanction}
    )
    form = SanctionForm(request.POST or None, instance=sanction)
    if request.method == "POST" and form.is_valid():
        try:
            saved = record_sanction(form.save(commit=False), request.user)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(
                request,
                _("The sanction is recorded.") if is_new else _("The correction is recorded."),
            )
            return redirect("sanction", pk=saved.pk)
    return render(
        request,
        "integrity/sanction_form.html",
        {"form": form, "heading": heading, "sanction_pk": None if is_new else sanction.pk},
    )


@officer_only
def sanction_new(request):
    return _sanction_form_page(request, Sanction())


@officer_only
def sanction_edit(request, pk: int):
    sanction = get_object_or_404(Sanction, pk=pk)
    if sanction.status == Sanction.Status.REVOKED:
        messages.error(
            request,
            _("A revoked sanction cannot be changed: its record and history stay as they are."),
        )
        return redirect("sanction", pk=pk)
    return _sanction_form_page(request, sanction)


urlpatterns = [
    path("register/", register_page, name="register"),
    # The earlier export address, kept for bookmarks: the register's ?export=xlsx.
    path("register/export.xlsx", register_export, name="register-export"),
    path("register/new/", sanction_new, name="sanction-new"),
    path("register/<int:pk>/", sanction_page, name="sanction"),
    path("register/<int:pk>/edit/", sanction_edit, name="sanction-edit"),
    path("register/<int:pk>/revoke/", sanction_revoke, name="sanction-revoke"),
    path("register/<int:pk>/rectified/", sanction_rectified, name="sanction-rectified"),
]
