"""Attach and remove documents: every check before anything is stored, one trail event each.

Who may attach or remove is the owning part's rule: its page checks before calling, or
passes `may(user, owner, kind) -> bool`. This service knows only files: the kind's size
limit and file types, the type judged from the content, a safe name.

The upload is read in chunks (SHA-256, size and the first bytes for the type) and then
handed to the storage as a file object, which streams it (a temporary upload is moved,
not copied, on the local file system): a 50 MB file is never held in memory whole.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.text import check_text
from trail.kinds import EventKind
from trail.services import record

from .formats import HEAD_BYTES, FileType, judge
from .kinds import DocumentKind, kind_named
from .models import Attachment, random_path
from .names import safe_file_name, split_extension

CHUNK_BYTES = 1024 * 1024
MAX_NOTE_CHARS = 500
MAX_REASON_CHARS = 500

May = Callable[[object, models.Model, str], bool]

# Extensions that declare a type of their own: one of these that does not fit the content
# is refused. Any other "extension" ("申报书.final") is part of the name.
_KNOWN_EXTENSIONS = frozenset(
    ext for file_type in FileType for ext in file_type.extensions
) | frozenset(
    "7z apk bat bin cab cmd com csv dll doc dot dps et exe gif gz htm html hta jar js lnk "
    "msi ofd ppt ps1 rar rtf scr sh svg tar tif tiff txt vbs wps xls xlt xml".split()
)
_BUILTIN_TYPES = mimetypes.MimeTypes(filenames=())  # Python's own table, the same everywhere


@dataclass(frozen=True)
class CheckedUpload:
    file_type: FileType
    name: str
    size: int
    sha256: str


def max_bytes_for(kind: str) -> int:
    """DOCUMENT_KIND_MAX_BYTES[kind], else DOCUMENT_MAX_BYTES."""
    overrides = getattr(settings, "DOCUMENT_KIND_MAX_BYTES", None) or {}
    return int(overrides.get(kind, settings.DOCUMENT_MAX_BYTES))


def attach(
    owner: models.Model,
    kind: str,
    upload: File,
    by,
    *,
    note: str = "",
    may: May | None = None,
) -> Attachment:
    """Store `upload` as the next version of `kind` on `owner`; a trail event on the owner.

    Raises ValidationError (a translated message; nothing stored) or PermissionDenied.
    """
    document_kind = _kind_for(owner, kind)
    if may is not None and not may(by, owner, kind):
        raise PermissionDenied(_("You may not attach documents here."))
    note = (note or "").strip()
    check_text(note, label=_("Note"), max_length=MAX_NOTE_CHARS, multiline=False)
    checked = check_upload(document_kind, upload)

    storage = Attachment._meta.get_field("file").storage
    upload.seek(0)
    stored = storage.save(random_path(None, checked.name), upload)
    try:
        return _insert(owner, document_kind, checked, stored, by, note)
    except BaseException:
        storage.delete(stored)  # the row was not written: leave no file behind
        raise


def check_upload(kind: DocumentKind, upload: File) -> CheckedUpload:
    """Size, content type and name of `upload` for `kind`, read in chunks."""
    limit = max_bytes_for(kind.slug)
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(kind, size, limit)
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    for chunk in upload.chunks(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:  # the declared size was wrong, or missing
            raise _too_large(kind, size, limit)
        digest.update(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    file_type = judge(bytes(head), upload)
    if file_type not in kind.types:
        raise ValidationError(
            _("A %(kind)s must be one of: %(types)s; this file is %(type)s.")
            % {
                "kind": kind.label,
                "types": ", ".join(t.title for t in kind.types),
                "type": file_type.title,
            },
            code="type_not_allowed",
        )
    return CheckedUpload(file_type, _name_for(upload.name, file_type), size, digest.hexdigest())


def remove(attachment: Attachment, by, reason: str, *, may: May | None = None) -> Attachment:
    """Mark `attachment` removed, with the reason; a trail event. The file stays for the
    record unless DOCUMENT_PURGE_ON_REMOVE."""
    owner = attachment.owner
    if may is not None and not may(by, owner, attachment.kind):
        raise PermissionDenied(_("You may not remove this document."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give a reason for removing the document."), code="no_reason")
    check_text(reason, label=_("Reason"), max_length=MAX_REASON_CHARS, multiline=False)
    with transaction.atomic():
        locked = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if locked.removed_at is not None:
            raise ValidationError(_("This document was already removed."), code="removed")
        locked.removed_at = timezone.now()
        locked.removed_by = by
        locked.removal_reason = reason
        locked.save(update_fields=["removed_at", "removed_by", "removal_reason"])
        record(
            EventKind.DOCUMENT_REMOVED,
            owner if owner is not None else locked,
            actor=by,
            data={**_event_data(locked), "reason": reason},
        )
        if getattr(settings, "DOCUMENT_PURGE_ON_REMOVE", False):
            name, storage = locked.file.name, locked.file.storage
            transaction.on_commit(lambda: storage.delete(name))
    return locked


def current_documents(owner: models.Model, kind: str | None = None):
    """The latest version of each kind on `owner` (of `kind` only, if given)."""
    documents = Attachment.objects.of(owner).current().select_related("uploaded_by")
    return documents.filter(kind=kind) if kind else documents


def current_documents_of(owners: list[models.Model], kind: str) -> dict[int, list[Attachment]]:
    """The current `kind` documents of many owners of one model, in one query: owner pk ->
    its documents (a list page's rows, e.g. the voucher scans of a page of expenditures)."""
    if not owners:
        return {}
    found: dict[int, list[Attachment]] = {owner.pk: [] for owner in owners}
    documents = Attachment.objects.filter(
        owner_type=ContentType.objects.get_for_model(owners[0]),
        owner_id__in=[str(owner.pk) for owner in owners],
        kind=kind,
    ).current()
    for document in documents.order_by("owner_id", "version"):
        found[int(document.owner_id)].append(document)
    return found


def versions_of(owner: models.Model, kind: str):
    """Every version of `kind` on `owner`, newest first, removed ones included."""
    return Attachment.objects.of(owner).filter(kind=kind).order_by("-version")


def _kind_for(owner: models.Model, slug: str) -> DocumentKind:
    kind = kind_named(slug)
    if kind is None:
        raise ValidationError(_("Unknown kind of document: %(kind)s.") % {"kind": slug})
    if owner._meta.label_lower not in kind.owners:
        raise ValidationError(
            _("A %(kind)s cannot be attached here.") % {"kind": kind.label}, code="wrong_owner"
        )
    return kind


def _too_large(kind: DocumentKind, size: int, limit: int) -> ValidationError:
    return ValidationError(
        _("The file is %(size)s; a %(kind)s may be at most %(limit)s.")
        % {"size": filesizeformat(size), "kind": kind.label, "limit": filesizeformat(limit)},
        code="too_large",
    )


def _name_for(raw_name: str | None, file_type: FileType) -> str:
    """The safe name, its extension fitting the content (added when missing)."""
    name = safe_file_name(raw_name)
    stem, extension = split_extension(name)
    if extension in file_type.extensions:
        return name
    declares_a_type = extension in _KNOWN_EXTENSIONS or (
        extension and _BUILTIN_TYPES.guess_type(f"x.{extension}")[0] is not None
    )
    if declares_a_type:
        raise ValidationError(
            _(
                "The file name ends in .%(extension)s but the content is %(type)s. "
                "Check that you chose the right file."
            )
            % {"extension": extension, "type": file_type.title},
            code="extension_mismatch",
        )
    return safe_file_name(f"{name or 'document'}.{file_type.extensions[0]}")


def _insert(
    owner: models.Model, kind: DocumentKind, checked: CheckedUpload, stored: str, by, note: str
) -> Attachment:
    owner_type = ContentType.objects.get_for_model(owner)
    for attempt in range(3):
        try:
            with transaction.atomic():
                same_kind = Attachment.objects.filter(
                    owner_type=owner_type, owner_id=str(owner.pk), kind=kind.slug
                )
                latest = same_kind.aggregate(latest=Max("version"))["latest"] or 0
                attachment = Attachment.objects.create(
                    owner_type=owner_type,
                    owner_id=str(owner.pk),
                    kind=kind.slug,
                    version=latest + 1,
                    file=stored,
                    name=checked.name,
                    content_type=checked.file_type.mime,
                    size=checked.size,
                    sha256=checked.sha256,
                    note=note,
                    uploaded_by=by,
                )
                data = _event_data(attachment)
                if note:
                    data["note"] = note
                record(EventKind.DOCUMENT_ATTACHED, owner, actor=by, data=data)
            return attachment
        except IntegrityError:
            if attempt == 2:  # another upload of the same kind took the version each time
                raise
    raise AssertionError("unreachable")


def _event_data(attachment: Attachment) -> dict:
    return {
        "attachment": attachment.pk,
        "kind": attachment.kind,
        "version": attachment.version,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }
