from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation
from funding.models import Project


class AuditEngagement(models.Model):
    """A third-party firm appointed to audit one project's funds (DESIGN §6)."""

    class Opinion(models.TextChoices):
        UNQUALIFIED = "unqualified", _("Unqualified (无保留意见)")
        QUALIFIED = "qualified", _("Qualified (保留意见)")
        ADVERSE = "adverse", _("Adverse (否定意见)")
        DISCLAIMER = "disclaimer", _("Disclaimer of opinion (无法表示意见)")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="audits")
    firm = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="engagements")
    lead_auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    appointed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    appointed_at = models.DateTimeField(auto_now_add=True)
    findings = models.TextField(_("findings"), blank=True)
    opinion = models.CharField(_("opinion"), max_length=20, choices=Opinion.choices, blank=True)
    opinion_at = models.DateTimeField(null=True, blank=True)
    # Supervision over the whole course (issue 9): appointed at contract, it checks the funds
    # periodically and records findings; the special audit at acceptance is its last step.
    whole_course = models.BooleanField(_("supervision over the whole course"), default=False)
    # The firm's auditors assigned (the lead among them): only they see the engagement.
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auditors assigned"),
        blank=True,
        related_name="audit_engagements",
    )
    # Running until ended: by the audit opinion, a replacement, or staff with a reason.
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit engagement")
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(ended_at__isnull=True),
                name="one_running_engagement_per_project",
            )
        ]

    def __str__(self) -> str:
        return f"{self.firm} · {self.project}"

    @property
    def running(self) -> bool:
        return self.ended_at is None


class FundCheck(models.Model):
    """A periodic check of the project's funds by the supervision firm (quarterly by default).

    Created when due by the daily job (`oversight.supervision_engagements.create_due_checks`);
    the firm records it with what it concluded from the month-by-month view."""

    engagement = models.ForeignKey(AuditEngagement, on_delete=models.PROTECT, related_name="checks")
    period_from = models.DateField(_("period from"))
    due_on = models.DateField(_("due on"))
    summary = models.TextField(_("conclusion of the check"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fund check")
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "due_on"], name="fund_check_once")
        ]


