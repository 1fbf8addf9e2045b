"""A real Celery worker makes the certificate PDF once, however often the task runs.

Needs PostgreSQL (the worker is another process and must see the test database) and a
reachable Redis broker in CELERY_BROKER_URL; skipped otherwise.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from funding.states import ProjectStatus as S
from oversight.models import Certificate
from oversight.tasks import generate_certificate
from trail.kinds import EventKind
from trail.models import Event
from trail.services import verify_chain
from workflows import demo
from workflows.actions import perform

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("CELERY_BROKER_URL", "")
WAIT_FOR_WORKER = 90  # seconds: a deadline for waiting, not a performance assertion


def redis_answers(url: str) -> bool:
    if not url.startswith("redis://"):
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:  # noqa: BLE001 - any failure means "not available here"
        return False


pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.skipif(
        not redis_answers(BROKER), reason="needs a reachable Redis in CELERY_BROKER_URL"
    ),
]


@pytest.fixture
def worker(test_database_url):
    """A real worker on the project's queue, reading the test database; tasks not eager."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": test_database_url,
        "CELERY_BROKER_URL": BROKER,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo"]
    command += ["-c", "1", "--without-heartbeat", "--without-mingle", "--without-gossip"]
    command += ["-Q", queue, "-l", "info"]
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, text=True)

        def read_log() -> str:
            log.seek(0)
            return log.read()[-5000:]

        process.read_log = read_log
        try:
            yield process
        finally:
            app.conf.task_always_eager = eager
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for_pdf(project, worker) -> Certificate:
    deadline = time.monotonic() + WAIT_FOR_WORKER
    while time.monotonic() < deadline:
        certificate = Certificate.objects.filter(project=project, pdf__isnull=False).first()
        if certificate is not None:
            return certificate
        assert worker.poll() is None, "the worker stopped:\n" + worker.read_log()
        time.sleep(0.5)
    pytest.fail(f"no PDF after {WAIT_FOR_WORKER} s; worker log:\n{worker.read_log()}")


def test_the_worker_generates_the_certificate_once(county, draft, worker):
    pytest.importorskip("oversight.pdf", reason="oversight/pdf.py is still being written")
    project = demo.advance(county, draft, S.ACCEPTED)

    perform(project.pk, "issue_certificate", county.users["staff"])  # queues the PDF on commit

    certificate = wait_for_pdf(project, worker)
    pdf = bytes(certificate.pdf)
    assert pdf.startswith(b"%PDF")
    assert certificate.sha256 == hashlib.sha256(pdf).hexdigest()
    assert certificate.status == Certificate.Status.ISSUED

    # A retried or duplicated task changes nothing.
    assert generate_certificate.delay(certificate.pk).get(timeout=60) == certificate.sha256
    assert Certificate.objects.filter(project=project).count() == 1
    again = Certificate.objects.get(pk=certificate.pk)
    assert again.sha256 == certificate.sha256 and bytes(again.pdf) == pdf
    generated = Event.objects.filter(kind=EventKind.CERTIFICATE_GENERATED)
    assert generated.count() == 1
    assert verify_chain() == []
