"""Staff forms of the project page's recovery section (追回, 结余, funding.recovery): a
refund, an adjusted assessment, the closing balance's disposition. A refused form comes
back on the project page as typed, the message saying why."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.forms import IsoDateInput
from accounts.roles import Role, has_role
from accounts.text import BoundedFormMixin
from funding.amounts import AmountField
from funding.recovery import (
    REFERENCE_MAX,
    ClosingBalance,
    Recovery,
    adjust_recovery,
    record_balance_disposition,
    record_refund,
)

from .feedback import FAILED, attempt
from .projects import render_project, visible_project


class RefundForm(BoundedFormMixin, forms.Form):
    amount = AmountField(label=gettext_lazy("Amount refunded (yuan)"))
    paid_on = forms.DateField(label=gettext_lazy("Paid on"), widget=IsoDateInput())
    reference = forms.CharField(label=gettext_lazy("Payment reference"), max_length=REFERENCE_MAX)


class AdjustForm(BoundedFormMixin, forms.Form):
    amount = AmountField(label=gettext_lazy("Amount to recover (yuan)"))
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea)


class BalanceForm(BoundedFormMixin, forms.Form):
    disposition = forms.ChoiceField(
        label=gettext_lazy("Disposition"), choices=ClosingBalance.Disposition.choices
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea)


def _staff_project(request, pk: int):
    project = visible_project(request, pk)
    if not has_role(request.user, Role.STAFF):
        raise PermissionDenied  # a clear 403 here; the services refuse on every path
    return project


def _submit(request, project, form: forms.Form, prefix: str, action, success: str):
    """Run `action(cleaned_data)`; on a bad field or a refusal, the page as typed."""
    typed = {f"{prefix}_{k}": v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    if not form.is_valid():
        for name, errors in form.errors.as_data().items():
            field = form.fields.get(name)
            for error in errors:
                said = " ".join(error.messages)
                # An amount's errors name it already ("Amount: at most two decimals.").
                named = isinstance(field, AmountField) and error.code != "required"
                messages.error(
                    request, said if named or field is None else f"{field.label}: {said}"
                )
        return render_project(request, project, typed=typed)
    done = attempt(request, lambda: action(form.cleaned_data), success)
    if done is FAILED:
        return render_project(request, visible_project(request, project.pk), typed=typed)
    return redirect("project", pk=project.pk)


@login_required
@require_POST
def refund(request, pk: int):
    project = _staff_project(request, pk)
    recovery = get_object_or_404(Recovery, project=project)
    return _submit(
        request,
        project,
        RefundForm(request.POST),
        "refund",
        lambda d: record_refund(
            recovery.pk, request.user, d["amount"], d["paid_on"], d["reference"]
        ),
        _("The refund has been recorded."),
    )


@login_required
@require_POST
def adjust(request, pk: int):
    project = _staff_project(request, pk)
    recovery = get_object_or_404(Recovery, project=project)
    return _submit(
        request,
        project,
        AdjustForm(request.POST),
        "adjust",
        lambda d: adjust_recovery(recovery.pk, request.user, d["amount"], d["reason"]),
        _("The amount to recover has been adjusted."),
    )


@login_required
@require_POST
def balance(request, pk: int):
    project = _staff_project(request, pk)
    return _submit(
        request,
        project,
        BalanceForm(request.POST),
        "balance",
        lambda d: record_balance_disposition(project.pk, request.user, d["disposition"], d["note"]),
        _("The closing balance has been recorded."),
    )
