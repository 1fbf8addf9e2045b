"""Who is told: the people a rule of notifications.rules names, as user querysets.

Each function takes the event's `Subject` (the event, and the project or case it is
about) and returns users; the service drops the actor and inactive accounts. The unit
is the project organisation's unit officers, the PI excepted (funding.adjustments has
the rule the unit's review also applies); where it has none, bureau staff stand in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from accounts.roles import Role
from funding.adjustments import unit_officers_of
from funding.models import Project
from integrity.models import MisconductCase, SubjectKind, VetoOverride
from integrity.respondents import was_notified
from trail.models import Event


@dataclass
class Subject:
    event: Event
    project: Project | None = None
    case: MisconductCase | None = None


Who = Callable[[Subject], QuerySet[User]]
NOBODY = User.objects.none


def _role(role: Role) -> QuerySet[User]:
    return User.objects.filter(groups__name=role.value)


def staff(subject: Subject) -> QuerySet[User]:
    return _role(Role.STAFF)


def leaders(subject: Subject) -> QuerySet[User]:
    return _role(Role.LEADER)


def integrity_officers(subject: Subject) -> QuerySet[User]:
    return _role(Role.INTEGRITY)


def override_requester(subject: Subject) -> QuerySet[User]:
    """The staff member who asked for the veto override the event is about."""
    asked = VetoOverride.objects.filter(pk=subject.event.data.get("override"))
    return User.objects.filter(pk__in=asked.values("requested_by_id"))


def pi(subject: Subject) -> QuerySet[User]:
    return User.objects.filter(pk=subject.project.pi_id) if subject.project else NOBODY()


def unit_or_staff(subject: Subject) -> QuerySet[User]:
    """The unit's officers; bureau staff where it has none (they stand in for it)."""
    if subject.project is None:
        return NOBODY()
    officers = unit_officers_of(subject.project)
    return officers if officers.exists() else staff(subject)


def unit_or_pi(subject: Subject) -> QuerySet[User]:
    """Who answers a rectification request: the unit's officers, the PI where it has none
    (oversight.findings.answers_for_unit)."""
    if subject.project is None:
        return NOBODY()
    officers = unit_officers_of(subject.project)
    return officers if officers.exists() else pi(subject)


def _users_in(*keys: str) -> Who:
    """The users whose ids the event's data holds under one of `keys` (an id or a list)."""

    def who(subject: Subject) -> QuerySet[User]:
        ids: list[int] = []
        for key in keys:
            value = subject.event.data.get(key)
            ids += value if isinstance(value, list) else [value]
        return User.objects.filter(pk__in=[i for i in ids if isinstance(i, int)])

    who.__name__ = "users_in_" + "_".join(keys)
    return who


assigned_experts = _users_in("experts")  # pass_formal_check: the reviewers assigned
picked_experts = _users_in("picked_by_hand")  # a reviewer picked by hand for one who declined
replacement_expert = _users_in("replacement")  # drawn in place of one who declined
panel_members = _users_in("members")  # the acceptance panel drawn
lead_auditor = _users_in("auditor")  # the special audit's lead auditor


def respondents(subject: Subject) -> QuerySet[User]:
    """The respondent's accounts (a person by ID number, an organisation through its unit
    officers), once they have been given the notice of the case, never before."""
    case = subject.case
    # No respondent number: nobody (else every account without an ID number would match).
    if case is None or not case.respondent_id or not was_notified(case):
        return NOBODY()
    # The same rule as integrity.respondents.is_respondent, as one query (not one per user).
    if case.respondent_kind == SubjectKind.PERSON:
        users = User.objects.filter(id_number__iexact=case.respondent_id)
    else:
        users = _role(Role.UNIT).filter(organisation__credit_code=case.respondent_id)
    return users.filter(is_active=True)


def everyone_but(subject: Subject, users: QuerySet[User]) -> QuerySet[User]:
    """`users` less the actor (who knows what they did) and inactive accounts."""
    users = users.filter(is_active=True)
    if subject.event.actor_id is not None:
        users = users.exclude(pk=subject.event.actor_id)
    return users.distinct()
