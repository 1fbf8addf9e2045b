"""Acceptance certificates: issue, generate (idempotent), verify, revoke."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from accounts.text import check_text
from funding.models import Project
from trail.kinds import EventKind
from trail.services import record

from .models import AcceptanceReview, Certificate

_SERIAL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_serial(project: Project) -> str:
    # Readable year and number, plus a random tail so serials cannot be guessed in order.
    tail = "".join(secrets.choice(_SERIAL_ALPHABET) for _ in range(4))
    return f"YS{timezone.localdate().year}-{project.pk:06d}-{tail}"


def create_certificate(project: Project, by) -> Certificate:
    """Reserve the certificate row; a Celery task makes the PDF after commit.

    The project's `issue_certificate` transition (which records the serial in the trail)
    runs once; the one-to-one row would refuse a second certificate anyway.
    """
    from .tasks import generate_certificate

    certificate = Certificate.objects.create(
        project=project, serial=new_serial(project), issued_by=by
    )
    transaction.on_commit(lambda: generate_certificate.delay(certificate.pk), robust=True)
    return certificate


def verify_url(serial: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("verify", args=[serial])


def _certificate_data(certificate: Certificate):
    from .pdf import CertificateData

    project = certificate.project
    review = project.acceptances.order_by("-recorded_at").first()
    conclusion = (
        review.get_conclusion_display() if review else AcceptanceReview.Conclusion.PASSED.label
    )
    issued = timezone.localtime(certificate.issued_at).date()
    return CertificateData(
        serial=certificate.serial,
        project_title=project.title,
        applicant_org=project.applicant_org.name,
        pi_name=str(project.pi),
        call_title=project.call.title,
        field=project.field,
        approved_amount=f"{project.approved_amount or 0:,.2f}",
        start_date=project.start_date.isoformat(),
        end_date=project.end_date.isoformat(),
        conclusion=str(conclusion).split(" (")[0].split("（")[0],
        issued_on=f"{issued.year}年{issued.month}月{issued.day}日",
        issuer=getattr(settings, "BUREAU_NAME", "县科学技术局"),
        verify_url=verify_url(certificate.serial),
    )


def generate_pdf(certificate_id: int) -> Certificate:
    """Render and store the PDF once; a retry or a duplicate call changes nothing."""
    from .pdf import render_certificate_pdf

    certificate = Certificate.objects.select_related("project__pi").get(pk=certificate_id)
    if certificate.pdf:
        return certificate
    pdf = render_certificate_pdf(_certificate_data(certificate))  # slow: outside the lock
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate_id)
        if locked.pdf:  # another worker finished first
            return locked
        locked.pdf, locked.sha256 = pdf, hashlib.sha256(pdf).hexdigest()
        locked.generated_at = timezone.now()
        if locked.status == Certificate.Status.PENDING:
            locked.status = Certificate.Status.ISSUED
        locked.save(update_fields=["pdf", "sha256", "generated_at", "status"])
        record(EventKind.CERTIFICATE_GENERATED, locked, data={"sha256": locked.sha256})
    return locked


def check_file(certificate: Certificate, content: bytes) -> bool:
    """True when the uploaded bytes are exactly the file we issued."""
    return bool(certificate.sha256) and hashlib.sha256(content).hexdigest() == certificate.sha256


@transaction.atomic
def revoke(certificate: Certificate, reason: str, by) -> Certificate:
    if not has_role(by, Role.STAFF):
        raise PermissionDenied(_("Only bureau staff revoke certificates."))
    check_text(reason, label=_("Reason"))
    if not reason.strip():
        raise ValidationError(_("A revocation needs a reason."))
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status == Certificate.Status.REVOKED:
        raise ValidationError(_("This certificate is already revoked."))
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_reason, certificate.revoked_at = reason.strip(), timezone.now()
    certificate.save(update_fields=["status", "revoked_reason", "revoked_at"])
    record(EventKind.CERTIFICATE_REVOKED, certificate, actor=by, data={"reason": reason})
    return certificate
