"""The notification centre: one's own notifications, newest first, and e-mail choices."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms import EmailPreferenceForm
from .services import address_of, mark_all_read, mark_read, notifications_of, preference_of

PER_PAGE = 50


@login_required
def centre(request):
    page = Paginator(notifications_of(request.user), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notifications/centre.html", {"page": page})


@login_required
def open_notification(request, pk: int):
    """Mark it read and go to what it is about."""
    notification = mark_read(request.user, pk)
    if notification is None:  # someone else's, or none
        raise Http404
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("notifications")


@login_required
@require_POST
def read_all(request):
    if mark_all_read(request.user):
        messages.success(request, _("All your notifications are marked read."))
    return redirect("notifications")


@login_required
def email_settings(request):
    preference = preference_of(request.user)
    data = request.POST if request.method == "POST" else None  # all boxes off: still a POST
    form = EmailPreferenceForm(data, instance=preference)
    if form.is_bound and form.is_valid():
        form.save()
        messages.success(request, _("Your e-mail choices are saved."))
        return redirect("notification-settings")
    return render(
        request,
        "notifications/settings.html",
        {"form": form, "address": address_of(request.user)},
    )
