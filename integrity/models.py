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


class VetoCheck(models.Model):
    """What was checked, against which records, the verdict, by whom, when (DESIGN §4)."""

    gate = models.CharField(_("gate"), max_length=20, choices=Gate.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
    subjects = models.JSONField(_("subjects checked"), default=list)
    consulted = models.JSONField(_("records consulted"), default=list)
    blocking = models.JSONField(_("blocking records"), default=list)
    passed = models.BooleanField(_("passed"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("veto check")
        verbose_name_plural = _("veto checks")
        indexes = [models.Index(fields=["object_type", "object_id"])]
