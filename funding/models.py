from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

from .states import RUNNING_STATES, BudgetCategory, ProjectStatus

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


def default_indirect_tiers() -> list[list]:
    # [upper bound of direct cost in yuan (None: no bound), percent]; 国办发〔2021〕32号.
    return [[5_000_000, 30], [10_000_000, 25], [None, 20]]


class Call(models.Model):
    title = models.CharField(_("title"), max_length=200)
    program = models.CharField(_("program"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    funding_cap = models.DecimalField(_("funding cap per project"), **MONEY)
    indirect_tiers = models.JSONField(_("indirect cost tiers"), default=default_indirect_tiers)
    # Scoring criteria of the call's reviews: [{"name", "weight", "guidance"}] (issue 7).
    criteria = models.JSONField(_("scoring criteria"), default=list, blank=True)
    # Document kinds (documents.kinds) an application must carry before submission.
    required_documents = models.JSONField(_("required documents"), default=list, blank=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-opens_on"]
        constraints = [
            models.CheckConstraint(condition=Q(funding_cap__gt=0), name="call_cap_positive"),
            models.CheckConstraint(
                condition=Q(closes_on__gte=F("opens_on")), name="call_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Project(models.Model):
    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.PROTECT)
    applicant_org = models.ForeignKey(
        Organisation,
        verbose_name=_("applicant organisation"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    partner_orgs = models.ManyToManyField(
        Organisation, verbose_name=_("partner organisations"), blank=True, related_name="+"
    )
    pi = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("principal investigator"),
        on_delete=models.PROTECT,
        related_name="projects_led",
    )
    title = models.CharField(_("title"), max_length=200)
    field = models.CharField(_("field"), max_length=100)
    summary = models.TextField(_("summary"), blank=True)
    requested_amount = models.DecimalField(_("requested amount"), **MONEY)
    approved_amount = models.DecimalField(_("approved amount"), null=True, blank=True, **MONEY)
    disbursed_total = models.DecimalField(_("disbursed"), default=ZERO, **MONEY)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    # Written only by workflows.lifecycle.
    status = models.CharField(
        _("status"),
        max_length=30,
        choices=ProjectStatus.choices,
        default=ProjectStatus.DRAFT,
        db_index=True,
    )
    commitment_signed_at = models.DateTimeField(_("integrity commitment signed"), null=True)
    # Set when the public notice (公示) opens; it cannot close before (issue 7).
    notice_ends_on = models.DateField(_("public notice ends on"), null=True, blank=True)
    # The days the task contract was signed (funding.contracts.freeze_for_signing) and the
    # first tranche paid (funding.services.record_disbursement): whether the first tranche
    # came late is read from the project row alone, not from its contract and all its
    # tranches (the overview at 100,000 projects, issue 10).
    signed_on = models.DateField(_("contract signed on"), null=True, blank=True)
    first_disbursed_on = models.DateField(_("first disbursed on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at"]
        # The overview's lists at 100,000 projects (issue 10): the running projects with
        # their signing, first tranche and what the list shows of them, read from the
        # index alone (late first tranches, 3 MB at 25,000 running projects);
        # the contracted and in-progress projects by end date (acceptance overdue,
        # oversight.overdue).
        indexes = [
            models.Index(
                fields=["id"],
                include=["signed_on", "first_disbursed_on", "applicant_org", "title"],
                condition=Q(status__in=sorted(RUNNING_STATES)),
                name="project_running_signed_paid",
            ),
            models.Index(
                fields=["end_date", "id"],
                condition=Q(status__in=[ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS]),
                name="project_executing_by_end",
            ),
            # The project list of one state by amount (18,000 in progress: 28 → 1 ms).
            models.Index(fields=["status", "requested_amount"], name="project_state_by_amount"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_amount__gte=0), name="project_requested_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True) | Q(approved_amount__gte=0),
                name="project_approved_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(disbursed_total__gte=0), name="project_disbursed_nonneg"
            ),
            # Never disburse above the approved amount (DESIGN §5).
            models.CheckConstraint(
                condition=Q(disbursed_total=0)
                | Q(approved_amount__isnull=False, disbursed_total__lte=F("approved_amount")),
                name="project_no_over_disbursement",
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="project_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TeamMember(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="team")
    name = models.CharField(_("name"), max_length=50)
    id_number = models.CharField(_("ID number"), max_length=18)
    duty = models.CharField(_("duty in the project"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("team member")
        constraints = [
            models.UniqueConstraint(fields=["project", "id_number"], name="team_member_once")
        ]


class BudgetLine(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budget_lines")
    category = models.CharField(_("category"), max_length=20, choices=BudgetCategory.choices)
    amount = models.DecimalField(_("requested"), **MONEY)
    approved = models.DecimalField(_("approved"), null=True, blank=True, **MONEY)
    cut_reason = models.CharField(_("reason for the cut"), max_length=300, blank=True)
    # Net of the budget adjustments (预算调剂) made after the contract.
    adjusted = models.DecimalField(_("adjusted by"), default=ZERO, **MONEY)

    class Meta:
        verbose_name = _("budget line")
        constraints = [
            models.UniqueConstraint(fields=["project", "category"], name="budget_line_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_nonneg"),
            models.CheckConstraint(
                condition=Q(approved__isnull=True) | Q(approved__gte=0, approved__lte=F("amount")),
                name="budget_approved_within_request",
            ),
            models.CheckConstraint(
                condition=Q(approved__isnull=True) | Q(adjusted__gte=-F("approved")),
                name="budget_adjusted_nonneg",
            ),
        ]

    @property
    def current(self) -> Decimal:
        """The line as it stands: approved (or requested, before review) plus adjustments."""
        base = self.approved if self.approved is not None else self.amount
        return base + self.adjusted


class BudgetAdjustment(models.Model):
    """预算调剂: money moved between budget lines after the contract (DESIGN §5)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the unit")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn by the PI")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="adjustments")
    from_category = models.CharField(_("from"), max_length=20, choices=BudgetCategory.choices)
    to_category = models.CharField(_("to"), max_length=20, choices=BudgetCategory.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("budget adjustment")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="adjustment_positive"),
            models.CheckConstraint(
                condition=~Q(from_category=F("to_category")), name="adjustment_between_lines"
            ),
        ]


class ExpertAssignment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    no_conflict_declared = models.BooleanField(_("declared no conflict of interest"), default=False)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    opinion = models.TextField(_("opinion"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # Per criterion of the call: {criterion name: score}; `score` is their weighted total.
    scores = models.JSONField(_("scores per criterion"), default=dict, blank=True)
    # What staff release to the applicant, anonymised (no name, no score).
    released_opinion = models.TextField(_("released opinion"), blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    # The expert pool (issue 7): the deadline, how the expert came (drawn, or picked by
    # hand with a reason), the no-conflict declaration, a decline and its replacement.
    due_on = models.DateField(_("due on"), null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)  # the last reminder, once a day
    drawn = models.ForeignKey(
        "funding.ReviewDraw",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name=_("draw"),
    )
    picked_reason = models.TextField(_("reason for picking by hand"), blank=True)
    declared_at = models.DateTimeField(_("no conflict declared at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    conflict = models.BooleanField(_("declared a conflict of interest"), default=False)
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replaced by"),
    )

    class Meta:
        verbose_name = _("expert assignment")
        # The inbox's late reviews, oldest due first: only the reviews still owed.
        indexes = [
            models.Index(
                fields=["due_on", "id"],
                name="review_owed_by_due",
                condition=Q(
                    submitted_at__isnull=True, declined_at__isnull=True, due_on__isnull=False
                ),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["project", "expert"], name="expert_assigned_once"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=100), name="score_at_most_100"
            ),
        ]


class Disbursement(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="disbursements")
    tranche = models.CharField(_("tranche"), max_length=100)
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_on = models.DateField(_("paid on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("disbursement")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_positive")
        ]


class Expenditure(models.Model):
    class Method(models.TextChoices):
        TRANSFER = "transfer", _("Bank transfer")
        CARD = "card", _("Official card")
        CASH = "cash", _("Cash")

    # No index of its own: the three below begin with the project (an import of 100,000
    # rows wrote a fourth index for nothing, issue 10).
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="expenditures", db_index=False
    )
    voucher_no = models.CharField(_("voucher number"), max_length=50)
    spent_on = models.DateField(_("date"))
    category = models.CharField(_("category"), max_length=20, choices=BudgetCategory.choices)
    payee = models.CharField(_("payee"), max_length=200)
    method = models.CharField(_("payment method"), max_length=20, choices=Method.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    # Set for imported rows: re-importing the same export adds nothing.
    import_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("expenditure")
        ordering = ["spent_on", "voucher_no"]
        # The fund trail pages a project's vouchers by date and groups them by number
        # (issue 10: 300 -> 170-190 ms at 100,000 entries; an import pays ~0.9 s more).
        indexes = [
            models.Index(fields=["project", "spent_on", "voucher_no"], name="expenditure_by_day"),
            models.Index(fields=["project", "voucher_no"], name="expenditure_by_voucher"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expenditure_positive"),
            models.UniqueConstraint(
                fields=["project", "import_key"],
                condition=~Q(import_key=""),
                name="expenditure_imported_once",
            ),
        ]


# Kept in a module of its own; imported here so Django loads it with the app's models.
from .contracts import ContractMilestone, ContractTarget, PaymentTranche, ProjectContract  # noqa: E402, F401
from .experts import ExpertProfile, ExpertRelation, ReviewDraw  # noqa: E402, F401
from .import_jobs import LedgerImportJob  # noqa: E402, F401
from .objections import Objection  # noqa: E402, F401
from .recovery import ClosingBalance, Recovery, Refund  # noqa: E402, F401
