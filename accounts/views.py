"""The signed-in person's own identity: shown masked, entered once, corrected by staff."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .forms import IdentityPageForm, errors_onto
from .identity import mask_id_number
from .services import enter_own_identity


@login_required
def identity(request):
    user = request.user
    form = None
    refusal = ""
    if request.method == "POST":
        form = IdentityPageForm(request.POST, user=user)
        if form.is_valid():
            try:
                enter_own_identity(
                    user, form.cleaned_data["id_number"], form.cleaned_data.get("real_name", "")
                )
            except PermissionDenied as denied:
                refusal = str(denied)
            except ValidationError as error:
                errors_onto(form, error)
            else:
                messages.success(request, _("Your ID number is now on your account."))
                return redirect("account-identity")
    elif not user.id_number:
        form = IdentityPageForm(user=user)
    return render(
        request,
        "accounts/identity.html",
        {
            "masked_id": mask_id_number(user.id_number) if user.id_number else "",
            # Once the number is set the form is gone, even after a refused stale POST.
            "form": form if not user.id_number else None,
            "refusal": refusal,
        },
        status=403 if refusal else 200,
    )
