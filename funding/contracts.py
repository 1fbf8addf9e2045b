"""The task contract (任务书, issue 8): measurable targets (考核指标), milestones and the
payment schedule agreed at contract, frozen when the contract is signed.

Staff and the PI write the terms while the project is approved and not yet contracted;
`sign_contract` freezes them; disbursements then follow the schedule (beyond it needs a
reason); at acceptance the PI reports the achieved value of each target.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, has_role
from accounts.text import check_text
from trail.kinds import EventKind
from trail.services import record

from .models import MONEY, ZERO, Project
from .states import ProjectStatus

ON_SIGNING = "签订后"  # the schedule's word for a tranche paid when the contract is signed
ON_SIGNING_WORDS = {ON_SIGNING, "签订时", "on signing"}
EDITABLE = ProjectStatus.APPROVED
REPORTING_STATES = {ProjectStatus.IN_PROGRESS, ProjectStatus.ACCEPTANCE_REQUESTED}
TARGET_VALUE = {"max_digits": 18, "decimal_places": 4}
MAX_LINES = 100  # per section: a contract, not a spreadsheet


def plain_number(value: Decimal | None) -> str:
    """90.0000 as “90”, 0.9500 as “0.95” (never “9E+1”); "" for None."""
    return "" if value is None else f"{value.normalize():f}"


class ProjectContract(models.Model):
    project = models.OneToOneField(
        Project, on_delete=models.PROTECT, related_name="contract", verbose_name=_("project")
    )
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("frozen by"),
    )

    class Meta:
        verbose_name = _("task contract")


class ContractTarget(models.Model):
    contract = models.ForeignKey(ProjectContract, on_delete=models.CASCADE, related_name="targets")
    position = models.PositiveSmallIntegerField()
    indicator = models.CharField(_("indicator"), max_length=200)
    unit = models.CharField(_("unit"), max_length=30)
    target_value = models.DecimalField(_("target value"), **TARGET_VALUE)
    achieved_value = models.DecimalField(_("achieved value"), null=True, blank=True, **TARGET_VALUE)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("contract target")
        ordering = ["position"]

    @property
    def target_text(self) -> str:
        return plain_number(self.target_value)

    @property
    def achieved_text(self) -> str:
        return plain_number(self.achieved_value)


class ContractMilestone(models.Model):
    contract = models.ForeignKey(
        ProjectContract, on_delete=models.CASCADE, related_name="milestones"
    )
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("milestone"), max_length=200)
    due_on = models.DateField(_("due date"))

    class Meta:
        verbose_name = _("milestone")
        ordering = ["position"]


class PaymentTranche(models.Model):
    contract = models.ForeignKey(ProjectContract, on_delete=models.CASCADE, related_name="tranches")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("tranche"), max_length=200)
    amount = models.DecimalField(_("amount"), **MONEY)
    # None: paid on signing the contract.
    milestone = models.ForeignKey(
        ContractMilestone, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("payment tranche")
        ordering = ["position"]


# --- the terms as typed: one item a line ---------------------------------------------------


@dataclass(frozen=True)
class Target:
    indicator: str
    unit: str
    value: Decimal


@dataclass(frozen=True)
class Milestone:
    name: str
    due_on: datetime.date


@dataclass(frozen=True)
class Tranche:
    name: str
    amount: Decimal
    milestone: str  # a milestone's name, or "" on signing


def _split(line: str, parts: int) -> list[str]:
    # The last fields are short values; the first (a name) may hold commas of its own.
    fields = [f.strip() for f in line.replace("，", ",").rsplit(",", parts - 1)]
    return fields if len(fields) == parts and all(fields) else []


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(" ", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _numbered(text: str):
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if len(lines) > MAX_LINES:
        raise ValidationError(_("At most %(n)s lines.") % {"n": MAX_LINES})
    return lines


def _line_error(n: int, message: str) -> str:
    return _gettext("Line %(n)s: %(message)s") % {"n": n, "message": message}


def parse_targets(text: str) -> list[Target]:
    """“indicator, unit, target” a line; errors name their line."""
    targets, errors = [], []
    for n, line in _numbered(text):
        fields = _split(line, 3)
        value = _decimal(fields[2]) if fields else None
        if not fields:
            errors.append(_line_error(n, _gettext("write “indicator, unit, target value”.")))
        elif value is None or value < 0:
            errors.append(_line_error(n, _gettext("the target value must be a number ≥ 0.")))
        elif len(fields[0]) > 200 or len(fields[1]) > 30 or abs(value) >= 10**14:
            errors.append(_line_error(n, _gettext("too long.")))
        else:
            targets.append(Target(fields[0], fields[1], value))
    if errors:
        raise ValidationError(errors)
    return targets


def parse_milestones(text: str) -> list[Milestone]:
    """“milestone, YYYY-MM-DD” a line; names are unique."""
    milestones, errors, seen = [], [], set()
    for n, line in _numbered(text):
        fields = _split(line, 2)
        try:
            due = datetime.date.fromisoformat(fields[1]) if fields else None
        except ValueError:
            due = None
        if not fields or due is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields[1]):
            errors.append(_line_error(n, _gettext("write “milestone, YYYY-MM-DD”.")))
        elif fields[0] in seen or fields[0] in ON_SIGNING_WORDS:
            errors.append(_line_error(n, _gettext("this milestone name is already used.")))
        elif len(fields[0]) > 200:
            errors.append(_line_error(n, _gettext("too long.")))
        else:
            seen.add(fields[0])
            milestones.append(Milestone(fields[0], due))
    if errors:
        raise ValidationError(errors)
    return milestones


def parse_schedule(text: str, milestone_names: set[str]) -> list[Tranche]:
    """“tranche, amount, milestone or 签订后” a line."""
    tranches, errors = [], []
    for n, line in _numbered(text):
        fields = _split(line, 3)
        amount = _decimal(fields[1].replace(",", "")) if fields else None
        if not fields:
            errors.append(_line_error(n, _gettext("write “tranche, amount, milestone or 签订后”.")))
        elif amount is None or amount <= 0 or amount.as_tuple().exponent < -2:
            errors.append(_line_error(n, _gettext("the amount must be above zero, in yuan.")))
        elif amount >= 10**12 or len(fields[0]) > 200:
            errors.append(_line_error(n, _gettext("too long.")))
        elif fields[2] not in milestone_names and fields[2] not in ON_SIGNING_WORDS:
            errors.append(
                _line_error(
                    n,
                    _gettext("“%(m)s” is not one of the milestones above (or 签订后).")
                    % {"m": fields[2]},
                )
            )
        else:
            milestone = "" if fields[2] in ON_SIGNING_WORDS else fields[2]
            tranches.append(Tranche(fields[0], amount, milestone))
    if errors:
        raise ValidationError(errors)
    return tranches


def terms_as_text(project: Project) -> dict[str, str]:
    """The saved terms in the form's one-item-a-line text, for editing them again."""
    contract = contract_of(project)
    if contract is None:
        return {"targets": "", "milestones": "", "schedule": ""}
    return {
        "targets": "\n".join(
            f"{t.indicator}, {t.unit}, {t.target_text}" for t in contract.targets.all()
        ),
        "milestones": "\n".join(
            f"{m.name}, {m.due_on.isoformat()}" for m in contract.milestones.all()
        ),
        "schedule": "\n".join(
            f"{t.name}, {t.amount}, {t.milestone.name if t.milestone else ON_SIGNING}"
            for t in contract.tranches.select_related("milestone")
        ),
    }


