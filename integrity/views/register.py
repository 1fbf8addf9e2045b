"""The integrity officer's register of sanctions: find, export, read, record, correct, revoke.

Every change goes through integrity.services, so the page, the admin and the case
procedure check and journal a sanction the same way. Nothing here deletes.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from accounts.forms import errors_onto
from accounts.roles import Role, has_role

from ..export import register_workbook
from ..filters import SanctionFilter
from ..forms import RectificationForm, RevokeForm, SanctionForm
from ..models import Measure, Sanction
from ..policy import effective_sanctions_q
from ..services import record_rectification, record_sanction, revoke_sanction
from ..tables import (
    PER_PAGE,
    SanctionTable,
    period_text,
    shown_number,
    status_markers,
)
from .sanction_history import sanction_history

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def officer_only(view):
    """Signed in (else to the login page) and the integrity officer (else 403)."""

    @login_required
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not has_role(request.user, Role.INTEGRITY):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def _filterset(request) -> SanctionFilter:
    sanctions = Sanction.objects.order_by("-recorded_at", "-pk")
    return SanctionFilter(request.GET or None, queryset=sanctions)


def _paginate(table: SanctionTable, page: str | None) -> None:
    # Fixed page size: the page does not take a per-page number from the address.
    try:
        table.paginate(page=page or 1, per_page=PER_PAGE)
    except PageNotAnInteger:
        table.page = table.paginator.page(1)
    except EmptyPage:
        table.page = table.paginator.page(table.paginator.num_pages)


def _counts(sanctions: QuerySet) -> dict[str, int]:
    """What the filtered register holds, in one query."""
    today = timezone.localdate()
    return sanctions.aggregate(
        total=Count("pk"),
        in_force=Count("pk", filter=effective_sanctions_q(today)),
        under_appeal=Count("pk", filter=Q(under_appeal=True, status=Sanction.Status.EFFECTIVE)),
        revoked=Count("pk", filter=Q(status=Sanction.Status.REVOKED)),
    )


@officer_only
def register_page(request):
    filterset = _filterset(request)
    valid = not filterset.is_bound or filterset.is_valid()
    # Bad filters show their errors and no rows, never the whole register by mistake.
    sanctions = filterset.qs if valid else Sanction.objects.none()
    table = SanctionTable(sanctions)
    RequestConfig(request, paginate=False).configure(table)
    _paginate(table, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "integrity/register.html",
        {
            "filterset": filterset,
            "valid": valid,
            "table": table,
            "counts": _counts(sanctions) if valid else None,
            "export_query": query.urlencode(),
        },
    )


@officer_only
def register_export(request):
    filterset = _filterset(request)
    if filterset.is_bound and not filterset.is_valid():
        messages.error(request, _("Correct the filters before exporting."))
        return redirect(f"{reverse('register')}?{request.GET.urlencode()}")
    content = register_workbook(filterset.qs.iterator(chunk_size=500))
    response = HttpResponse(content, content_type=XLSX)
    name = f"register-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
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
    path("register/export.xlsx", register_export, name="register-export"),
    path("register/new/", sanction_new, name="sanction-new"),
    path("register/<int:pk>/", sanction_page, name="sanction"),
    path("register/<int:pk>/edit/", sanction_edit, name="sanction-edit"),
    path("register/<int:pk>/revoke/", sanction_revoke, name="sanction-revoke"),
    path("register/<int:pk>/rectified/", sanction_rectified, name="sanction-rectified"),
]
