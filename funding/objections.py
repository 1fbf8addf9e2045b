"""Objections (异议) to a project on public notice (公示): anyone lodges one on the public
page; staff record the finding and the outcome. Approval waits while one is open."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import Project


class Objection(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="objections", verbose_name=_("project")
    )
    lodged_at = models.DateTimeField(_("lodged at"), auto_now_add=True)
    name = models.CharField(_("name"), max_length=50)
    contact = models.CharField(_("contact (telephone or e-mail)"), max_length=100)
    text = models.TextField(_("objection"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    finding = models.TextField(_("finding"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        ordering = ["lodged_at", "pk"]
