"""Case evidence (证据材料) and what of it is disclosed to the parties.

The officer attaches each file to the case and chooses, on upload or later, whether it
is disclosed to the parties. The respondent sees the disclosed files from the notice on
(integrity.document_access); nobody but the officer ever sees the others. Each change of
disclosure is a trail event on the case (CASE_TRANSITION, with the file in its data).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import Role, has_role
from documents.attachments import attach, versions_of
from documents.models import Attachment
from trail.kinds import EventKind
from trail.services import record

from .models import EvidenceDisclosure, MisconductCase

KIND = "case_evidence"
DISCLOSE_STEP = "disclose_evidence"
WITHHOLD_STEP = "withhold_evidence"


def step_labels() -> dict[str, str]:
    """How the case history names a change of disclosure."""
    return {
        DISCLOSE_STEP: gettext_lazy("Evidence disclosed to the parties"),
        WITHHOLD_STEP: gettext_lazy("Evidence withheld from the parties"),
    }


def _officer_only(by) -> None:
    if not has_role(by, Role.INTEGRITY):
        raise PermissionDenied(_("Only the integrity officer handles misconduct cases."))


def _may_attach(user, case, kind: str) -> bool:
    return has_role(user, Role.INTEGRITY)


def evidence_of(case: MisconductCase):
    """Every piece of evidence on the case (each upload is a file of its own), newest first."""
    return versions_of(case, KIND).filter(removed_at__isnull=True)


def disclosed_ids(case: MisconductCase) -> set[int]:
    return set(EvidenceDisclosure.objects.filter(case=case).values_list("attachment_id", flat=True))


def is_disclosed(case: MisconductCase, attachment: Attachment) -> bool:
    return EvidenceDisclosure.objects.filter(case=case, attachment=attachment).exists()


def disclosed_evidence(case: MisconductCase):
    """The evidence the parties may see: disclosed and not removed."""
    return evidence_of(case).filter(pk__in=disclosed_ids(case))


def attach_evidence(
    case: MisconductCase, upload: File, by, *, note: str = "", disclose: bool = False
) -> Attachment:
    """Attach a file of evidence and, if chosen, disclose it: both or neither."""
    _officer_only(by)
    with transaction.atomic():
        attachment = attach(case, KIND, upload, by, note=note, may=_may_attach)
        try:
            if disclose:
                set_disclosure(case, attachment, True, by)
        except BaseException:
            # The row goes with the transaction; the stored file must go too.
            attachment.file.storage.delete(attachment.file.name)
            raise
    return attachment


@transaction.atomic
def set_disclosure(case: MisconductCase, attachment: Attachment, disclosed: bool, by) -> bool:
    """Disclose `attachment` to the parties or withhold it again; False if nothing changed.

    A trail event on the case for each change: before and after, and the file.
    """
    _officer_only(by)
    locked = MisconductCase.objects.select_for_update().get(pk=case.pk)
    if attachment.owner_label != "integrity.misconductcase" or attachment.owner_id != str(
        locked.pk
    ):
        raise PermissionDenied(_("This file is not evidence of this case."))
    if disclosed and attachment.removed_at is not None:
        raise ValidationError(_("This file was removed; it cannot be disclosed."))
    current = EvidenceDisclosure.objects.filter(case=locked, attachment=attachment)
    was = current.exists()
    if was == disclosed:
        return False
    if disclosed:
        EvidenceDisclosure.objects.create(case=locked, attachment=attachment, disclosed_by=by)
    else:
        current.delete()
    record(
        EventKind.CASE_TRANSITION,
        locked,
        actor=by,
        before={"disclosed": was},
        after={"disclosed": disclosed},
        data={
            "step": DISCLOSE_STEP if disclosed else WITHHOLD_STEP,
            "attachment": attachment.pk,
            "name": attachment.name,
            "version": attachment.version,
            "sha256": attachment.sha256,
        },
    )
    return True
