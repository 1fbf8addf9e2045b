"""A ledger import too large to run inside the request: the file waits in the default
storage while a Celery task reads and writes it; the user follows its progress."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Project


def upload_path(job: LedgerImportJob, filename: str) -> str:
    # A random name: the user's file name is kept in `filename`, never used as a path.
    return f"ledger-imports/{uuid.uuid4().hex}"


class LedgerImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="ledger_imports", verbose_name=_("project")
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    filename = models.CharField(_("file"), max_length=255)
    # The uploaded file while it waits; deleted once the job has finished.
    upload = models.FileField(upload_to=upload_path, max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    language = models.CharField(max_length=16)  # the messages are written in the user's
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows read"), default=0)
    imported = models.PositiveIntegerField(default=0)
    already_there = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)  # row-by-row, the first ones
    problem_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("ledger import")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def looks_stuck(self) -> bool:
        """Unfinished long after any file within the limits takes: the worker may be down
        or its message lost; the page stops reloading and says whom to tell."""
        limit = datetime.timedelta(minutes=settings.LEDGER_IMPORT_STUCK_MINUTES)
        return self.is_running and timezone.now() - self.created_at > limit
