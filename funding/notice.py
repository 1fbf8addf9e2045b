"""The public notice period (立项公示期), counted in working days.

A period counted in days starts on the day after the event (民法典 第二百零一条), so the
day of approval is not a notice day: a notice of N working days runs over the N working
days after it, and may close from the day after the last of them. Working days are
Monday to Friday, less the statutory holidays (法定节假日, NOTICE_HOLIDAYS), plus the
weekend days worked in exchange (调休上班, NOTICE_EXTRA_WORKING_DAYS); the State Council
publishes both each year and the bureau sets them in the environment.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.conf import settings
from django.utils import timezone

from .states import ProjectStatus

DAY = datetime.timedelta(days=1)


def is_working_day(
    day: datetime.date,
    holidays: Collection[datetime.date] = (),
    extra_working: Collection[datetime.date] = (),
) -> bool:
    if day in extra_working:
        return True
    return day.weekday() < 5 and day not in holidays


def last_notice_day(
    start: datetime.date,
    working_days: int,
    holidays: Collection[datetime.date] = (),
    extra_working: Collection[datetime.date] = (),
) -> datetime.date:
    """The last day of a notice of `working_days` working days published on `start`.

    With 0 working days it is `start` itself: nothing to wait for beyond that day."""
    if working_days < 0:
        raise ValueError("a notice cannot run a negative number of working days")
    day, counted = start, 0
    while counted < working_days:
        day += DAY
        counted += is_working_day(day, holidays, extra_working)
    return day


def notice_ends_on(approved_on: datetime.date) -> datetime.date:
    """The last notice day for a project approved on `approved_on`, by the settings."""
    return last_notice_day(
        approved_on,
        settings.PUBLIC_NOTICE_WORKING_DAYS,
        frozenset(settings.NOTICE_HOLIDAYS),
        frozenset(settings.NOTICE_EXTRA_WORKING_DAYS),
    )


def notice_over(project, today: datetime.date | None = None) -> bool:
    """The notice period has ended (a project approved before periods were kept has none)."""
    today = today or timezone.localdate()
    return project.notice_ends_on is None or today > project.notice_ends_on


def notice_running(project, today: datetime.date | None = None) -> bool:
    """On notice and within its period: objections may be lodged."""
    return project.status == ProjectStatus.PUBLIC_NOTICE and not notice_over(project, today)
