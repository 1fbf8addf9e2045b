"""Large ledger imports as background jobs: the request reads the first rows and, when
the file has more than LEDGER_IMPORT_SYNC_ROWS, stores it and queues a Celery task that
reads it whole and then writes it with the same service as a small file. The file is
handed over open (an upload, the stored file) and streamed, never read into memory whole."""

from __future__ import annotations

import functools
import hashlib
import io
import logging
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role

from .import_jobs import LedgerImportJob
from .ledger_import import (
    ImportResult,
    check_may_import,
    clean_filename,
    parse_ledger,
    write_ledger,
)
from .models import Project
from .upload_limits import UploadLimits

logger = logging.getLogger(__name__)
Status = LedgerImportJob.Status
PROBLEMS_KEPT = 200  # row problems stored on a job; the count says how many there were


def start_ledger_import(
    project: Project, by, content: bytes | IO[bytes], filename: str
) -> ImportResult | LedgerImportJob:
    """Import a small file at once; hand a large one to a job (returned) to follow."""
    check_may_import(project, by)
    limits = UploadLimits.from_settings()
    parsed = parse_ledger(content, filename, limits, stop_after=limits.sync_rows)
    if not parsed.complete:
        return queue_ledger_import(project, by, content, filename)
    if parsed.errors:
        return ImportResult(errors=parsed.errors)  # nothing imported until the file is clean
    return write_ledger(project, by, parsed)


def queue_ledger_import(
    project: Project, by, content: bytes | IO[bytes], filename: str
) -> LedgerImportJob:
    """Store the file and queue its task. Call it outside a transaction: a worker must
    find the job row."""
    from .tasks import run_ledger_import_job

    stream = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    stream.seek(0)
    job = LedgerImportJob(
        project=project,
        started_by=by,
        filename=clean_filename(filename),
        sha256=hashlib.file_digest(stream, "sha256").hexdigest(),
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    stream.seek(0)
    try:
        job.upload.save("upload", File(stream), save=False)
    except OSError as error:
        logger.exception("a ledger export could not be stored")
        raise ValidationError(_("The file could not be stored; try again later.")) from error
    job.save()
    try:
        run_ledger_import_job.delay(job.pk)
    except Exception:  # the broker is down: say so rather than leave the job queued
        logger.exception("ledger import job %s could not be queued", job.pk)
        _fail(job.pk, _("The import could not be started; nothing was imported. Try again later."))
        _discard_upload(job.pk)
    job.refresh_from_db()
    return job


def run_ledger_import(job_id: int) -> str:
    """Read the stored file whole (no lock held), then write it; the job's final status.

    Safe to run twice (late acknowledgement): a finished job is left alone, and the
    write and the job's result are committed together.
    """
    job = _claim(job_id)
    if job is None:
        return "skipped"
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            with job.upload.open("rb") as stored:
                parsed = parse_ledger(
                    stored, job.filename, on_progress=functools.partial(_progress, job.pk)
                )
            _finish(job.pk, parsed)
        except (PermissionDenied, ValidationError) as refused:
            _fail(job.pk, " ".join(_messages(refused)))
        except Exception:  # a bug or a lost file: the job says so; nothing was written
            logger.exception("ledger import job %s failed", job_id)
            _fail(job.pk, _("The import stopped on an unexpected error; nothing was imported."))
        finally:
            _discard_upload(job.pk)
    return LedgerImportJob.objects.values_list("status", flat=True).get(pk=job_id)


def may_see_import_job(user, job: LedgerImportJob) -> bool:
    """The project's PI (who alone imports) and bureau staff."""
    return user.pk == job.project.pi_id or has_role(user, Role.STAFF)


def _claim(job_id: int) -> LedgerImportJob | None:
    with transaction.atomic():
        job = LedgerImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or not job.is_running:
            return None
        job.status = Status.RUNNING
        job.save(update_fields=["status"])
    return job


def _progress(job_id: int, rows: int, expected: int | None) -> None:
    total = max(expected, rows) if expected is not None else None
    LedgerImportJob.objects.filter(pk=job_id, status=Status.RUNNING).update(
        rows_done=rows, rows_total=total
    )


def _finish(job_id: int, parsed) -> None:
    with transaction.atomic():
        job = LedgerImportJob.objects.select_for_update().select_related("project").get(pk=job_id)
        if job.status != Status.RUNNING:
            return  # another run of the task finished it
        job.rows_total = job.rows_done = parsed.rows
        if parsed.errors:
            job.status = Status.FAILED
            job.problems = parsed.errors[:PROBLEMS_KEPT]
            job.problem_count = len(parsed.errors)
            job.error = _("Nothing was imported: correct the file and upload it again.")
        else:
            result = write_ledger(job.project, job.started_by, parsed)
            job.status = Status.DONE
            job.imported, job.already_there = result.imported, result.already_there
        job.finished_at = timezone.now()
        job.save()


def _fail(job_id: int, error: str) -> None:
    LedgerImportJob.objects.filter(pk=job_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.FAILED, error=error, finished_at=timezone.now()
    )


def _discard_upload(job_id: int) -> None:
    job = LedgerImportJob.objects.get(pk=job_id)
    if job.upload and not job.is_running:
        try:
            job.upload.delete(save=False)
        except OSError:  # the result stands; only a stray file is left behind
            logger.exception("ledger import job %s: the stored file was not deleted", job_id)
            return
        LedgerImportJob.objects.filter(pk=job_id).update(upload="")


def _messages(error: Exception) -> list[str]:
    return error.messages if isinstance(error, ValidationError) else [str(error)]
