"""Who may download case evidence (documents.access asks; registered from
IntegrityConfig.ready()).

The integrity officer, every file. The respondent (the person, or a unit officer of the
respondent organisation), only the files the officer disclosed to the parties, and only
once notified of the case (the hearing's notice). Anyone else, and the respondent for
any other file (a whistle-blower's identity, say), is not told the file exists (404).

The complainant is recorded by name only (MisconductCase.reporter), not as an account,
so no signed-in user is the complainant and none gets a complainant's access.
"""

from __future__ import annotations

from accounts.roles import Role, has_role
from documents import access
from documents.access import Visibility

from .evidence import is_disclosed
from .respondents import is_respondent, was_notified


def register_checks() -> None:
    access.register("integrity.misconductcase", case_document)


def case_document(user, case, attachment) -> Visibility:
    if has_role(user, Role.INTEGRITY):
        return Visibility.ALLOWED
    if is_respondent(user, case) and was_notified(case) and is_disclosed(case, attachment):
        return Visibility.ALLOWED
    return Visibility.HIDDEN
