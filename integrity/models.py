from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Gate(models.TextChoices):
    """The gates of DESIGN §3 where the veto is checked; a sanction lists those it bars."""

    APPLY = "apply", _("Applying for or taking part in a project")
    # Every expert act: scoring, sitting on an acceptance panel, inspecting.
    REVIEW = "review", _("Serving as an expert (review, acceptance panel, inspection)")
    APPROVAL = "approval", _("Project approval")
    CONTRACT = "contract", _("Task contract")
    DISBURSEMENT = "disbursement", _("Disbursement of funds")
    AUDIT = "audit", _("Third-party audit (appointment and opinion)")
    CERTIFICATE = "certificate", _("Acceptance certificate")


class SubjectKind(models.TextChoices):
    PERSON = "person", _("Person (ID number)")
    ORGANISATION = "organisation", _("Organisation (credit code)")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor (情节较轻)")
    SERIOUS = "serious", _("Serious (较重)")
    SEVERE = "severe", _("Severe (严重)")
    EXTREME = "extreme", _("Especially severe (特别严重)")


class Measure(models.TextChoices):
    """处理措施 (2022 rules, art. 26 ff.); the first three are the minor ones (情节较轻)."""

    TALK = "talk", _("Admonishing talk (诫勉谈话)")
    CRITICISM = "criticism", _("Circulated criticism (通报批评)")
    SUSPEND_RECTIFY = (
        "suspend_rectify",
        _("Projects suspended for rectification (暂停项目限期整改)"),
    )
    TERMINATE = "terminate", _("Projects terminated, funds recovered (终止项目并追回经费)")
    BAN = "ban", _("Barred from publicly funded S&T activities for a period (禁止承担或参与)")
    DISQUALIFY_EXPERT = "disqualify_expert", _("Expert qualification withdrawn (取消评审专家资格)")
    SERIOUS_LIST = (
        "serious_list",
        _("Entered in the serious dishonesty database (记入严重失信行为数据库)"),
    )


MINOR_MEASURES = frozenset({Measure.TALK, Measure.CRITICISM, Measure.SUSPEND_RECTIFY})


