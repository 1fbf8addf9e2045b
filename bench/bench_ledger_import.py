"""Benchmark the ledger import: 100,000 CSV rows, time and peak memory.

    .venv/bin/python bench/bench_ledger_import.py [--rows 100000] [--as-bytes]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kjjg_bench .venv/bin/python bench/...

A fresh throwaway database (as bench_lifecycle.py makes it), the demo county and two
running projects. A CSV export of --rows rows (Chinese headers, UTF-8, about 70 bytes a
row) is written to a temporary file, then imported with
``funding.ledger_import.import_ledger`` (the service both the page and the background
job end in: read and check every row, then write under the project's row lock):

1. into the first project, timed, with the process's maximum resident set size (getrusage)
   before and after;
2. the same file again into the same project (adds nothing), timed;
3. into the second project with tracemalloc on (Python allocations during the call; it
   slows the call, so that run is not timed).

The file is handed over open (as the page hands Django's upload, a temporary file on
disk past 2.5 MB), or read whole into bytes with --as-bytes. The import limits are
set through the environment to what the file needs unless the environment sets them
(LEDGER_IMPORT_MAX_ROWS, LEDGER_IMPORT_MAX_BYTES). The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench_lifecycle import ThrowawayDatabase, _db_version, _read_dotenv
from bench_pages import _backend_cpu_seconds
from machine import cpu_model  # bench/ is this script's directory

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
TARGET_SECONDS, TARGET_MIB = 1.5, 150  # issue 10 (issue 9 asks 10 s)


def _parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="data rows of the file")
    parser.add_argument("--as-bytes", action="store_true", help="hand the file over as bytes")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    return parser.parse_args(argv)


def _maxrss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def write_csv(path: Path, rows: int) -> int:
    """An export of `rows` payments over the last 100 days; its size in bytes."""
    today = datetime.date.today()
    categories = ["设备费", "业务费", "业务费", "劳务费"]
    methods = ["转账", "公务卡", "转账"]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("凭证号,日期,科目,收款方,支付方式,金额\n")
        for n in range(rows):
            day = today - datetime.timedelta(days=1 + n % 100)
            out.write(
                f"JZ-{n:07d},{day.isoformat()},{categories[n % 4]},某检测中心{n % 300:03d},"
                f"{methods[n % 3]},{100 + n % 9000}.{n % 100:02d}\n"
            )
    return path.stat().st_size


def main(argv=None) -> int:
    args = _parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The set-up's notifications (expert reviews assigned) are not printed.
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    _read_dotenv()
    work = Path(tempfile.mkdtemp(prefix="kjjg_bench_ledger_"))
    source = work / "ledger.csv"
    size = write_csv(source, args.rows)
    for name, needed in (("LEDGER_IMPORT_MAX_ROWS", args.rows), ("LEDGER_IMPORT_MAX_BYTES", size)):
        if name not in os.environ:
            os.environ[name] = str(needed)  # exactly what this file needs
    try:
        with ThrowawayDatabase(keep=args.keep) as db:
            import django

            django.setup()
            return _run(args, db, source, size)
    finally:
        source.unlink(missing_ok=True)
        work.rmdir()


def _run(args, db, source: Path, size: int) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from funding import ledger_import
    from funding.ledger_import import import_ledger
    from funding.states import ProjectStatus as S
    from workflows import demo

    call_command("migrate", verbosity=0)
    county = demo.create_county()
    first, second = (
        demo.advance(
            county, demo.draft_project(county, "applicant", title, "600000"), S.IN_PROGRESS
        )
        for title in ("导入基准项目一", "导入基准项目二")
    )
    print(
        f"bench_ledger_import: {db.vendor} {_db_version(connection)}, {args.rows} rows, "
        f"{size / MiB:.1f} MiB, limits {settings.LEDGER_IMPORT_MAX_ROWS} rows / "
        f"{settings.LEDGER_IMPORT_MAX_BYTES / MiB:.1f} MiB / {settings.LEDGER_IMPORT_SECONDS} s"
    )

    phases: dict[str, float] = {}

    def timed(name, function):
        """Time one phase of the import (reading and checking; writing, commit included)."""

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases[name] = round(time.perf_counter() - started, 3)

        return wrapper

    ledger_import.parse_ledger = timed("read_s", ledger_import.parse_ledger)
    ledger_import.write_ledger = timed("write_s", ledger_import.write_ledger)

    def run(project):
        with source.open("rb") as stream:
            content = stream.read() if args.as_bytes else stream
            started, cpu = time.perf_counter(), time.process_time()
            backend = _backend_cpu_seconds(connection)
            result = import_ledger(project, project.pi, content, "ledger.csv")
            seconds = time.perf_counter() - started
            # What the import cost this process and its database backend (on a shared
            # machine the wall clock also counts the others' work).
            phases["python_cpu_s"] = round(time.process_time() - cpu, 3)
            if backend is not None:
                phases["database_cpu_s"] = round(_backend_cpu_seconds(connection) - backend, 2)
        assert not result.errors, result.errors[:3]
        return result, round(seconds, 3)

    load_before = os.getloadavg()[0]
    rss_before = _maxrss_mib()
    fresh, fresh_s = run(first)
    fresh_phases = dict(phases)
    rss_after = _maxrss_mib()
    assert (fresh.imported, fresh.already_there) == (args.rows, 0), fresh
    again, again_s = run(first)
    again_phases = dict(phases)
    assert (again.imported, again.already_there) == (0, args.rows), again
    assert first.expenditures.count() == args.rows

    tracemalloc.start()
    traced, _ = run(second)
    peak = round(tracemalloc.get_traced_memory()[1] / MiB, 1)
    tracemalloc.stop()
    assert traced.imported == args.rows

    print(f"import {args.rows} rows:    {fresh_s} s (target {TARGET_SECONDS} s); {fresh_phases}")
    print(f"re-import (adds nothing): {again_s} s; {again_phases}")
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(f"load average before / after: {load}")
    print(f"peak Python memory:       {peak} MiB (tracemalloc; target {TARGET_MIB} MB)")
    print(f"max RSS before / after:   {rss_before} / {rss_after} MiB")
    result = {
        "bench": "ledger_import",
        "cpu": cpu_model(),
        "database": db.vendor,
        "rows": args.rows,
        "file_mib": round(size / MiB, 1),
        "handed_over": "bytes" if args.as_bytes else "file",
        "import_seconds": fresh_s,
        "import_phases": fresh_phases,
        "reimport_seconds": again_s,
        "reimport_phases": again_phases,
        "load_average": load,
        "peak_mib": peak,
        "maxrss_mib_before": rss_before,
        "maxrss_mib_after": rss_after,
        "target_seconds": TARGET_SECONDS,
        "target_mib": TARGET_MIB,
    }
    print("RESULT " + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