# --- the rules ---------------------------------------------------------------------------


def contract_of(project: Project) -> ProjectContract | None:
    return ProjectContract.objects.filter(project=project).first()


def may_edit_terms(user, project: Project) -> bool:
    """Staff and the PI, while approved and not yet contracted, and not frozen."""
    if project.status != EDITABLE or not user.is_authenticated:
        return False
    contract = contract_of(project)
    if contract is not None and contract.frozen_at is not None:
        return False
    return has_role(user, Role.STAFF) or user.pk == project.pi_id


def may_report_achieved(user, project: Project) -> bool:
    return (
        user.is_authenticated
        and user.pk == project.pi_id
        and project.status in REPORTING_STATES
        and ContractTarget.objects.filter(contract__project=project).exists()
    )


def _check_terms(project: Project, targets, tranches) -> None:
    if not targets:
        raise ValidationError(_("The task contract needs at least one target (考核指标)."))
    total = sum((t.amount for t in tranches), ZERO)
    if project.approved_amount is None or total != project.approved_amount:
        raise ValidationError(
            _(
                "The payment schedule adds up to %(total)s yuan; it must equal the approved "
                "amount, %(approved)s yuan."
            )
            % {"total": f"{total:,.2f}", "approved": f"{project.approved_amount or ZERO:,.2f}"}
        )


