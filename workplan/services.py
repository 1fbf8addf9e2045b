"""Changing the work plan: targets, monthly actuals, upward recommendations.

Each change is one transaction with its trail event (before and after); pages, the
import and the demo all come through here, so every path gets the same checks.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from accounts.text import check_text
from funding.amounts import check_amount
from funding.models import ZERO, Project
from funding.states import ProjectStatus
from trail.kinds import EventKind
from trail.services import record

from .excel import ActualRow, period_problem, read_actuals
from .indicators import BY_CODE, Indicator, check_value
from .models import YEAR_MAX, YEAR_MIN, MonthlyActual, UpwardRecommendation, YearlyTarget

# Approved (立项) or later, and not ended badly or on hold: what a bureau puts forward.
RECOMMENDABLE_STATES = frozenset(
    {
        ProjectStatus.APPROVED,
        ProjectStatus.CONTRACTED,
        ProjectStatus.IN_PROGRESS,
        ProjectStatus.ACCEPTANCE_REQUESTED,
        ProjectStatus.UNDER_AUDIT,
        ProjectStatus.UNDER_ACCEPTANCE,
        ProjectStatus.RECONSIDERATION,
        ProjectStatus.ACCEPTED,
        ProjectStatus.CLOSED,
    }
)
PROGRAMME_MAX = 200


@dataclass(frozen=True)
class ImportOutcome:
    stored: int
    unchanged: int
    skipped: int


def _require(user, role: Role, what: str) -> None:
    if not has_role(user, role):
        raise PermissionDenied(what)


def check_year(year: int) -> int:
    if not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationError(
            _("The year must be from %(min)d to %(max)d.") % {"min": YEAR_MIN, "max": YEAR_MAX}
        )
    return year


def _indicator(code: str) -> Indicator:
    indicator = BY_CODE.get(code)
    if indicator is None:
        raise ValidationError(_("There is no indicator “%(code)s”.") % {"code": str(code)[:40]})
    return indicator


def _named(indicator: Indicator, error: ValidationError) -> ValidationError:
    return ValidationError(f"{indicator.label}: {error.messages[0]}.", code=error.code)


# --- targets (leadership) -------------------------------------------------------------


def set_targets(year: int, values: dict[str, Decimal | None], by) -> list[str]:
    """Set the year's targets; None removes one. Returns the codes that changed."""
    _require(by, Role.LEADER, _("Only leadership sets the yearly targets."))
    check_year(year)
    checked: dict[str, Decimal | None] = {}
    for code, value in values.items():
        indicator = _indicator(code)
        try:
            checked[code] = None if value is None else check_value(indicator, value)
        except ValidationError as error:
            raise _named(indicator, error) from None
    changed = []
    now = timezone.now()
    with transaction.atomic():
        existing = {
            t.indicator: t for t in YearlyTarget.objects.select_for_update().filter(year=year)
        }
        for code, value in checked.items():
            old = existing.get(code)
            before = None if old is None else str(old.value)
            if (old is None and value is None) or (old is not None and old.value == value):
                continue
            if value is None:
                target = old
            elif old is None:
                target = YearlyTarget.objects.create(
                    year=year, indicator=code, value=value, set_by=by, set_at=now
                )
            else:
                target = old
                target.value, target.set_by, target.set_at = value, by, now
                target.save(update_fields=["value", "set_by", "set_at"])
            record(
                EventKind.TARGET_SET,
                target,
                actor=by,
                before={"value": before},
                after={"value": None if value is None else str(value)},
                data={"year": year, "indicator": code},
            )
            if value is None:
                old.delete()
            changed.append(code)
    return changed


# --- monthly actuals (staff) ----------------------------------------------------------


def record_actual(
    *,
    year: int,
    month: int,
    indicator: str,
    value: Decimal,
    by,
    source: str = MonthlyActual.Source.ENTERED,
    today: datetime.date | None = None,
) -> bool:
    """Record a month's actual of an entered indicator; a value already there is
    replaced (the trail keeps both). Returns False when the value was already so."""
    _require(by, Role.STAFF, _("Only bureau staff record the monthly actuals."))
    found = _indicator(indicator)
    if not found.entered:
        raise ValidationError(
            _("%(indicator)s is computed by the system; it cannot be entered.")
            % {"indicator": found.label}
        )
    check_year(year)
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise ValidationError(_("The month must be from 1 to 12."))
    why = period_problem(year, month, today or timezone.localdate())
    if why:
        raise ValidationError(why)
    try:
        value = check_value(found, value)
    except ValidationError as error:
        raise _named(found, error) from None
    with transaction.atomic():
        return _store_actual(year, month, found.code, value, by, source)


def _store_actual(year, month, code, value, by, source) -> bool:
    key = {"year": year, "month": month, "indicator": code}
    row = MonthlyActual.objects.select_for_update().filter(**key).first()
    if row is not None and row.value == value:
        return False
    before = {} if row is None else {"value": str(row.value), "source": row.source}
    now = timezone.now()
    if row is None:
        try:
            with transaction.atomic():  # a savepoint: someone may store the same month now
                row = MonthlyActual.objects.create(
                    **key, value=value, entered_by=by, entered_at=now, source=source
                )
        except IntegrityError:
            return _store_actual(year, month, code, value, by, source)
    else:
        row.value, row.entered_by, row.entered_at, row.source = value, by, now, source
        row.save(update_fields=["value", "entered_by", "entered_at", "source"])
    record(
        EventKind.ACTUAL_RECORDED,
        row,
        actor=by,
        before=before,
        after={"value": str(value), "source": source},
        data=key,
    )
    return True


