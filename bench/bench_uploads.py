"""Benchmark uploaded documents: peak memory while a 50 MB file is attached and downloaded.

    .venv/bin/python bench/bench_uploads.py [--mb 50]

Attaches a PDF-headed file of --mb megabytes through documents.attachments.attach() to
the local file system, twice: as Django hands over a large upload (a temporary file on
disk, which the storage moves into place) and as a plain file object (which the storage
copies in chunks). Then streams it back through the download view's response. Peak
memory is measured with tracemalloc (Python allocations during the call, after a
warm-up) and with the process's maximum resident set size (getrusage). A throwaway
SQLite database and media directory are made for the run and removed after it.
The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from machine import cpu_model  # bench/ is this script's directory

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


def _parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=50, help="size of the file, in MiB")
    return parser.parse_args(argv)


def _maxrss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def _write_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for n in range(0, size, MiB):
            block = (b"%PDF-1.7\n" + b"0" * (MiB - 9)) if n == 0 else bytes([n // MiB % 256]) * MiB
            block = block[: size - n]
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _temporary_upload(source: Path, size: int):
    """The file as Django's TemporaryFileUploadHandler builds it from a request."""
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    handler = TemporaryFileUploadHandler()
    handler.new_file("file", "验收材料.pdf", "application/pdf", size)
    with source.open("rb") as stream:
        start = 0
        while chunk := stream.read(MiB):
            handler.receive_data_chunk(chunk, start)
            start += len(chunk)
    return handler.file_complete(size)


def _measure(call):
    tracemalloc.start()
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, round(peak / MiB, 2), round(seconds, 3)


def main(argv=None) -> int:
    args = _parse_args(argv)
    size = args.mb * MiB
    work = Path(tempfile.mkdtemp(prefix="kjjg_bench_uploads_"))
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["DJANGO_MEDIA_ROOT"] = str(work / "media")
    os.environ["DOCUMENT_S3_BUCKET"] = ""  # the local file system, whatever .env says
    os.environ["DOCUMENT_KIND_MAX_BYTES"] = f"acceptance_material={size}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    try:
        import django

        django.setup()
        return _run(size, work)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(work, ignore_errors=True)


def _run(size: int, work: Path) -> int:
    from django.core.files import File
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import RequestFactory

    from documents.attachments import attach
    from documents.views import serve_attachment
    from workflows import demo

    call_command("migrate", verbosity=0)
    county = demo.create_county()
    project = demo.draft_project(county, "applicant", "上传基准项目", "300000")
    pi = project.pi
    source = work / "source.pdf"
    sha256 = _write_file(source, size)
    # Warm-up: modules and caches loaded on first use are not the upload's.
    small = SimpleUploadedFile("小.pdf", b"%PDF-1.7\n%%EOF\n")
    attach(project, "acceptance_material", small, pi)
    rss_before = _maxrss_mib()

    upload = _temporary_upload(source, size)
    moved, temp_peak, temp_seconds = _measure(
        lambda: attach(project, "acceptance_material", upload, pi)
    )
    upload.close()
    assert moved.sha256 == sha256 and moved.size == size

    with source.open("rb") as stream:
        copied, copy_peak, copy_seconds = _measure(
            lambda: attach(project, "acceptance_material", File(stream, "验收材料.pdf"), pi)
        )
    assert copied.sha256 == sha256

    request = RequestFactory().get("/")
    request.user = pi

    def download() -> str:
        response = serve_attachment(request, copied, allowed=True)
        digest = hashlib.sha256()
        for chunk in response.streaming_content:
            digest.update(chunk)
        response.close()
        return digest.hexdigest()

    downloaded, download_peak, download_seconds = _measure(download)
    assert downloaded == sha256
    rss_after = _maxrss_mib()

    print(f"file: {size / MiB:.0f} MiB, PDF-headed, local file system")
    print(f"attach a temporary upload (moved):  peak {temp_peak} MiB, {temp_seconds} s")
    print(f"attach a file object (copied):      peak {copy_peak} MiB, {copy_seconds} s")
    print(f"download through the view:          peak {download_peak} MiB, {download_seconds} s")
    print(f"max RSS before / after: {rss_before} / {rss_after} MiB")
    result = {
        "bench": "uploads",
        "cpu": cpu_model(),
        "file_mib": round(size / MiB),
        "attach_temporary_upload": {"peak_mib": temp_peak, "seconds": temp_seconds},
        "attach_file_object": {"peak_mib": copy_peak, "seconds": copy_seconds},
        "download": {"peak_mib": download_peak, "seconds": download_seconds},
        "maxrss_mib_before": rss_before,
        "maxrss_mib_after": rss_after,
    }
    print("RESULT " + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
