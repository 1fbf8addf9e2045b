"""Keeping the register: every sanction is validated and journaled, on every path.

Pages, the admin, the case procedure and commands all call these functions, so each
change of the register is checked the same way and leaves a trail event with its before
and after. A sanction is never deleted: it is revoked with a reason.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import normalise_credit_code, normalise_id_number
from accounts.roles import Role, has_role
from trail.kinds import EventKind
from trail.services import record

from .models import MINOR_MEASURES, Gate, Measure, Sanction, Severity, SubjectKind
from .policy import effective_sanctions_q
from .signals import sanction_in_force

# Ban length in years by severity (DESIGN §4); None: no upper bound (permanent allowed).
BAN_YEARS = {
    Severity.SERIOUS: (1, 3),
    Severity.SEVERE: (3, 5),
    Severity.EXTREME: (5, None),
}
# The fields a trail event shows before and after a change.
JOURNALED = (
    "subject_kind",
    "subject_id",
    "subject_name",
    "subject_unit",
    "severity",
    "gates",
    "measures",
    "decision_no",
    "reason",
    "starts_on",
    "ends_on",
    "status",
    "under_appeal",
    "rectify_by",
    "rectified_on",
)


def normalise_subject(kind: str, identity: str) -> str:
    if kind == SubjectKind.PERSON:
        return normalise_id_number(identity)
    if kind == SubjectKind.ORGANISATION:
        return normalise_credit_code(identity)
    raise ValidationError(_("Choose whether the subject is a person or an organisation."))


def _years_between(start: datetime.date, end: datetime.date) -> float:
    return (end - start).days / 365.25


def ban_problems(severity: str, starts_on, ends_on) -> list[str]:
    """A ban's length must fit the severity (DESIGN §4)."""
    if severity == Severity.MINOR:
        return [_("A minor case carries no ban.")]
    low, high = BAN_YEARS[Severity(severity)]
    if ends_on is None:
        return [] if high is None else [_("Only an especially severe case may be permanent.")]
    years = _years_between(starts_on, ends_on)
    if years < low - 0.01 or (high is not None and years > high + 0.01):
        span = f"{low}–{high}" if high else f"≥ {low}"
        return [_("This severity bans for %(span)s years.") % {"span": span}]
    return []


