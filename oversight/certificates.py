"""Acceptance certificates: issue, generate (idempotent), verify, revoke."""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

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

from .certificate_facts import acceptance_of, panel_names
from .models import Certificate
from .numbers import project_number

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


def chinese_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _certificate_data(certificate: Certificate):
    from .pdf import CertificateData

    project = certificate.project
    acceptance = acceptance_of(project)
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
        # Literal Chinese, like every label of the document; a filing never says 通过验收.
        conclusion="结题备案" if acceptance.by_filing else "通过验收",
        issued_on=chinese_date(issued),
        issuer=getattr(settings, "BUREAU_NAME", "县科学技术局"),
        verify_url=verify_url(certificate.serial),
        project_number=project_number(project),
        programme=project.call.program,
        accepted_on=chinese_date(acceptance.on) if acceptance.on else "",
        panel=() if acceptance.by_filing else tuple(panel_names(project)),
        signatory=settings.CERTIFICATE_SIGNATORY,
        by_filing=acceptance.by_filing,
    )


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate's PDF as it is issued: printed, then signed (documents.signing)."""
    from documents.signing import sign_pdf

    from .pdf import render_certificate_pdf

    data = _certificate_data(certificate)
    return sign_pdf(render_certificate_pdf(data), reason=f"{data.heading} {data.serial}")


def generate_pdf(certificate_id: int) -> Certificate:
    """Render, sign and store the PDF once; a retry or a duplicate call changes nothing.

    The signed bytes are what is stored and hashed: the SHA-256 on the verification page
    is that of the file the holder has."""
    certificate = Certificate.objects.select_related(
        "project__pi", "project__call", "project__applicant_org"
    ).get(pk=certificate_id)
    if certificate.pdf:
        return certificate
    pdf = certificate_pdf(certificate)  # slow: outside the lock
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


class FileVerdict(StrEnum):
    """What the verification page says of an uploaded file. Only GENUINE is green."""

    GENUINE = "genuine"  # exactly the file we issued, and the certificate stands
    REVOKED = "revoked"  # exactly the file we issued, but the certificate was revoked
    DIFFERENT = "different"  # not the file we issued
    PENDING = "pending"  # the certificate's file is still being generated


def judge_file(certificate: Certificate, content: bytes) -> FileVerdict:
    """Never GENUINE under a revoked certificate, whatever the bytes."""
    if not certificate.sha256:
        return FileVerdict.PENDING
    if not check_file(certificate, content):
        return FileVerdict.DIFFERENT
    if certificate.status == Certificate.Status.REVOKED:
        return FileVerdict.REVOKED
    return FileVerdict.GENUINE


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
