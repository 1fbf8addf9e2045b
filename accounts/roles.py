"""The roles of DESIGN §1, kept as Django groups of the same names."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    STAFF = "staff", _("Bureau staff")
    EXPERT = "expert", _("Expert reviewer")
    AUDITOR = "auditor", _("Third-party auditor")
    INTEGRITY = "integrity_officer", _("Integrity officer")
    LEADER = "leader", _("Leadership")
    # The research or finance office of the applicant's organisation (承担单位).
    UNIT = "unit_officer", _("Unit research office")


def has_role(user, role: Role) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    # Cached per request object: the guards ask this many times per page.
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._role_names = cached
    return role.value in cached


def roles_of(user) -> list[Role]:
    return [role for role in Role if has_role(user, role)]


def ensure_role_groups() -> None:
    """Create one group per role (idempotent; runs after every migrate)."""
    from django.contrib.auth.models import Group

    for role in Role:
        Group.objects.get_or_create(name=role.value)
