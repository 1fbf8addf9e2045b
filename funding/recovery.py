"""Recovery (追回) and the closing balance (结余), DESIGN §5 and issue 9.

A project terminated (终止) or failing acceptance (验收不通过) owes back the disbursed funds
it did not spend: the lifecycle assesses a `Recovery` in the same transaction, with the
numbers it was computed from. Staff record the unit's refunds against it and may adjust
the assessed amount with a reason. Until it is settled, neither the PI nor the
organisation may submit another application (`check_no_outstanding_recovery`).

At closure (结题) the balance left is recorded with its disposition: under 32号 an accepted
project's balance is kept by the unit for research use, unless staff record that it is
returned to the bureau, which then owes it back like any recovery.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.roles import Role, has_role
from accounts.text import check_text
from trail.kinds import EventKind
from trail.services import record

from .amounts import check_amount
from .budget import CENT
from .models import MONEY, ZERO, Project
from .states import ProjectStatus

REFERENCE_MAX = 100


class Recovery(models.Model):
    """What a project owes back to the bureau, how it was computed, and what came back."""

    class Reason(models.TextChoices):
        TERMINATED = "terminated", _("Project terminated (终止)")
        FAILED = "failed", _("Acceptance failed (验收不通过)")
        BALANCE = "balance", _("Closing balance returned to the bureau (结余收回)")

    project = models.OneToOneField(
        Project, on_delete=models.PROTECT, related_name="recovery", verbose_name=_("project")
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    # The basis as it stood when assessed, kept so anyone can redo the sum.
    disbursed = models.DecimalField(_("disbursed"), **MONEY)
    spent = models.DecimalField(_("spending recorded"), **MONEY)
    eligible = models.DecimalField(_("spending within the budget"), **MONEY)
    computed = models.DecimalField(_("computed amount"), **MONEY)
    # The computed amount, or what staff set it to (with a reason, on the trail).
    amount = models.DecimalField(_("amount to recover"), **MONEY)
    refunded = models.DecimalField(_("refunded"), default=ZERO, **MONEY)
    adjustment_reason = models.TextField(_("reason for the adjustment"), blank=True)
    assessed_at = models.DateTimeField(_("assessed at"), auto_now_add=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assessed by"),
    )

    class Meta:
        verbose_name = _("recovery")
        verbose_name_plural = _("recoveries")
        ordering = ["assessed_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(disbursed__gte=0, spent__gte=0, eligible__gte=0, computed__gte=0),
                name="recovery_basis_nonneg",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="recovery_amount_nonneg"),
            # Never more refunded than assessed: the last line of defence against a race.
            models.CheckConstraint(
                condition=Q(refunded__gte=0, refunded__lte=F("amount")),
                name="recovery_refunded_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return str(self.project)

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.refunded

    def refund_rows(self):
        """The refunds with who recorded them, in one query (the project page's table)."""
        return self.refunds.select_related("recorded_by")

    @property
    def settled(self) -> bool:
        return self.refunded >= self.amount


class Refund(models.Model):
    """退回: money the unit paid back against a recovery."""

    recovery = models.ForeignKey(
        Recovery, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("recovery")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_on = models.DateField(pgettext_lazy("refund", "paid on"))
    reference = models.CharField(_("payment reference"), max_length=REFERENCE_MAX)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        ordering = ["paid_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive")]


class ClosingBalance(models.Model):
    """结余: what was left of the disbursed funds at closure, and where it goes."""

    class Disposition(models.TextChoices):
        KEPT = "kept", _("Kept by the unit for research use (留归单位统筹使用)")
        RETURNED = "returned", _("Returned to the bureau (收回)")

    project = models.OneToOneField(
        Project,
        on_delete=models.PROTECT,
        related_name="closing_balance",
        verbose_name=_("project"),
    )
    disbursed = models.DecimalField(_("disbursed"), **MONEY)
    spent = models.DecimalField(_("spending recorded"), **MONEY)
    eligible = models.DecimalField(_("spending within the budget"), **MONEY)
    amount = models.DecimalField(_("balance"), **MONEY)
    disposition = models.CharField(_("disposition"), max_length=20, choices=Disposition.choices)
    note = models.TextField(_("note"), blank=True)
    # True when nobody chose: the closing step recorded the 32号 default.
    by_default = models.BooleanField(_("recorded by default at closing"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    class Meta:
        verbose_name = _("closing balance")
        constraints = [
            models.CheckConstraint(
                condition=Q(disbursed__gte=0, spent__gte=0, eligible__gte=0, amount__gte=0),
                name="closing_balance_nonneg",
            ),
        ]


# --- the rule -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Basis:
    """What a recovery or a balance is computed from."""

    disbursed: Decimal
    spent: Decimal  # every entry in the project's ledger
    eligible: Decimal  # the part of it the budget covers


def spending_basis(project: Project) -> Basis:
    """Disbursed and spent. Spending counts for the project only up to each budget line as
    it stands (approved, plus adjustments): above a line it is the unit's own money, which
    32号 lets units advance but the grant does not repay."""
    by_category = dict(
        project.expenditures.values_list("category").annotate(total=Sum("amount")).order_by()
    )
    eligible = sum(
        (
            min(Decimal(by_category.get(line.category) or 0), line.current)
            for line in project.budget_lines.all()
        ),
        ZERO,
    )
    spent = sum((Decimal(v or 0) for v in by_category.values()), ZERO)
    return Basis(
        disbursed=project.disbursed_total.quantize(CENT),
        spent=spent.quantize(CENT),  # SQLite sums decimals without their scale
        eligible=eligible.quantize(CENT),
    )


def amount_to_recover(basis: Basis) -> Decimal:
    """The amount to recover (追回), following 国办发〔2021〕32号 practice.

    - Terminated project (终止): the disbursed funds not spent on the project, that is
      disbursed − spending within the budget; never below zero.
    - Failed acceptance (验收不通过): the same. The unspent balance goes back by the
      channel it came (结余资金按原渠道收回); only a project that passes acceptance keeps
      its balance.
    - A closing balance staff decided to return (收回): the balance, computed the same way.

    Spending above a budget line does not count (see `spending_basis`), nor does the unit
    get back what it spent beyond the disbursed amount. Staff may adjust the result with a
    written reason, e.g. when an audit finds money spent against the rules.
    """
    return max(ZERO, basis.disbursed - basis.eligible)


# --- assessing, adjusting, refunding ------------------------------------------------------


def _is_staff(user) -> bool:
    return user is not None and has_role(user, Role.STAFF)


def _check_amount(amount: Decimal, label: str) -> Decimal:
    """The amount rules of funding.amounts (every path, not only forms), and not negative."""
    amount = check_amount(amount, label)
    if amount < 0:
        raise ValidationError(
            _gettext("%(label)s: an amount in yuan, not negative, with at most two decimals.")
            % {"label": label}
        )
    return amount


def assess_recovery(project: Project, reason: str, by) -> Recovery:
    """The lifecycle assesses what `project` owes back; the caller holds the project lock
    (terminate, a failed acceptance, or a closing balance returned to the bureau)."""
    if Recovery.objects.filter(project=project).exists():
        raise ValidationError(_gettext("A recovery has already been assessed for this project."))
    basis = spending_basis(project)
    computed = amount_to_recover(basis)
    recovery = Recovery.objects.create(
        project=project,
        reason=Recovery.Reason(reason),
        disbursed=basis.disbursed,
        spent=basis.spent,
        eligible=basis.eligible,
        computed=computed,
        amount=computed,
        assessed_by=by,
    )
    record(
        EventKind.RECOVERY_ASSESSED,
        project,
        actor=by,
        after={"amount": str(computed)},
        data={
            "cause": recovery.reason,
            "amount": str(computed),
            "disbursed": str(basis.disbursed),
            "spent": str(basis.spent),
            "eligible": str(basis.eligible),
        },
    )
    return recovery


def _locked_recovery(recovery_id: int) -> Recovery:
    return Recovery.objects.select_for_update().select_related("project").get(pk=recovery_id)


@transaction.atomic
def adjust_recovery(recovery_id: int, by, amount: Decimal, reason: str) -> Recovery:
    """Staff set the amount to recover, with a reason; never below what has come back
    already, nor above what was disbursed."""
    if not _is_staff(by):
        raise PermissionDenied(_gettext("Only bureau staff adjust an amount to recover."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_gettext("Give a reason for the adjustment."))
    check_text(reason, label=_gettext("Reason"))
    amount = _check_amount(amount, _gettext("Amount to recover"))
    recovery = _locked_recovery(recovery_id)
    if amount > recovery.disbursed:
        raise ValidationError(
            _gettext("At most the %(d)s yuan disbursed can be recovered.")
            % {"d": recovery.disbursed}
        )
    if amount < recovery.refunded:
        raise ValidationError(
            _gettext("%(r)s yuan have been refunded already; the amount cannot be less.")
            % {"r": recovery.refunded}
        )
    if amount == recovery.amount:
        raise ValidationError(
            _gettext("The amount to recover is %(a)s yuan already.") % {"a": recovery.amount}
        )
    before = recovery.amount
    recovery.amount, recovery.adjustment_reason = amount, reason
    recovery.save(update_fields=["amount", "adjustment_reason"])
    record(
        EventKind.RECOVERY_ASSESSED,
        recovery.project,
        actor=by,
        before={"amount": str(before)},
        after={"amount": str(amount)},
        data={"adjusted": True, "reason": reason, "amount": str(amount)},
    )
    return recovery


@transaction.atomic
def record_refund(
    recovery_id: int, by, amount: Decimal, paid_on: datetime.date, reference: str
) -> Refund:
    """Staff record money the unit paid back. The recovery row is locked, so two refunds
    recorded at once never add up to more than is outstanding."""
    if not _is_staff(by):
        raise PermissionDenied(_gettext("Only bureau staff record refunds."))
    amount = _check_amount(amount, _gettext("Refund"))
    if amount <= 0:
        raise ValidationError(_gettext("A refund must be above zero."))
    if not isinstance(paid_on, datetime.date):
        raise ValidationError(_gettext("Enter the date the refund was paid."))
    if paid_on > timezone.localdate():
        raise ValidationError(_gettext("A refund cannot be dated in the future."))
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError(_gettext("Enter the payment reference (the bank's voucher number)."))
    check_text(
        reference, label=_gettext("Payment reference"), max_length=REFERENCE_MAX, multiline=False
    )
    recovery = _locked_recovery(recovery_id)
    if amount > recovery.outstanding:
        if recovery.outstanding <= 0:
            raise ValidationError(_gettext("Nothing is outstanding on this recovery."))
        raise ValidationError(
            _gettext("Only %(o)s yuan is outstanding; a refund of %(a)s yuan is too much.")
            % {"o": recovery.outstanding, "a": amount}
        )
    refund = Refund.objects.create(
        recovery=recovery, amount=amount, paid_on=paid_on, reference=reference, recorded_by=by
    )
    before = recovery.refunded
    recovery.refunded = before + amount
    recovery.save(update_fields=["refunded"])
    record(
        EventKind.REFUND_RECORDED,
        recovery.project,
        actor=by,
        before={"refunded": str(before)},
        after={"refunded": str(recovery.refunded)},
        data={
            "amount": str(amount),
            "paid_on": paid_on.isoformat(),
            "reference": reference,
            "outstanding": str(recovery.outstanding),
        },
    )
    return refund


# --- what is owed -------------------------------------------------------------------------


def outstanding_recoveries() -> models.QuerySet[Recovery]:
    return (
        Recovery.objects.filter(refunded__lt=F("amount"))
        .select_related("project", "project__applicant_org", "project__pi")
        .order_by("assessed_at", "pk")
    )


def outstanding_summary() -> dict:
    """For the overview: how many recoveries are outstanding, how much, and which."""
    rows = list(outstanding_recoveries())
    total = sum((r.outstanding for r in rows), ZERO)
    return {"count": len(rows), "total": total.quantize(CENT), "rows": rows}


def check_no_outstanding_recovery(project: Project) -> None:
    """Refuse an application while its PI (the person: any of their accounts, by ID number)
    or its organisation still owes a recovery on another project."""
    pi = project.pi
    by_pi = Q(project__pi_id=pi.pk)
    if pi.id_number:
        by_pi |= Q(project__pi__id_number=pi.id_number)
    owed = (
        outstanding_recoveries()
        .filter(by_pi | Q(project__applicant_org_id=project.applicant_org_id))
        .exclude(project=project)
        .first()
    )
    if owed is None:
        return
    if owed.project.applicant_org_id == project.applicant_org_id:
        who = str(project.applicant_org)
    else:
        who = str(pi)
    raise ValidationError(
        _gettext(
            "%(who)s still owes %(amount)s yuan recovered from the project “%(project)s”. "
            "A new application can be submitted once it has been refunded."
        )
        % {"who": who, "amount": owed.outstanding, "project": owed.project.title}
    )


# --- the closing balance ------------------------------------------------------------------


@transaction.atomic
def record_balance_disposition(
    project_id: int, by, disposition: str, note: str = ""
) -> ClosingBalance:
    """Staff decide, before closing, where an accepted project's balance goes."""
    if not _is_staff(by):
        raise PermissionDenied(_gettext("Only bureau staff record the closing balance."))
    if disposition not in ClosingBalance.Disposition.values:
        raise ValidationError(_gettext("Choose where the balance goes."))
    note = (note or "").strip()
    check_text(note, label=_gettext("Note"))
    project = Project.objects.select_for_update().get(pk=project_id)
    if project.status != ProjectStatus.ACCEPTED:
        raise ValidationError(
            _gettext(
                "The balance is recorded once the project has passed acceptance, until it closes."
            )
        )
    if disposition == ClosingBalance.Disposition.RETURNED and not note:
        raise ValidationError(_gettext("Say why the balance is returned to the bureau."))
    return _write_balance(project, by, disposition, note, by_default=False)


def close_balance(project: Project, by) -> ClosingBalance:
    """At closure (the lifecycle holds the project lock): the balance as it stands, with the
    disposition staff recorded, or by default the 32号 rule for an accepted project: kept
    by the unit for research use. A balance returned to the bureau is then owed back."""
    chosen = ClosingBalance.objects.filter(project=project).first()
    if chosen is None:
        balance = _write_balance(project, by, ClosingBalance.Disposition.KEPT, "", by_default=True)
    else:
        balance = _write_balance(project, by, chosen.disposition, chosen.note, by_default=False)
    if balance.disposition == ClosingBalance.Disposition.RETURNED and balance.amount > 0:
        assess_recovery(project, Recovery.Reason.BALANCE, by)
    return balance


def _write_balance(
    project: Project, by, disposition: str, note: str, *, by_default: bool
) -> ClosingBalance:
    basis = spending_basis(project)
    amount = amount_to_recover(basis)
    balance = ClosingBalance.objects.filter(project=project).first()
    before = (
        {"disposition": balance.disposition, "amount": str(balance.amount)} if balance else None
    )
    if balance is None:
        balance = ClosingBalance(project=project)
    balance.disbursed, balance.spent, balance.eligible = (
        basis.disbursed,
        basis.spent,
        basis.eligible,
    )
    balance.amount, balance.disposition, balance.note = amount, disposition, note
    balance.by_default, balance.recorded_by = by_default, by
    balance.save()
    record(
        EventKind.BALANCE_RECORDED,
        project,
        actor=by,
        before=before,
        after={"disposition": disposition, "amount": str(amount)},
        data={
            "amount": str(amount),
            "disposition": disposition,
            "by_default": by_default,
            "disbursed": str(basis.disbursed),
            "eligible": str(basis.eligible),
            **({"reason": note} if note else {}),
        },
    )
    return balance
