"""Changing who a person or an organisation is: every path goes through here.

The ID number and the credit code are what the integrity register keys on, so a change
of either could let a sanctioned subject slip past the veto. A person may enter their
own ID number once while their account has none; anything else needs bureau staff (or a
superuser) and a written reason. Each change is a trail event with the full numbers
before and after (the trail is internal; pages show them masked).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from trail.kinds import EventKind
from trail.services import record

from .identity import normalise_credit_code, normalise_id_number
from .models import Organisation, User
from .roles import Role, has_role


def may_manage_identities(by) -> bool:
    """Bureau staff and superusers correct identities; `by` None is the system itself."""
    if by is None:
        return True
    return bool(by.is_active and (by.is_superuser or has_role(by, Role.STAFF)))


def already_set_message() -> str:
    return _("Your ID number is already on your account. To change it, ask bureau staff.")


def _require_reason(by, reason: str) -> None:
    if by is not None and not (reason or "").strip():
        raise ValidationError({"reason": _("Give a written reason for changing this identity.")})


def check_id_number_change(user: User, before: str, by, reason: str) -> None:
    """Raise PermissionDenied or ValidationError if `by` may not change this ID number.

    Shared with the forms (the admin's, the identity page's) so they can show the
    refusal on the form before anything is saved.
    """
    if by is not None and user.pk is not None and by.pk == user.pk and not before:
        return  # one's own first entry
    if not may_manage_identities(by):
        if by is not None and by.pk == user.pk:
            raise PermissionDenied(already_set_message())
        raise PermissionDenied(_("Only bureau staff may enter or change someone's ID number."))
    _require_reason(by, reason)


def check_credit_code_change(by, reason: str) -> None:
    if not may_manage_identities(by):
        raise PermissionDenied(_("Only bureau staff may change an organisation's credit code."))
    _require_reason(by, reason)


def _credit_code_is_free(code: str, org_pk: int | None) -> None:
    if Organisation.objects.filter(credit_code=code).exclude(pk=org_pk).exists():
        raise ValidationError(
            {"credit_code": _("Another organisation already has this credit code.")}
        )


def _change_identity(model, obj, field: str, canonical: str, by, reason: str, check) -> None:
    """Lock, check (`check(locked, before)`), save and journal one identity field."""
    locked = model.objects.select_for_update().get(pk=obj.pk)
    before = getattr(locked, field)
    if before != canonical:  # the same number typed differently is no change
        check(locked, before)
        setattr(locked, field, canonical)
        locked.save(update_fields=[field])
        record(
            EventKind.IDENTITY_CHANGED,
            locked,
            actor=by,
            before={field: before},
            after={field: canonical},
            data={"reason": (reason or "").strip(), "field": field},
        )
    setattr(obj, field, canonical)


@transaction.atomic
def set_id_number(user: User, number: str, by, reason: str = "") -> User:
    """Put a (new) ID number on an account, checked and journaled; a no-op if unchanged."""
    canonical = normalise_id_number(number)

    def check(locked: User, before: str) -> None:
        check_id_number_change(locked, before, by, reason)

    _change_identity(User, user, "id_number", canonical, by, reason, check)
    return user


@transaction.atomic
def enter_own_identity(user: User, number: str, real_name: str = "") -> User:
    """The identity page: a person's own ID number (and name, if missing), once."""
    errors: dict[str, list] = {}
    try:
        canonical = normalise_id_number(number)
    except ValidationError as error:
        errors["id_number"] = error.messages
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.id_number:
        # Even for staff: this page enters a missing number, corrections need a reason.
        raise PermissionDenied(already_set_message())
    real_name = (real_name or "").strip()
    if not locked.real_name and not real_name:
        errors["real_name"] = [_("Give your real name as on your ID card.")]
    if errors:
        raise ValidationError(errors)
    if not locked.real_name:
        locked.real_name = real_name
        locked.save(update_fields=["real_name"])
        record(
            EventKind.IDENTITY_CHANGED,
            locked,
            actor=user,
            before={"real_name": ""},
            after={"real_name": real_name},
            data={"field": "real_name"},
        )
        user.real_name = real_name
    return set_id_number(user, canonical, by=user)


@transaction.atomic
def create_account(
    username: str,
    password: str | None,
    *,
    by,
    id_number: str = "",
    reason: str = "",
    **fields,
) -> User:
    """A new account; its ID number, if given, goes in through `set_id_number`."""
    if not may_manage_identities(by):
        raise PermissionDenied(_("Only bureau staff may create accounts."))
    canonical = normalise_id_number(id_number) if (id_number or "").strip() else ""
    fields.pop("id_number", None)
    user = User.objects.create_user(username=username, password=password, **fields)
    if canonical:
        set_id_number(user, canonical, by, reason or _("Entered when the account was created."))
    return user


@transaction.atomic
def set_credit_code(org: Organisation, code: str, by, reason: str = "") -> Organisation:
    """Correct an organisation's credit code, checked and journaled; a no-op if unchanged."""
    canonical = normalise_credit_code(code)

    def check(locked: Organisation, before: str) -> None:
        check_credit_code_change(by, reason)
        _credit_code_is_free(canonical, locked.pk)

    _change_identity(Organisation, org, "credit_code", canonical, by, reason, check)
    return org


@transaction.atomic
def register_organisation(org: Organisation, by, reason: str = "") -> Organisation:
    """Save a new organisation with its credit code, journaled like a change."""
    if org.pk is not None:
        raise ValueError("register_organisation is for new organisations")
    if not may_manage_identities(by):
        raise PermissionDenied(_("Only bureau staff may register organisations."))
    org.credit_code = normalise_credit_code(org.credit_code)
    _credit_code_is_free(org.credit_code, None)
    org.save()
    record(
        EventKind.IDENTITY_CHANGED,
        org,
        actor=by,
        before={},
        after={"credit_code": org.credit_code, "name": org.name},
        data={
            "reason": (reason or "").strip() or _("Organisation registered."),
            "field": "credit_code",
        },
    )
    return org