def sanction_problems(sanction: Sanction) -> dict[str, list[str]]:
    """The measures must fit the severity; a ban bars gates for a fitting period."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    measures, gates = sanction.measures or [], sanction.gates or []
    if not isinstance(measures, list) or not isinstance(gates, list):
        add("measures", _("Measures and barred actions are lists."))
        return errors
    for name in ("starts_on", "ends_on", "rectify_by"):
        value = getattr(sanction, name)
        if value is not None and not isinstance(value, datetime.date):
            add(name, _("Enter a valid date."))
    if sanction.starts_on is None:
        add("starts_on", _("Give the day the sanction takes effect."))
    if errors:
        return errors
    if any(m not in Measure.values for m in measures):
        add("measures", _("Unknown measure."))
    if any(g not in Gate.values for g in gates):
        add("gates", _("Unknown barred action."))
    if errors:
        return errors
    if not measures:
        add("measures", _("Choose at least one measure."))
    if sanction.severity == Severity.MINOR:
        if set(measures) - MINOR_MEASURES:
            add("measures", _("A minor case (情节较轻) takes only talk, criticism or suspension."))
        if gates:
            add("gates", _("A minor case carries no ban; choose no barred actions."))
    if Measure.BAN in measures:
        if not gates:
            add("gates", _("Choose the actions the ban bars."))
        for problem in ban_problems(sanction.severity, sanction.starts_on, sanction.ends_on):
            add("ends_on", problem)
    elif gates and sanction.severity != Severity.MINOR:  # a minor case was refused above
        if not {Measure.DISQUALIFY_EXPERT, Measure.TERMINATE} & set(measures):
            add("measures", _("Barring actions needs a ban or an expert disqualification."))
    if Measure.DISQUALIFY_EXPERT in measures and Measure.BAN not in measures:
        if Gate.REVIEW not in gates:
            add("gates", _("A withdrawn expert qualification bars serving as an expert."))
    if Measure.SUSPEND_RECTIFY in measures:
        if sanction.rectify_by is None:
            add("rectify_by", _("Give the deadline for the rectification."))
        elif sanction.starts_on and sanction.rectify_by < sanction.starts_on:
            add("rectify_by", _("The rectification deadline cannot precede the start."))
    if sanction.ends_on and sanction.starts_on and sanction.ends_on < sanction.starts_on:
        add("ends_on", _("The end cannot precede the start."))
    return errors


def _snapshot(sanction: Sanction | None) -> dict:
    if sanction is None:
        return {}
    return model_to_dict(sanction, fields=[*JOURNALED])


def _may_keep_register(by) -> None:
    # by None: the system (a command or a migration acting on a rule), never a page.
    if by is not None and not has_role(by, Role.INTEGRITY):
        raise PermissionDenied(_("Only the integrity officer keeps the register."))


@transaction.atomic
def record_sanction(sanction: Sanction, by) -> Sanction:
    """Validate and save a new or edited sanction, with its before and after."""
    _may_keep_register(by)
    sanction.subject_id = normalise_subject(sanction.subject_kind, sanction.subject_id)
    is_new = sanction.pk is None
    before = None if is_new else Sanction.objects.select_for_update().get(pk=sanction.pk)
    if before is not None and before.status == Sanction.Status.REVOKED:
        raise ValidationError(_("A revoked sanction cannot be changed."))
    problems = sanction_problems(sanction)  # before any use of the values: wrong shapes too
    if problems:
        raise ValidationError(problems)
    sanction.gates = [Gate(g).value for g in sanction.gates or []]
    if is_new:
        sanction.recorded_by = by
    if before is not None and (
        before.starts_on != sanction.starts_on or before.status != sanction.status
    ):
        sanction.enforced_on = None  # a new start (or a reinstatement) bites on its day
    sanction.full_clean()
    sanction.save()
    record(
        EventKind.SANCTION_RECORDED,
        sanction,
        actor=by,
        before=_snapshot(before),
        after=_snapshot(sanction),
        data={"new": is_new, "decision": sanction.decision_no},
    )
    if takes_effect_today(sanction):
        pk = sanction.pk
        transaction.on_commit(lambda: enforce_sanction(pk))
    return sanction


@transaction.atomic
def revoke_sanction(sanction: Sanction, reason: str, by) -> Sanction:
    """Lift a sanction for good, with a reason; the record and its history stay."""
    _may_keep_register(by)
    if not (reason or "").strip():
        raise ValidationError(_("A revocation needs a reason."))
    sanction = Sanction.objects.select_for_update().get(pk=sanction.pk)
    if sanction.status == Sanction.Status.REVOKED:
        raise ValidationError(_("This sanction is already revoked."))
    before = _snapshot(sanction)
    sanction.status = Sanction.Status.REVOKED
    sanction.revoked_reason, sanction.revoked_at, sanction.revoked_by = (
        reason.strip(),
        timezone.now(),
        by,
    )
    sanction.save(update_fields=["status", "revoked_reason", "revoked_at", "revoked_by"])
    record(
        EventKind.SANCTION_REVOKED,
        sanction,
        actor=by,
        before=before,
        after=_snapshot(sanction),
        data={"reason": sanction.revoked_reason, "decision": sanction.decision_no},
    )
    return sanction


@transaction.atomic
def record_rectification(sanction: Sanction, done_on: datetime.date, by) -> Sanction:
    """暂停项目限期整改: the subject has rectified; staff may then resume the projects."""
    _may_keep_register(by)
    sanction = Sanction.objects.select_for_update().get(pk=sanction.pk)
    if Measure.SUSPEND_RECTIFY not in sanction.measures:
        raise ValidationError(_("This sanction asks for no rectification."))
    if sanction.rectified_on is not None:
        raise ValidationError(_("The rectification is already recorded."))
    if done_on > timezone.localdate():
        raise ValidationError(_("A rectification cannot be dated in the future."))
    before = _snapshot(sanction)
    sanction.rectified_on = done_on
    sanction.save(update_fields=["rectified_on"])
    record(
        EventKind.SANCTION_RECORDED, sanction, actor=by, before=before, after=_snapshot(sanction)
    )
    return sanction


def in_force_on(sanction: Sanction, on_date: datetime.date) -> bool:
    return (
        sanction.status == Sanction.Status.EFFECTIVE
        and sanction.starts_on <= on_date
        and (sanction.ends_on is None or sanction.ends_on >= on_date)
    )


def takes_effect_today(sanction: Sanction) -> bool:
    return sanction.enforced_on is None and in_force_on(sanction, timezone.localdate())


def sanctions_to_enforce(on_date: datetime.date | None = None):
    """Effective sanctions in force on `on_date` whose taking effect has not yet acted."""
    on_date = on_date or timezone.localdate()
    return Sanction.objects.filter(effective_sanctions_q(on_date), enforced_on__isnull=True)


def enforce_sanction(sanction_id: int) -> bool:
    """Let a sanction that is in force today act once: suspend the subject's projects.

    Higher parts do the suspending (they subscribe to `sanction_in_force`); each
    suspension is its own transaction, so a crash halfway leaves `enforced_on` empty and
    the next daily run finishes the job (suspended projects are not suspended twice).
    """
    sanction = Sanction.objects.filter(pk=sanction_id).first()
    if sanction is None or not takes_effect_today(sanction):
        return False
    sanction_in_force.send(Sanction, sanction=sanction)
    with transaction.atomic():
        locked = Sanction.objects.select_for_update().get(pk=sanction_id)
        if locked.enforced_on is not None:
            return False
        locked.enforced_on = timezone.localdate()
        locked.save(update_fields=["enforced_on"])
        record(
            EventKind.SANCTION_ENFORCED,
            locked,
            data={"decision": locked.decision_no, "on": locked.enforced_on},
        )
    return True


def enforce_sanctions_in_force() -> int:
    """The daily job: every sanction whose start has come acts on its day."""
    ids = list(sanctions_to_enforce().values_list("pk", flat=True))
    return sum(enforce_sanction(pk) for pk in ids)


def rectifications_to_record():
    """暂停项目限期整改 still to be noted as done: effective sanctions ordering a
    rectification whose completion is not recorded, the nearest deadline first (the
    integrity officer's inbox). The measures are matched in their stored JSON text,
    which every database can search."""
    return Sanction.objects.filter(
        status=Sanction.Status.EFFECTIVE,
        measures__icontains=f'"{Measure.SUSPEND_RECTIFY.value}"',
        rectify_by__isnull=False,
        rectified_on__isnull=True,
    ).order_by("rectify_by", "pk")
