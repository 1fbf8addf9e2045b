"""Who the respondent of a case is, as a signed-in user, and which cases they have been
told of.

A respondent is identified by number, never by an account (DESIGN §4): a person by the
ID number on any of their accounts, an organisation by its credit code, acting through
its unit officers (Role.UNIT of that organisation, as for the unit's review). They learn
of a case from the notice of the hearing (告知, `notify_respondent`), never before.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from accounts.identity import normalise_id_number
from accounts.roles import Role, has_role

from .models import MisconductCase, SubjectKind


def _id_number_of(user) -> str:
    try:
        return normalise_id_number(user.id_number) if user.id_number else ""
    except ValidationError:  # an account whose number never checked out is nobody's
        return ""


def _respondent_rule(user) -> Q:
    """The cases whose respondent `user` is (or acts for); nothing for anyone else."""
    rule = Q(pk__in=[])
    if user is None or not user.is_authenticated or not user.is_active:
        return rule
    number = _id_number_of(user)
    if number:
        rule |= Q(respondent_kind=SubjectKind.PERSON, respondent_id=number)
    organisation = getattr(user, "organisation", None)
    if has_role(user, Role.UNIT) and organisation is not None:
        rule |= Q(respondent_kind=SubjectKind.ORGANISATION, respondent_id=organisation.credit_code)
    return rule


def is_respondent(user, case: MisconductCase) -> bool:
    """Whether `user` is the case's respondent, or a unit officer of the respondent
    organisation."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if case.respondent_kind == SubjectKind.PERSON:
        return bool(case.respondent_id) and _id_number_of(user) == case.respondent_id
    organisation = getattr(user, "organisation", None)
    return (
        has_role(user, Role.UNIT)
        and organisation is not None
        and organisation.credit_code == case.respondent_id
    )


def was_notified(case: MisconductCase) -> bool:
    """The respondent has been given the notice (the hearing is open or on record)."""
    return getattr(case, "hearing", None) is not None


def cases_notified_to(user) -> QuerySet[MisconductCase]:
    """The cases `user` answers as respondent and has been notified of, newest first."""
    return (
        MisconductCase.objects.filter(_respondent_rule(user), hearing__isnull=False)
        .select_related("hearing")
        .order_by("-opened_at")
    )
