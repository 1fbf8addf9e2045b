"""API tokens: how another system reads the API as one user, with read-only scopes.

The token acts as its user and sees exactly what that user sees. Only a SHA-256 hash of
the secret is stored; the full token is shown once, when it is issued. Issuing and
revoking go through the services below on every path (admin, command), checked and
journaled.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trail.kinds import EventKind
from trail.services import record

from .roles import Role, has_role
from .text import check_text

# Every token starts so; a leaked one is then easy to recognise (and to grep for).
TOKEN_PREFIX = "kjjg_"
# kjjg_<8 hex: the lookup prefix>.<token_urlsafe(32): the secret>
_TOKEN_SHAPE = re.compile(r"^kjjg_([0-9a-f]{8})\.([A-Za-z0-9_-]{20,100})$")
NAME_MAX = 100
# last_used_at is written at most this often: a busy client should not write every request.
LAST_USED_EVERY = datetime.timedelta(minutes=1)


class ApiScope(models.TextChoices):
    """What a token may read. The API only reads: no scope allows a change."""

    PROJECTS_READ = "projects:read", gettext_lazy("Read projects")
    SCHEMA_READ = "schema:read", gettext_lazy("Read the API schema")


class ApiToken(models.Model):
    name = models.CharField(gettext_lazy("name"), max_length=NAME_MAX)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("acts as"),
        on_delete=models.PROTECT,
        related_name="api_tokens",
    )
    prefix = models.CharField(gettext_lazy("prefix"), max_length=8, unique=True, editable=False)
    secret_hash = models.CharField(
        gettext_lazy("SHA-256 of the token"), max_length=64, editable=False
    )
    scopes = models.JSONField(gettext_lazy("scopes"), default=list)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(gettext_lazy("created"), auto_now_add=True)
    expires_at = models.DateTimeField(gettext_lazy("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(gettext_lazy("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(gettext_lazy("last used"), null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("API token")
        verbose_name_plural = gettext_lazy("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}{self.prefix}…)"

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class ApiTokenRefused(Exception):
    """The token cannot be used; the message says why (for the 401 answer)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_manage_api_tokens(by) -> bool:
    """Superusers, and bureau staff with admin access; `by` None is the operator's shell."""
    if by is None:
        return True
    if not by.is_active:
        return False
    return bool(by.is_superuser or (by.is_staff and has_role(by, Role.STAFF)))


def _check_manager(by) -> None:
    if not may_manage_api_tokens(by):
        raise PermissionDenied(
            _("Only superusers and bureau staff may issue or revoke API tokens.")
        )


def clean_scopes(scopes) -> list[str]:
    """The scopes as stored: known ones only, at least one, sorted, each once."""
    if isinstance(scopes, str) or not isinstance(scopes, list | tuple | set | frozenset):
        raise ValidationError({"scopes": _("Give the scopes as a list.")})
    known = set(ApiScope.values)
    for scope in scopes:
        if scope not in known:
            raise ValidationError(
                {
                    "scopes": _("Unknown scope %(scope)s; choose from: %(known)s.")
                    % {"scope": repr(scope)[:60], "known": ", ".join(ApiScope.values)}
                }
            )
    if not scopes:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    return sorted(set(scopes))


def check_issue(user, name: str, scopes, expires_at, by) -> tuple[str, list[str]]:
    """Raise PermissionDenied or ValidationError if `by` may not issue this token.

    Shared with the admin's form, so a refusal shows on the form before anything is
    saved. Gives back the name and scopes as they will be stored.
    """
    _check_manager(by)
    errors: dict[str, list[str]] = {}
    name = name.strip() if isinstance(name, str) else name
    try:
        check_text(name, label=_("Name"), max_length=NAME_MAX, multiline=False)
        if not name:
            raise ValidationError(_("Give the token a name (which system uses it)."))
    except ValidationError as error:
        errors["name"] = error.messages
    try:
        scopes = clean_scopes(scopes)
    except ValidationError as error:
        errors["scopes"] = error.messages
    if user is None or not getattr(user, "is_active", False):
        errors["user"] = [_("A token can act only for an active account.")]
    elif user.is_superuser and not (by is None or by.is_superuser):
        errors["user"] = [_("Only a superuser may issue a token acting as a superuser.")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    if errors:
        raise ValidationError(errors)
    return name, scopes


@transaction.atomic
def issue_api_token(
    user, name: str, scopes, expires_at: datetime.datetime | None = None, *, by
) -> tuple[ApiToken, str]:
    """A new token for `user`; gives back the token row and the full token, shown once."""
    name, scopes = check_issue(user, name, scopes, expires_at, by)
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    full = f"{TOKEN_PREFIX}{prefix}.{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name,
        user=user,
        prefix=prefix,
        secret_hash=_hash(full),
        scopes=scopes,
        issued_by=by,
        expires_at=expires_at,
    )
    record(
        EventKind.API_TOKEN_ISSUED,
        token,
        actor=by,
        after={
            "name": name,
            "user": user.username,
            "prefix": prefix,
            "scopes": scopes,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, full


def clean_revoke_reason(reason: str) -> str:
    """The reason as journaled; ValidationError if missing or not storable."""
    reason = reason.strip() if isinstance(reason, str) else reason
    check_text(reason, label=_("Reason"), multiline=True)
    if not reason:
        raise ValidationError(_("Give a written reason for revoking the token."))
    return reason


@transaction.atomic
def revoke_api_token(token: ApiToken, by, reason: str) -> ApiToken:
    """Revoke for good (a revoked token is never valid again), checked and journaled."""
    _check_manager(by)
    reason = clean_revoke_reason(reason)
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        raise ValidationError(_("This token was already revoked."))
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    record(
        EventKind.API_TOKEN_REVOKED,
        locked,
        actor=by,
        before={"revoked_at": None},
        after={"revoked_at": locked.revoked_at.isoformat()},
        data={"reason": reason, "prefix": locked.prefix, "user": locked.user.username},
    )
    token.revoked_at = locked.revoked_at
    return locked


def authenticate_api_token(full: str) -> ApiToken:
    """The token `full` names, if it may be used now; else ApiTokenRefused saying why."""
    shape = _TOKEN_SHAPE.match(full or "")
    token = None
    if shape:
        token = ApiToken.objects.select_related("user").filter(prefix=shape.group(1)).first()
    # Compared in constant time; a wrong secret reads exactly like an unknown token.
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(full)):
        raise ApiTokenRefused(_("Unknown API token."))
    now = timezone.now()
    if token.revoked_at is not None:
        raise ApiTokenRefused(_("This API token was revoked."))
    if token.is_expired(now):
        raise ApiTokenRefused(
            _("This API token expired on %(date)s.")
            % {"date": timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M")}
        )
    if not token.user.is_active:
        raise ApiTokenRefused(_("The account this API token acts for is inactive."))
    # One conditional UPDATE: at most one write a minute, whatever the traffic.
    stale = models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=now - LAST_USED_EVERY)
    if ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now):
        token.last_used_at = now
    return token
