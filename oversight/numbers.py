"""The project number (立项编号) printed on certificates: derived, never stored.

A project has no number field. Its number is

    f"{BUREAU_PROJECT_PREFIX}{approval year}{pk:05d}"      e.g. "KJ202600042"

- BUREAU_PROJECT_PREFIX: a setting (default "KJ"), the bureau's own prefix;
- the approval year: the year, in local time, of the project's first `approve`
  transition in the trail (立项 is the approval); the start date's year for a project
  the trail has no approval for (none reaches a certificate that way);
- the primary key, five digits at least.

Deterministic (the trail is append-only and the key never changes) and unique (the key
is), so a reprint or a second machine gives the same number.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from funding.models import Project
from trail.kinds import EventKind
from trail.services import history_of


def approval_year(project: Project) -> int:
    approved = (
        history_of(project)
        .filter(kind=EventKind.PROJECT_TRANSITION, data__transition="approve")
        .first()
    )
    if approved is None:
        return project.start_date.year
    return timezone.localtime(approved.at).year


def project_number(project: Project) -> str:
    return f"{settings.BUREAU_PROJECT_PREFIX}{approval_year(project)}{project.pk:05d}"
