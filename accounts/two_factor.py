"""Two-factor sign-in: a TOTP app (django-otp) plus a few one-time backup codes.

A person sets up an authenticator app by scanning a QR code and confirming one code;
from then on the sign-in asks for a code after the password. Where the bureau requires
it (`TWO_FACTOR_REQUIRED`, for `TWO_FACTOR_REQUIRED_ROLES` and superusers), a person
without a device is sent to set one up before anything else (accounts.middleware).
Every change of a person's devices is a trail event.
"""

from __future__ import annotations

from base64 import b32encode

import segno
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from trail.kinds import EventKind
from trail.services import record

from .lockouts import may_manage_sign_in
from .roles import Role, has_role

BACKUP_CODE_COUNT = 8
# What an authenticator app shows: six digits. Anything else is tried as a backup code.
TOTP_DIGITS = 6


def has_two_factor(user) -> bool:
    """A confirmed authenticator app: the sign-in asks for its code."""
    if user is None or not user.is_authenticated:
        return False
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_required_for(user) -> bool:
    """Whether this person must use two-factor sign-in, by the bureau's settings."""
    if not settings.TWO_FACTOR_REQUIRED or user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(
        has_role(user, Role(name))
        for name in settings.TWO_FACTOR_REQUIRED_ROLES
        if name in Role.values
    )


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being set up; the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def qr_code_svg(text: str) -> SafeString:
    """An inline SVG QR code (no script, no external image: the CSP allows it)."""
    svg = segno.make(text, error="m").svg_inline(scale=4, title=_("QR code"))
    return mark_safe(svg)  # segno's own markup; `text` is escaped by segno


def secret_text(device: TOTPDevice) -> str:
    """The secret as the apps take it when typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean_code(code: str) -> str:
    return "".join((code or "").split()).lower()


def _throttled_message(extra: dict | None) -> str:
    count = (extra or {}).get("failure_count", 0)
    return ngettext(
        "Too many wrong codes (%(count)d). Wait a little and try again.",
        "Too many wrong codes (%(count)d). Wait a little and try again.",
        count,
    ) % {"count": count}


def _check_with(device, code: str) -> bool:
    allowed, extra = device.verify_is_allowed()
    if not allowed:
        if (extra or {}).get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
            raise ValidationError(_throttled_message(extra), code="throttled")
        raise ValidationError(_("Codes cannot be checked just now. Try again later."))
    return device.verify_token(code)


def verify_code(user, code: str):
    """The device that accepts `code` (an app's code or an unused backup code).

    Raises ValidationError with a clear message otherwise. django-otp throttles each
    device after a wrong code (a growing wait), and a code is accepted only once.
    """
    code = _clean_code(code)
    if not code:
        raise ValidationError(_("Enter the code from your authenticator app."), code="required")
    if code.isdigit() and len(code) == TOTP_DIGITS:
        model = TOTPDevice
    else:
        model = StaticDevice
    refusal = None
    # The refusal is raised after the transaction: the throttle's count must be kept.
    with transaction.atomic():
        for device in model.objects.select_for_update().filter(user=user, confirmed=True):
            try:
                if _check_with(device, code):
                    return device
            except ValidationError as error:
                refusal = error
    raise refusal or ValidationError(_wrong_code_message(), code="invalid")


def _wrong_code_message() -> str:
    return _("This code is not right. Check the time on your phone and enter the newest code.")


def _new_backup_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    backup = StaticDevice.objects.create(user=user, name=_("Backup codes"), confirmed=True)
    codes = [StaticToken.random_token() for _i in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
    return codes


def confirm_setup(user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with one of its codes; returns it and new backup codes."""
    code = _clean_code(code)
    if not (code.isdigit() and len(code) == TOTP_DIGITS):
        raise ValidationError(_("Enter the six-digit code your app shows."), code="invalid")
    refusal = None
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise ValidationError(_("Start the setup again: the page was out of date."))
        try:
            accepted = _check_with(device, code)
        except ValidationError as error:
            accepted, refusal = False, error
        if accepted:
            return device, _confirm(user, device)
    # Raised outside the transaction, so that the throttle's count of wrong codes stays.
    raise refusal or ValidationError(_wrong_code_message(), code="invalid")


def _confirm(user, device: TOTPDevice) -> list[str]:
    # One app at a time: an older confirmed device goes when the new one is confirmed.
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_backup_codes(user)
    record(
        EventKind.TWO_FACTOR_CHANGED,
        user,
        actor=user,
        after={"two_factor": True},
        data={"action": "set_up", "backup_codes": len(codes)},
    )
    return codes


def _remove_devices(user) -> bool:
    removed_totp, _x = TOTPDevice.objects.filter(user=user).delete()
    removed_static, _y = StaticDevice.objects.filter(user=user).delete()
    return bool(removed_totp or removed_static)


@transaction.atomic
def remove_own_two_factor(user) -> None:
    """A person turns two-factor sign-in off (the view has checked a code or password)."""
    had = has_two_factor(user)
    _remove_devices(user)
    if had:
        record(
            EventKind.TWO_FACTOR_CHANGED,
            user,
            actor=user,
            before={"two_factor": True},
            after={"two_factor": False},
            data={"action": "removed"},
        )


@transaction.atomic
def reset_two_factor(user, *, by, reason: str) -> bool:
    """Staff remove someone's devices (a lost phone); the person sets up again.

    Returns False when the person had none. Only a superuser resets a superuser.
    """
    if not may_manage_sign_in(by):
        raise PermissionDenied(_("Only bureau staff may reset two-factor sign-in."))
    if user.is_superuser and not by.is_superuser:
        raise PermissionDenied(_("Only a superuser may reset a superuser's two-factor sign-in."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a written reason; it is kept in the trail.")})
    had = has_two_factor(user)
    if not _remove_devices(user) or not had:
        return False
    record(
        EventKind.TWO_FACTOR_CHANGED,
        user,
        actor=by,
        before={"two_factor": True},
        after={"two_factor": False},
        data={"action": "reset_by_staff", "reason": reason},
    )
    return True
