"""One attachment model for every part: a file of a kind, on any owner, in versions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .kinds import kind_named
from .names import MAX_NAME_CHARS


def random_path(instance, filename: str) -> str:
    """documents/<year>/<uuid>: never the user's name, no extension a server could act on."""
    return f"documents/{timezone.now():%Y}/{uuid.uuid4().hex}"


class AttachmentQuerySet(models.QuerySet):
    def of(self, owner: models.Model) -> AttachmentQuerySet:
        return self.filter(
            owner_type=ContentType.objects.get_for_model(owner), owner_id=str(owner.pk)
        )

    def present(self) -> AttachmentQuerySet:
        return self.filter(removed_at__isnull=True)

    def current(self) -> AttachmentQuerySet:
        """The latest version of each kind that has not been removed."""
        newer = self.model.objects.filter(
            owner_type=models.OuterRef("owner_type"),
            owner_id=models.OuterRef("owner_id"),
            kind=models.OuterRef("kind"),
            version__gt=models.OuterRef("version"),
            removed_at__isnull=True,
        )
        return self.present().exclude(models.Exists(newer))


class Attachment(models.Model):
    # The owner (project, expenditure, audit engagement, case...), as in trail.Event:
    # its type and its primary key as text.
    owner_type = models.ForeignKey(
        ContentType, verbose_name=_("owner type"), on_delete=models.PROTECT, related_name="+"
    )
    owner_id = models.CharField(_("owner id"), max_length=64)
    owner = GenericForeignKey("owner_type", "owner_id")
    kind = models.CharField(_("kind"), max_length=40)
    # Per owner and kind, from 1; a new upload of the same kind is the next version.
    version = models.PositiveIntegerField(_("version"))
    file = models.FileField(_("file"), upload_to=random_path, max_length=200)
    name = models.CharField(_("file name"), max_length=MAX_NAME_CHARS)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField("SHA-256", max_length=64)
    note = models.CharField(_("note"), max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    # Removal is a mark, journaled; the file stays unless DOCUMENT_PURGE_ON_REMOVE.
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    removal_reason = models.CharField(_("reason for removal"), max_length=500, blank=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["owner_type", "owner_id", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner_type", "owner_id", "kind", "version"],
                name="attachment_version_once",
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="attachment_version"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}: {self.name}"

    @property
    def kind_label(self) -> str:
        kind = kind_named(self.kind)
        return str(kind.label) if kind else self.kind

    @property
    def owner_label(self) -> str:
        """The owner's model label, e.g. "funding.project" (as trail events name it)."""
        return f"{self.owner_type.app_label}.{self.owner_type.model}"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def is_current(self) -> bool:
        return Attachment.objects.current().filter(pk=self.pk).exists()