class Sanction(models.Model):
    """One entry of the register: a decision's measures against one subject.

    Never deleted: a sanction is revoked with a reason (DESIGN §4). Written only by
    integrity.services, which journals every change with its before and after.
    """

    class Status(models.TextChoices):
        EFFECTIVE = "effective", _("Effective")
        REVOKED = "revoked", _("Revoked")
        REPAIRED = "repaired", _("Credit repaired")

    subject_kind = models.CharField(_("subject kind"), max_length=20, choices=SubjectKind.choices)
    subject_id = models.CharField(_("ID number or credit code"), max_length=18, db_index=True)
    subject_name = models.CharField(_("subject name"), max_length=200)
    # The person's unit, as published (never their ID number).
    subject_unit = models.CharField(_("unit"), max_length=200, blank=True)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    gates = models.JSONField(_("barred actions"), default=list, blank=True)
    measures = models.JSONField(_("measures"), default=list)
    decision_no = models.CharField(_("decision number"), max_length=100)
    reason = models.TextField(_("reason"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True, help_text=_("empty: permanent"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.EFFECTIVE
    )
    # An appeal does not lift the veto (DESIGN §4); it is only noted.
    under_appeal = models.BooleanField(_("under appeal"), default=False)
    # 暂停项目限期整改: the deadline to rectify, and when it was done.
    rectify_by = models.DateField(_("rectify by"), null=True, blank=True)
    rectified_on = models.DateField(_("rectified on"), null=True, blank=True)
    # The day its taking effect suspended the subject's projects (once: staff decide after).
    enforced_on = models.DateField(_("took effect on"), null=True, blank=True, editable=False)
    revoked_reason = models.TextField(_("reason for revocation"), blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sanction")
        verbose_name_plural = _("sanctions")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="sanction_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject_name} {self.decision_no}"

    def clean(self) -> None:
        from .services import normalise_subject

        super().clean()
        if self.subject_id:
            self.subject_id = normalise_subject(self.subject_kind, self.subject_id)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Sanctions are never deleted: revoke them with a reason.")

    def measure_labels(self) -> list[str]:
        labels = dict(Measure.choices)
        return [str(labels.get(m, m)) for m in self.measures or []]

    def gate_labels(self) -> list[str]:
        labels = dict(Gate.choices)
        return [str(labels.get(g, g)) for g in self.gates or []]


class VetoOverride(models.Model):
    """Letting one action through despite the veto: two people and a written reason (DESIGN §4)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second approval")
        APPROVED = "approved", _("Approved, not yet used")
        USED = "used", _("Used")

    gate = models.CharField(_("gate"), max_length=20, choices=Gate.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
    # Bound to the one sanction it was asked for: it never lets another refusal through.
    sanction = models.ForeignKey(
        Sanction,
        verbose_name=_("sanction"),
        null=True,
        on_delete=models.PROTECT,
        related_name="overrides",
    )
    reason = models.TextField(_("written reason"))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("veto override")
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("requested_by")),
                name="override_needs_two_people",
            )
        ]


class VetoCheck(models.Model):
    """What was checked, against which records, the verdict, by whom, when (DESIGN §4)."""

    gate = models.CharField(_("gate"), max_length=20, choices=Gate.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
    subjects = models.JSONField(_("subjects checked"), default=list)
    consulted = models.JSONField(_("records consulted"), default=list)
    blocking = models.JSONField(_("blocking records"), default=list)
    # Subjects without an ID number or credit code: the check can never pass for them.
    unidentified = models.JSONField(_("subjects without identity"), default=list)
    passed = models.BooleanField(_("passed"))
    # Set when a refused check was let through by two-person overrides (one per sanction).
    overrides = models.ManyToManyField("VetoOverride", blank=True, related_name="checks")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("veto check")
        verbose_name_plural = _("veto checks")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    # A record of what was decided: written once, never changed or removed.
    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Veto checks are read-only once recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Veto checks are read-only once recorded.")


class MisconductType(models.TextChoices):
    """科研失信行为 (2022 rules, art. 2) and funding violations (2026 rules)."""

    PLAGIARISM = "plagiarism", _("Plagiarism or taking others' results")
    FABRICATION = "fabrication", _("Fabricating or falsifying data, charts or conclusions")
    GHOSTWRITING = "ghostwriting", _("Buying, selling or ghost-writing papers or material")
    FRAUD = "fraud", _("Obtaining projects, funds or awards by fraud or favours")
    ETHICS = "ethics", _("Faked ethics approval")
    AUTHORSHIP = "authorship", _("Improper authorship")
    DUPLICATION = "duplication", _("Duplicate publication or coerced citation")
    FALSE_APPLICATION = "false_application", _("False application material")
    LOBBYING = "lobbying", _("Lobbying reviewers")
    MISUSE = "misuse", _("Misusing or diverting funds")
    CONTRACT = "contract", _("Breaching the task contract")
    FALSE_RECTIFICATION = "false_rectification", _("False rectification")
    OTHER = "other", _("Other")


class CaseStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed by the system")
    REPORTED = "reported", _("Reported")
    REFUSED = "refused", _("Not accepted")
    DISMISSED = "dismissed", _("Proposal dismissed")
    INVESTIGATING = "investigating", _("Under investigation")
    CLEARED = "cleared", _("No misconduct found")
    DECIDED = "decided", _("Decided")
    APPEALED = "appealed", _("Appeal pending (申诉中)")
    APPEAL_ANSWERED = "appeal_answered", _("Upheld on appeal")
    UNDER_REVIEW = "under_review", _("Review pending (复查中)")
    UPHELD = "upheld", _("Upheld on review")
    REVOKED = "revoked", _("Revoked")


# An appeal or a review is waiting for its answer: the decision is not final.
CASE_PENDING_CHALLENGE = (CaseStatus.APPEALED, CaseStatus.UNDER_REVIEW)
# A decision stands in these states (final once any deadline to challenge it has passed).
CASE_DECISION_STANDS = (CaseStatus.DECIDED, CaseStatus.APPEAL_ANSWERED, CaseStatus.UPHELD)


class CaseQuerySet(models.QuerySet):
    def final(self, on_date: datetime.date | None = None) -> CaseQuerySet:
        """Decisions in force for good (DESIGN §4): nothing pending, nothing left to file.

        Final when no appeal or review is pending and the last period to challenge has
        run out: the appeal period with no appeal, the review period after an appeal was
        answered (upheld) with no review, or a review that upheld it.
        """
        on_date = on_date or timezone.localdate()
        appeal_closed = on_date - datetime.timedelta(days=settings.APPEAL_DAYS)
        review_closed = on_date - datetime.timedelta(days=settings.REVIEW_DAYS)
        answered_before_review_closed = Exists(
            Appeal.objects.filter(
                case=OuterRef("pk"), kind=Appeal.Kind.APPEAL, answered_on__lt=review_closed
            )
        )
        return self.filter(
            Q(status=CaseStatus.DECIDED, served_on__lt=appeal_closed)
            | (Q(status=CaseStatus.APPEAL_ANSWERED) & Q(answered_before_review_closed))
            | Q(status=CaseStatus.UPHELD)
        )


class MisconductCase(models.Model):
    """A report of misconduct and what became of it (DESIGN §4: report → decision → review)."""

    # Written only by integrity.cases (the case lifecycle).
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.REPORTED
    )
    reporter = models.CharField(_("reported by"), max_length=100, blank=True)  # blank: anonymous
    respondent_kind = models.CharField(
        _("respondent kind"), max_length=20, choices=SubjectKind.choices
    )
    respondent_id = models.CharField(_("respondent's ID number or credit code"), max_length=18)
    respondent_name = models.CharField(_("respondent"), max_length=200)
    # The unit as printed on the letter and published; the sanction's subject_unit.
    respondent_unit = models.CharField(
        _("respondent's unit"),
        max_length=200,
        blank=True,
        help_text=_("The organisation the respondent works for (for an organisation: itself)."),
    )
    misconduct = models.CharField(
        _("kind of misconduct"), max_length=30, choices=MisconductType.choices
    )
    allegation = models.TextField(_("allegation"))
    evidence = models.TextField(_("evidence"), blank=True)
    notes = models.TextField(_("investigation record"), blank=True)
    sanction = models.OneToOneField(
        Sanction, null=True, blank=True, on_delete=models.PROTECT, related_name="case"
    )
    # The decision (处理决定书): its number is unique among cases and the register.
    decision_no = models.CharField(_("decision number"), max_length=100, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    # The appeal period runs from the day the letter is served on the respondent.
    served_on = models.DateField(_("letter served on"), null=True, blank=True)
    # What raised the case when the system proposed it (e.g. "funding.project", "42"):
    # a plain pair, since integrity may not import the parts above it.
    source_type = models.CharField(max_length=50, blank=True, editable=False)
    source_id = models.CharField(max_length=64, blank=True, editable=False)
    # None: proposed by the system (an overdue acceptance).
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("misconduct case")
        ordering = ["-opened_at"]
        constraints = [
            # Also under concurrent decisions: the second one fails, nothing is stored.
            models.UniqueConstraint(
                fields=["decision_no"],
                condition=~Q(decision_no=""),
                name="case_decision_no_unique",
            ),
            # One proposed case per source (the overdue job may run twice at once).
            models.UniqueConstraint(
                fields=["source_type", "source_id"],
                condition=~Q(source_type=""),
                name="case_one_per_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.respondent_name} · {self.get_misconduct_display()}"

    @property
    def appeal_deadline(self) -> datetime.date | None:
        """The last day to file an appeal (申诉): APPEAL_DAYS after the letter is served."""
        if self.served_on is None:
            return None
        return self.served_on + datetime.timedelta(days=settings.APPEAL_DAYS)

    def appeal_of(self, kind: str) -> Appeal | None:
        return next((a for a in self.appeals.all() if a.kind == kind), None)

    @property
    def review_deadline(self) -> datetime.date | None:
        """The last day to ask for a review (复查): REVIEW_DAYS after the appeal's answer."""
        appeal = self.appeal_of(Appeal.Kind.APPEAL)
        if appeal is None or appeal.answered_on is None:
            return None
        return appeal.answered_on + datetime.timedelta(days=settings.REVIEW_DAYS)

    def is_final(self, on_date: datetime.date | None = None) -> bool:
        """See CaseQuerySet.final: the same rule for one case."""
        on_date = on_date or timezone.localdate()
        if self.status == CaseStatus.DECIDED:
            deadline = self.appeal_deadline
        elif self.status == CaseStatus.APPEAL_ANSWERED:
            deadline = self.review_deadline
        else:
            return self.status == CaseStatus.UPHELD
        return deadline is not None and on_date > deadline


class RespondentHearing(models.Model):
    """Hearing the respondent (听取陈述申辩): a record of its own before any decision.

    The notice with a deadline to reply, then either the statement or the record that
    the deadline passed without one (DESIGN §4). Written only by integrity.cases.
    """

    case = models.OneToOneField(
        MisconductCase, on_delete=models.PROTECT, related_name="hearing", editable=False
    )
    notified_on = models.DateField(_("notified on"))
    reply_by = models.DateField(_("reply by"))
    statement = models.TextField(_("the respondent's statement"), blank=True)
    received_on = models.DateField(_("statement received on"), null=True, blank=True)
    lapsed_on = models.DateField(_("deadline passed, recorded on"), null=True, blank=True)
    notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("hearing of the respondent")
        constraints = [
            models.CheckConstraint(
                condition=Q(reply_by__gte=models.F("notified_on")),
                name="hearing_deadline_after_notice",
            ),
            # Heard one way or the other, never both.
            models.CheckConstraint(
                condition=Q(received_on__isnull=True) | Q(lapsed_on__isnull=True),
                name="hearing_statement_or_lapse",
            ),
        ]

    @property
    def heard(self) -> bool:
        return self.received_on is not None or self.lapsed_on is not None


class Appeal(models.Model):
    """申诉 (to the deciding body) or 复查 (to the higher authority), and its answer."""

    class Kind(models.TextChoices):
        APPEAL = "appeal", _("Appeal (申诉)")
        REVIEW = "review", _("Review (复查)")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Upheld (维持)")
        REVOKED = "revoked", _("Revoked (撤销)")

    case = models.ForeignKey(
        MisconductCase, on_delete=models.PROTECT, related_name="appeals", editable=False
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    filed_on = models.DateField(_("filed on"))
    grounds = models.TextField(_("grounds"))
    # To whom: the deciding body for an appeal, the higher authority for a review.
    authority = models.CharField(_("decided by"), max_length=200)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    answer = models.TextField(_("reasons of the answer"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("appeal or review")
        ordering = ["filed_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="one_appeal_and_review_per_case")
        ]


class DecisionLetter(models.Model):
    """The decision letter (处理决定书): a generated PDF with a unique number.

    The row is made with the decision; the PDF is printed after commit (or on the first
    download, should that have failed) and never changes once stored.
    """

    case = models.OneToOneField(
        MisconductCase, on_delete=models.PROTECT, related_name="letter", editable=False
    )
    number = models.CharField(_("decision number"), max_length=100, unique=True)
    pdf = models.BinaryField(blank=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    generated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("decision letter")

    def __str__(self) -> str:
        return self.number


class EvidenceDisclosure(models.Model):
    """A piece of case evidence the officer disclosed to the parties (告知当事人).

    The respondent sees a disclosed file from the notice on (the hearing), never one
    left undisclosed (a whistle-blower's identity, say). A row exists while the file is
    disclosed; withholding it again deletes the row. Written only by integrity.evidence,
    which journals each change on the case.
    """

    case = models.ForeignKey(
        MisconductCase, on_delete=models.PROTECT, related_name="disclosures", editable=False
    )
    attachment = models.OneToOneField(
        "documents.Attachment",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    disclosed_at = models.DateTimeField(_("disclosed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence disclosed to the parties")
        verbose_name_plural = _("evidence disclosed to the parties")
