"""Repeated failed sign-ins: who is locked out, the page they see, and unlocking by staff.

django-axes counts the failures (`AXES_*` settings) per account name and per address,
each on its own: either one reaching `AXES_FAILURE_LIMIT` within the cool-off locks that
name or that address. This module reads axes' records to list the lockouts, renders the
locked-out page (`AXES_LOCKOUT_CALLABLE`) and unlocks through axes' own reset, journaled.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from trail.kinds import EventKind
from trail.services import record

from .models import User
from .roles import Role, has_role


def may_manage_sign_in(by) -> bool:
    """Bureau staff and superusers unlock sign-ins and reset two-factor devices."""
    return bool(
        by is not None
        and by.is_authenticated
        and by.is_active
        and (by.is_superuser or has_role(by, Role.STAFF))
    )


def client_ip(request) -> str | None:
    """The caller's address (`AXES_CLIENT_IP_CALLABLE`).

    Behind `SIGN_IN_PROXY_COUNT` trusted proxies, each appending to X-Forwarded-For, the
    caller is that many entries from the right; without proxies it is REMOTE_ADDR (a
    client can write X-Forwarded-For itself, so it is only believed behind proxies).
    Anything that is not an address falls back to REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "SIGN_IN_PROXY_COUNT", 0)
    if proxies > 0:
        chain = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        chain = [p for p in chain if p]
        if len(chain) >= proxies:
            candidate = chain[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return remote


def username_of(request, credentials=None) -> str | None:
    """The account name axes counts under (`AXES_USERNAME_CALLABLE`).

    As typed, but bounded like the user model's field and without NUL, so that whatever
    reaches authenticate() on any path can be stored in axes' records.
    """
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "data", request.POST).get("username")
    if value is None:
        return None
    limit = User._meta.get_field("username").max_length
    return str(value).replace("\x00", "")[:limit]


def _cool_off() -> datetime.timedelta | None:
    return get_cool_off()


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out person sees, on the site's sign-in and the admin's alike."""
    cool_off = _cool_off()
    # A failure during the lockout starts the cool-off again, and this was one.
    unlocks_at = timezone.localtime() + cool_off if cool_off else None
    return render(
        request,
        "accounts/locked_out.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "unlocks_at": unlocks_at,
            "minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
            "bureau": settings.BUREAU_NAME,
        },
        status=429,
    )


@dataclass(frozen=True)
class Lockout:
    """One locked account name or address, as the unlock page lists it."""

    kind: str  # "username" or "ip_address"
    value: str
    failures: int
    last_failure: datetime.datetime
    unlocks_at: datetime.datetime | None  # None: only staff can unlock


def _recent_attempts():
    attempts = AccessAttempt.objects.all()
    cool_off = _cool_off()
    if cool_off:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts


def current_lockouts() -> list[Lockout]:
    """Account names and addresses locked now, the most recent failure first."""
    cool_off = _cool_off()
    locked: list[Lockout] = []
    for kind in ("username", "ip_address"):
        groups = (
            _recent_attempts()
            .exclude(**{f"{kind}__isnull": True})
            .values(kind)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        )
        for group in groups:
            locked.append(
                Lockout(
                    kind=kind,
                    value=group[kind],
                    failures=group["failures"],
                    last_failure=group["last"],
                    unlocks_at=group["last"] + cool_off if cool_off else None,
                )
            )
    return sorted(locked, key=lambda lockout: lockout.last_failure, reverse=True)


def _journal_object(username: str | None, attempt: AccessAttempt | None):
    """The account when the name is one, else the attempt record itself."""
    if username:
        account = User.objects.filter(username=username).first()
        if account is not None:
            return account
    return attempt


@transaction.atomic
def unlock_sign_in(
    *, by, username: str | None = None, ip_address: str | None = None, reason: str = ""
) -> int:
    """Clear the failed sign-ins of an account name or an address; journaled.

    `by` None is the operator at the server's shell (the reset commands). Returns how
    many of axes' attempt records were removed (0: nothing was locked).
    """
    if by is not None and not may_manage_sign_in(by):
        raise PermissionDenied(_("Only bureau staff may unlock sign-ins."))
    username = (username or "").strip() or None
    ip_address = (ip_address or "").strip() or None
    if bool(username) == bool(ip_address):
        raise ValidationError(_("Choose one account name or one address to unlock."))
    if ip_address:
        try:
            ip_address = str(ipaddress.ip_address(ip_address))
        except ValueError:
            raise ValidationError(_("This is not an IP address.")) from None
    matching = AccessAttempt.objects.filter(
        **({"username": username} if username else {"ip_address": ip_address})
    )
    latest = matching.order_by("-attempt_time").first()
    failures = matching.aggregate(total=Sum("failures_since_start"))["total"] or 0
    subject = _journal_object(username, latest)
    removed = reset(ip=ip_address, username=username)
    if removed and subject is not None:
        record(
            EventKind.SIGN_IN_UNLOCKED,
            subject,
            actor=by,
            data={
                "username": username or "",
                "ip_address": ip_address or "",
                "failures": failures,
                "reason": (reason or "").strip(),
                "via": "page" if by is not None else "command",
            },
        )
    return removed


@transaction.atomic
def journal_removed_attempts(attempts, *, by) -> None:
    """The admin deleting axes' attempt records unlocks too; say so in the trail."""
    for attempt in attempts:
        record(
            EventKind.SIGN_IN_UNLOCKED,
            _journal_object(attempt.username, attempt),
            actor=by,
            data={
                "username": attempt.username or "",
                "ip_address": attempt.ip_address or "",
                "failures": attempt.failures_since_start,
                "reason": "",
                "via": "admin",
            },
        )