def import_actuals(
    content: bytes, filename: str, by, today: datetime.date | None = None
) -> ImportOutcome:
    """Every row of the file, or none: one bad row refuses the file (excel.ImportRefused,
    each bad row with why)."""
    _require(by, Role.STAFF, _("Only bureau staff import the monthly actuals."))
    today = today or timezone.localdate()
    result = read_actuals(content, filename, today)
    stored = 0
    with transaction.atomic():
        for row in result.rows:
            stored += _import_row(row, by, today)
    return ImportOutcome(stored, len(result.rows) - stored, result.skipped)


def _import_row(row: ActualRow, by, today) -> int:
    changed = record_actual(
        year=row.year,
        month=row.month,
        indicator=row.indicator.code,
        value=row.value,
        by=by,
        source=MonthlyActual.Source.IMPORTED,
        today=today,
    )
    return 1 if changed else 0


# --- upward recommendations (向上推荐, staff) -------------------------------------------


def _not_after_today(day: datetime.date, label: str) -> None:
    if not isinstance(day, datetime.date):
        raise ValidationError(_("%(label)s: not a date.") % {"label": label})
    if day > timezone.localdate():
        raise ValidationError(_("%(label)s: not after today.") % {"label": label})


def recommend_upward(
    project_id: int, by, *, level: str, programme: str, recommended_on: datetime.date
) -> UpwardRecommendation:
    """Record that the bureau recommended the project to a higher programme."""
    _require(by, Role.STAFF, _("Only bureau staff recommend projects upward."))
    if level not in UpwardRecommendation.Level.values:
        raise ValidationError(_("Choose the programme's level."))
    check_text(programme, label=_("Programme"), max_length=PROGRAMME_MAX, multiline=False)
    programme = programme.strip()
    if not programme:
        raise ValidationError(_("Programme: name the programme."))
    _not_after_today(recommended_on, _("Recommended on"))
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project_id)
        if project.status not in RECOMMENDABLE_STATES:
            raise ValidationError(
                _(
                    "Only a project approved (立项) or later may be recommended upward; "
                    "this one is: %(state)s."
                )
                % {"state": project.get_status_display()}
            )
        waiting = project.upward_recommendations.filter(
            level=level, programme=programme, result=UpwardRecommendation.Result.PENDING
        )
        if waiting.exists():
            raise ValidationError(
                _("This project is already recommended to “%(programme)s”, waiting for the result.")
                % {"programme": programme}
            )
        recommendation = UpwardRecommendation.objects.create(
            project=project,
            level=level,
            programme=programme,
            recommended_on=recommended_on,
            recommended_by=by,
        )
        record(
            EventKind.UPWARD_RECOMMENDATION,
            recommendation,
            actor=by,
            after=_facts(recommendation),
            data={"project": project.pk, "step": "recommended"},
        )
    return recommendation


def _facts(r: UpwardRecommendation) -> dict:
    return {
        "level": r.level,
        "programme": r.programme,
        "recommended_on": r.recommended_on.isoformat(),
        "result": r.result,
        "funds_won": str(r.funds_won),
        "decided_on": r.decided_on.isoformat() if r.decided_on else None,
    }


def record_recommendation_result(
    recommendation_id: int,
    by,
    *,
    result: str,
    funds_won: Decimal | None,
    decided_on: datetime.date,
) -> UpwardRecommendation:
    """The programme's answer: won (with the funds won, in yuan) or not won. Recorded
    again, it corrects the earlier answer; the trail keeps both."""
    _require(by, Role.STAFF, _("Only bureau staff record the result of a recommendation."))
    Result = UpwardRecommendation.Result
    if result not in (Result.WON, Result.NOT_WON):
        raise ValidationError(_("Choose won or not won."))
    if result == Result.WON:
        if funds_won is None:
            raise ValidationError(_("Funds won: say how much was won, in yuan (0 if none)."))
        funds_won = check_amount(funds_won, _("Funds won"))
    else:
        if funds_won:
            raise ValidationError(_("Funds won: a programme not won brings no funds."))
        funds_won = ZERO
    _not_after_today(decided_on, _("Decided on"))
    with transaction.atomic():
        recommendation = UpwardRecommendation.objects.select_for_update().get(pk=recommendation_id)
        if decided_on < recommendation.recommended_on:
            raise ValidationError(
                _("Decided on: not before the recommendation (%(day)s).")
                % {"day": recommendation.recommended_on.isoformat()}
            )
        before = _facts(recommendation)
        recommendation.result = result
        recommendation.funds_won = funds_won
        recommendation.decided_on = decided_on
        after = _facts(recommendation)
        if after == before:
            return recommendation
        recommendation.recorded_by = by
        recommendation.recorded_at = timezone.now()
        recommendation.save(
            update_fields=["result", "funds_won", "decided_on", "recorded_by", "recorded_at"]
        )
        record(
            EventKind.UPWARD_RECOMMENDATION,
            recommendation,
            actor=by,
            before=before,
            after=after,
            data={"project": recommendation.project_id, "step": "result"},
        )
    return recommendation
