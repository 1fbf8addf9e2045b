"""Who may download case evidence (documents.access asks; registered from
IntegrityConfig.ready()): the integrity officer alone. Anyone else is not told the file
exists (404), as the case itself is the officer's page only."""

from __future__ import annotations

from accounts.roles import Role, has_role
from documents import access
from documents.access import Visibility


def register_checks() -> None:
    access.register("integrity.misconductcase", case_document)


def case_document(user, case, attachment) -> Visibility:
    return Visibility.ALLOWED if has_role(user, Role.INTEGRITY) else Visibility.HIDDEN