class SupervisionFinding(models.Model):
    """A finding of the supervision firm; with a deadline it is a rectification request
    (整改) to the unit, which answers with evidence; the firm closes or reopens it."""

    class Severity(models.TextChoices):
        MINOR = "minor", _("Minor (一般)")
        MAJOR = "major", _("Major (较重)")
        SERIOUS = "serious", _("Serious (严重)")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("finding", "Open")
        ANSWERED = "answered", _("Answered by the unit")
        CLOSED = "closed", pgettext_lazy("finding", "Closed")

    engagement = models.ForeignKey(
        AuditEngagement, on_delete=models.PROTECT, related_name="supervision_findings"
    )
    fund_check = models.ForeignKey(
        FundCheck,
        verbose_name=_("fund check"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
    )
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    text = models.TextField(_("finding"))
    # Set: a rectification request (整改) the unit answers by this date.
    rectify_by = models.DateField(_("rectify by"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision finding")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.get_severity_display()} · {self.text[:40]}"

    @property
    def is_rectification(self) -> bool:
        return self.rectify_by is not None


class RectificationAnswer(models.Model):
    """The unit's answer to a rectification request; its evidence files are attached to it."""

    finding = models.ForeignKey(
        SupervisionFinding, on_delete=models.PROTECT, related_name="answers"
    )
    text = models.TextField(_("what was rectified"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rectification answer")
        ordering = ["pk"]


class FlagNote(models.Model):
    """An auditor's annotation of one red flag on one voucher (funding.flags computes the
    flags; this keeps what the auditor made of them)."""

    class Verdict(models.TextChoices):
        EXPLAINED = "explained", _("Explained")
        FINDING_RAISED = "finding_raised", _("Finding raised")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="flag_notes")
    code = models.CharField(_("flag"), max_length=40)
    voucher_no = models.CharField(_("voucher number"), max_length=50)
    verdict = models.CharField(_("verdict"), max_length=20, choices=Verdict.choices)
    note = models.TextField(_("note"))
    finding = models.ForeignKey(
        SupervisionFinding, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    noted_at = models.DateTimeField(_("noted at"), auto_now=True)

    class Meta:
        verbose_name = _("flag annotation")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "code", "voucher_no"], name="one_note_per_flag_voucher"
            )
        ]


class AcceptanceReview(models.Model):
    class Conclusion(models.TextChoices):
        PASSED = "passed", _("Passed (通过验收)")
        RECONSIDER = "reconsider", _("Needs reconsideration (需要复议)")
        FAILED = "failed", _("Failed (不通过验收)")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="acceptances")
    panel = models.TextField(_("panel members"), help_text=_("one name per line"))
    # The experts who sat on the panel, each vetted by the veto when the verdict is recorded.
    panel_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("panel experts"), blank=True, related_name="+"
    )
    task_review_passed = models.BooleanField(_("task review passed"))
    financial_review_passed = models.BooleanField(_("financial review passed"))
    conclusion = models.CharField(_("conclusion"), max_length=20, choices=Conclusion.choices)
    remarks = models.TextField(_("remarks"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    # The drawn panel whose votes this conclusion follows, and which round it closes
    # (1, or 2 after the one reconsideration).
    drawn_panel = models.ForeignKey(
        "AcceptancePanel",
        verbose_name=_("drawn panel"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conclusions",
    )
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    rectify_by = models.DateField(_("rectify by"), null=True, blank=True)

    class Meta:
        verbose_name = _("acceptance review")


class TechReport(models.Model):
    """科技报告: the final report, kept and shared openly or after an embargo (DESIGN §6)."""

    class Access(models.TextChoices):
        OPEN = "open", _("Open (公开)")
        EMBARGOED = "embargoed", _("Embargoed until a date (延期公开)")

    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="report")
    title = models.CharField(_("report title"), max_length=200)
    abstract = models.TextField(_("abstract"))
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    access = models.CharField(_("access"), max_length=20, choices=Access.choices)
    embargo_until = models.DateField(_("embargoed until"), null=True, blank=True)
    filed_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("tech report")
        # The public library of tech reports lists the newest first (issue 10), or by
        # title when asked (issue 11): either way the first page is read from an index.
        indexes = [
            models.Index(fields=["-filed_at"], name="tech_report_newest_first"),
            models.Index(fields=["title"], name="tech_report_by_title"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(access="open", embargo_until__isnull=True)
                | models.Q(access="embargoed", embargo_until__isnull=False),
                name="report_embargo_has_a_date",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Certificate(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Being generated")
        ISSUED = "issued", _("Issued")
        REVOKED = "revoked", _("Revoked")

    # One per project: a retried or duplicated task can never make a second.
    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="certificate")
    serial = models.CharField(_("serial number"), max_length=40, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # Stored in the database so every web and worker machine sees the same file.
    pdf = models.BinaryField(null=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(auto_now_add=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("acceptance certificate")

    def __str__(self) -> str:
        return self.serial

    def save(self, *args, **kwargs):
        # Immutable once issued: only the status and the revocation may change later.
        fields = kwargs.get("update_fields")
        touches_file = fields is None or {"pdf", "sha256", "serial", "project"} & set(fields)
        if not self._state.adding and touches_file:
            if Certificate.objects.filter(pk=self.pk).exclude(sha256="").exists():
                raise RuntimeError("An issued certificate's file cannot be changed.")
        super().save(*args, **kwargs)


class InspectionDraw(models.Model):
    """双随机、一公开: random projects, random inspectors, results published (DESIGN §6).

    The population and the seed are kept, so anyone can redo the draw and get the same.
    """

    seed = models.CharField(_("seed"), max_length=64)
    population = models.JSONField(_("projects in the pool"), default=list)
    # Kept beside the pool so a list of draws never loads the pools (issue 10).
    pool_size = models.PositiveIntegerField(_("projects in the pool, how many"), default=0)
    inspector_pool = models.JSONField(_("inspectors in the pool"), default=list)
    projects = models.ManyToManyField(Project, verbose_name=_("projects drawn"), related_name="+")
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("inspectors drawn"), related_name="+"
    )
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("random inspection draw")
        ordering = ["-drawn_at"]


class InspectionResult(models.Model):
    class Conclusion(models.TextChoices):
        COMPLIANT = "compliant", _("Compliant")
        RECTIFY = "rectify", _("Rectification required")

    draw = models.ForeignKey(InspectionDraw, on_delete=models.PROTECT, related_name="results")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="inspections")
    conclusion = models.CharField(_("conclusion"), max_length=20, choices=Conclusion.choices)
    finding = models.TextField(_("finding"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("inspection result")
        constraints = [
            models.UniqueConstraint(fields=["draw", "project"], name="one_result_per_draw")
        ]


class ProgressReport(models.Model):
    """事中监管: the annual and mid-term reports a running project owes (DESIGN §6)."""

    class Kind(models.TextChoices):
        ANNUAL = "annual", _("Annual report")
        MIDTERM = "midterm", _("Mid-term report")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports_due")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    due_on = models.DateField(_("due on"))
    summary = models.TextField(_("progress summary"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("progress report")
        ordering = ["due_on"]
        # The reports still owed, by due date: the overview's and the inbox's (issue 10).
        indexes = [
            models.Index(
                fields=["due_on"],
                condition=models.Q(submitted_at__isnull=True),
                name="progress_report_owed_by_due",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind", "due_on"], name="report_once")
        ]


class AcceptancePanel(models.Model):
    """The experts drawn to judge a project's completion (DESIGN §6), never typed.

    Like the inspection draw, the pool and the seed are kept, so anyone can redo the draw
    and get the same members. The newest panel of a project is the one that votes.
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="acceptance_panels")
    seed = models.CharField(_("seed"), max_length=64)
    pool = models.JSONField(_("experts in the pool"), default=list)
    excluded = models.JSONField(_("experts left out, by reason"), default=dict)
    size = models.PositiveSmallIntegerField(_("panel size"))
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("panel members"), related_name="+"
    )
    reason = models.TextField(_("reason for drawing again"), blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("acceptance panel")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.project} · {self.seed}"


class PanelVerdict(models.Model):
    """One member's verdict in one round; a member may change it until the conclusion."""

    panel = models.ForeignKey(AcceptancePanel, on_delete=models.PROTECT, related_name="verdicts")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    round = models.PositiveSmallIntegerField(_("round"))
    task_passed = models.BooleanField(_("task verdict: pass"))
    finance_passed = models.BooleanField(_("finance verdict: pass"))
    opinion = models.TextField(_("opinion"))
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("panel verdict")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["panel", "member", "round"], name="one_verdict_per_member_round"
            )
        ]


class FindingsAnswer(models.Model):
    """The PI's answer to a qualified audit opinion's findings, needed for a financial pass."""

    engagement = models.OneToOneField(
        AuditEngagement, on_delete=models.PROTECT, related_name="answer"
    )
    text = models.TextField(_("answer to the findings"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("answer to audit findings")
