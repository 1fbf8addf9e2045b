from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Gate(models.TextChoices):
    """The gates of DESIGN §3 where the veto is checked; a sanction lists those it bars."""

    APPLY = "apply", _("Applying for or taking part in a project")
    REVIEW = "review", _("Serving as an expert reviewer")
    APPROVAL = "approval", _("Project approval")
    CONTRACT = "contract", _("Task contract")
    DISBURSEMENT = "disbursement", _("Disbursement of funds")
    AUDIT = "audit", _("Third-party audit appointment")
    CERTIFICATE = "certificate", _("Acceptance certificate")


class SubjectKind(models.TextChoices):
    PERSON = "person", _("Person (ID number)")
    ORGANISATION = "organisation", _("Organisation (credit code)")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor (情节较轻)")
    SERIOUS = "serious", _("Serious (较重)")
    SEVERE = "severe", _("Severe (严重)")
    EXTREME = "extreme", _("Especially severe (特别严重)")


class Sanction(models.Model):
    class Status(models.TextChoices):
        EFFECTIVE = "effective", _("Effective")
        REVOKED = "revoked", _("Revoked")
        REPAIRED = "repaired", _("Credit repaired")

    subject_kind = models.CharField(_("subject kind"), max_length=20, choices=SubjectKind.choices)
    subject_id = models.CharField(_("ID number or credit code"), max_length=18, db_index=True)
    subject_name = models.CharField(_("subject name"), max_length=200)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    gates = models.JSONField(_("barred actions"), default=list)
    decision_no = models.CharField(_("decision number"), max_length=100)
    reason = models.TextField(_("reason"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True, help_text=_("empty: permanent"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.EFFECTIVE
    )
    # An appeal does not lift the veto (DESIGN §4); it is only noted.
    under_appeal = models.BooleanField(_("under appeal"), default=False)
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


class VetoOverride(models.Model):
    """Letting one action through despite the veto: two people and a written reason (DESIGN §4)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second approval")
        APPROVED = "approved", _("Approved, not yet used")
        USED = "used", _("Used")

    gate = models.CharField(_("gate"), max_length=20, choices=Gate.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
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
    passed = models.BooleanField(_("passed"))
    # Set when a refused check was let through by a two-person override.
    override = models.ForeignKey(
        "VetoOverride", null=True, blank=True, on_delete=models.PROTECT, related_name="checks"
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("veto check")
        verbose_name_plural = _("veto checks")
        indexes = [models.Index(fields=["object_type", "object_id"])]


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
    REPORTED = "reported", _("Reported")
    REFUSED = "refused", _("Not accepted")
    INVESTIGATING = "investigating", _("Under investigation")
    CLEARED = "cleared", _("No misconduct found")
    DECIDED = "decided", _("Decided")
    UNDER_REVIEW = "under_review", _("Under review on appeal")
    UPHELD = "upheld", _("Upheld on review")
    REVOKED = "revoked", _("Revoked on review")


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
    misconduct = models.CharField(
        _("kind of misconduct"), max_length=30, choices=MisconductType.choices
    )
    allegation = models.TextField(_("allegation"))
    evidence = models.TextField(_("evidence"), blank=True)
    notes = models.TextField(_("investigation record"), blank=True)
    sanction = models.OneToOneField(
        Sanction, null=True, blank=True, on_delete=models.PROTECT, related_name="case"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("misconduct case")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.respondent_name} · {self.get_misconduct_display()}"