@transaction.atomic
def save_contract_terms(
    project: Project,
    by,
    targets: list[Target],
    milestones: list[Milestone],
    schedule: list[Tranche],
) -> ProjectContract:
    """Replace the terms (not their achieved values: none exist before signing)."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if not may_edit_terms(by, project):
        frozen = contract_of(project)
        if frozen is not None and frozen.frozen_at is not None:
            raise PermissionDenied(_("The task contract is signed; its terms are frozen."))
        raise PermissionDenied(_("The task contract's terms may not be changed now."))
    names = {m.name for m in milestones}
    if any(t.milestone and t.milestone not in names for t in schedule):
        raise ValidationError(_("A tranche names a milestone that is not in the contract."))
    _check_terms(project, targets, schedule)
    contract, _created = ProjectContract.objects.get_or_create(project=project)
    contract.targets.all().delete()
    contract.tranches.all().delete()
    contract.milestones.all().delete()
    ContractTarget.objects.bulk_create(
        ContractTarget(
            contract=contract, position=i, indicator=t.indicator, unit=t.unit, target_value=t.value
        )
        for i, t in enumerate(targets)
    )
    saved = {
        m.name: ContractMilestone.objects.create(
            contract=contract, position=i, name=m.name, due_on=m.due_on
        )
        for i, m in enumerate(milestones)
    }
    PaymentTranche.objects.bulk_create(
        PaymentTranche(
            contract=contract,
            position=i,
            name=t.name,
            amount=t.amount,
            milestone=saved.get(t.milestone),
        )
        for i, t in enumerate(schedule)
    )
    record(
        EventKind.PROJECT_EDITED,
        project,
        actor=by,
        data={
            "contract": {
                "targets": [[t.indicator, t.unit, str(t.value)] for t in targets],
                "milestones": [[m.name, m.due_on.isoformat()] for m in milestones],
                "schedule": [[t.name, str(t.amount), t.milestone or ON_SIGNING] for t in schedule],
            }
        },
    )
    return contract


def freeze_for_signing(project: Project, by) -> None:
    """At `sign_contract` (the caller holds the project lock and saves `signed_on`): the
    terms must be complete; they are frozen. No contract is signed without them."""
    contract = contract_of(project)
    if contract is None or not contract.targets.exists():
        raise ValidationError(
            _("Fill the task contract's terms (targets and payment schedule) first.")
        )
    _check_terms(project, list(contract.targets.all()), list(contract.tranches.all()))
    contract.frozen_at = timezone.now()
    contract.frozen_by = by
    contract.save(update_fields=["frozen_at", "frozen_by"])
    project.signed_on = timezone.localdate(contract.frozen_at)  # the caller saves it


def achieved_missing(project: Project) -> bool:
    """True while a target of the contract has no achieved value reported."""
    return ContractTarget.objects.filter(
        contract__project=project, achieved_value__isnull=True
    ).exists()


def scheduled_until(project: Project, day: datetime.date) -> Decimal | None:
    """What the schedule allows to be paid by `day` (None: the project has no schedule)."""
    tranches = PaymentTranche.objects.filter(contract__project=project).select_related("milestone")
    if not tranches:
        return None
    return sum(
        (t.amount for t in tranches if t.milestone is None or t.milestone.due_on <= day), ZERO
    )


def check_against_schedule(project: Project, amount: Decimal, reason: str) -> bool:
    """Refuse a disbursement beyond the schedule without a reason; True when beyond it."""
    allowed = scheduled_until(project, timezone.localdate())
    if allowed is None or project.disbursed_total + amount <= allowed:
        return False
    if not reason.strip():
        raise ValidationError(
            _(
                "This goes beyond the task contract's payment schedule: %(allowed)s yuan are "
                "due by today and %(paid)s yuan are paid. Give a reason to disburse anyway."
            )
            % {"allowed": f"{allowed:,.2f}", "paid": f"{project.disbursed_total:,.2f}"}
        )
    return True


def _achieved_value(target: ContractTarget, value) -> Decimal:
    """The service's own check (the API and commands come here too, not only the form)."""
    field = ContractTarget._meta.get_field("achieved_value")
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValidationError(
            _("%(indicator)s: the achieved value must be a number ≥ 0.")
            % {"indicator": target.indicator}
        )
    try:
        field.run_validators(value)
    except ValidationError as error:
        raise ValidationError(f"{target.indicator}: {' '.join(error.messages)}") from None
    return value


def _achieved_note(note: str) -> str:
    note = note.strip() if isinstance(note, str) else note
    limit = ContractTarget._meta.get_field("note").max_length
    check_text(note, label=_gettext("Note"), max_length=limit, multiline=False)
    return note


@transaction.atomic
def report_achieved(project: Project, by, values: dict[int, tuple[Decimal, str]]) -> None:
    """The PI's achieved value (and a note) for each target, at acceptance."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if not may_report_achieved(by, project):
        raise PermissionDenied(_("Only the PI reports achieved values, while the project runs."))
    targets = list(ContractTarget.objects.filter(contract__project=project))
    if set(values) != {t.pk for t in targets}:
        raise ValidationError(_("Report an achieved value for every target."))
    for target in targets:
        value, note = values[target.pk]
        target.achieved_value, target.note = _achieved_value(target, value), _achieved_note(note)
    ContractTarget.objects.bulk_update(targets, ["achieved_value", "note"])
    record(
        EventKind.PROJECT_EDITED,
        project,
        actor=by,
        data={
            "contract": {
                "achieved": [[t.indicator, str(t.achieved_value), t.note] for t in targets]
            }
        },
    )
