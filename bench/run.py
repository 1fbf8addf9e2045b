"""Run every benchmark as a subprocess and print their RESULT lines (`make bench`).

    .venv/bin/python bench/run.py [--n 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kjjg_bench .venv/bin/python bench/run.py

Each benchmark prints a last line ``RESULT {json}``. This script collects them and prints
one ``MACHINE {json}`` line first. It writes nothing into docs/: a person reads the numbers
and writes docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from machine import cpu_model  # bench/ is this script's directory

ROOT = Path(__file__).resolve().parent.parent
BENCHES: list[tuple[str, Path] | tuple[str, Path, list[str]]] = [
    ("lifecycle", ROOT / "bench" / "bench_lifecycle.py"),
    ("certificate_pdf", ROOT / "bench" / "bench_certificate_pdf.py"),
    ("uploads", ROOT / "bench" / "bench_uploads.py"),
    ("pages", ROOT / "bench" / "bench_pages.py"),  # the listing pages at 100,000 projects
    ("server", ROOT / "bench" / "bench_server.py"),  # gunicorn's sizing, 50 sign-ins at once
    ("rush", ROOT / "bench" / "bench_rush.py"),  # 200 applicants submit at once (issue 10)
    ("rush_spread", ROOT / "bench" / "bench_rush.py", ["--spread", "30"]),  # over 30 s
    ("fund_trail", ROOT / "bench" / "bench_fund_trail.py"),  # 100,000 vouchers on one page
    ("ledger_import", ROOT / "bench" / "bench_ledger_import.py"),  # 100,000 rows imported
]


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _database() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        try:
            import psycopg

            admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
            with psycopg.connect(admin, connect_timeout=5) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
        except Exception as exc:  # report, do not fail the run
            version = f"unknown ({exc.__class__.__name__})"
        return {"vendor": "postgresql", "version": version}
    import sqlite3

    return {"vendor": "sqlite", "version": sqlite3.sqlite_version}


def machine() -> dict:
    try:
        import django

        django_version = django.get_version()
    except ImportError:
        django_version = None
    return {
        "cpu": cpu_model(),
        "nproc": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "python": platform.python_version(),
        "django": django_version,
        "database": _database(),
        "os": platform.platform(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def run(name: str, script: Path, args: list[str]) -> dict | None:
    if not script.exists():
        print(f"\n== {name}: skipped, {script.relative_to(ROOT)} does not exist yet")
        return None
    print(f"\n== {name}: {script.relative_to(ROOT)} {' '.join(args)}", flush=True)
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            try:
                result = json.loads(line[len("RESULT ") :])
            except json.JSONDecodeError:
                print(f"   (unreadable RESULT line: {line[:200]})")
        else:
            print("   " + line)
    if proc.returncode != 0:
        print(f"   {name} exited with status {proc.returncode}")
    return result


def main(argv=None) -> int:
    try:  # the settings read .env; so do we, for the machine line and the benchmarks
        import environ

        environ.Env.read_env(ROOT / ".env", overwrite=False)
    except ImportError:
        pass
    parser = argparse.ArgumentParser(description="Run the benchmarks.")
    parser.add_argument("--n", type=int, default=None, help="projects per set (lifecycle)")
    args = parser.parse_args(argv)

    info = machine()
    print("MACHINE " + json.dumps(info, ensure_ascii=False))
    results: dict[str, dict | None] = {}
    failed = False
    for name, script, *fixed in BENCHES:
        extra = [*(fixed[0] if fixed else [])]
        extra += ["--n", str(args.n)] if name == "lifecycle" and args.n else []
        results[name] = run(name, script, extra)
        if script.exists() and results[name] is None:
            failed = True

    print("\n== results")
    print("MACHINE " + json.dumps(info, ensure_ascii=False))
    for name, result in results.items():
        if result is None:
            print(f"SKIPPED {name}: no result")
        else:
            print("RESULT " + json.dumps(result, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
