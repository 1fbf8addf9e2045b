"""Size the production server: concurrent sign-ins and page views against gunicorn.

For each server configuration (worker class, processes, threads) gunicorn is started on
loopback with config/gunicorn.conf.py against a throwaway database holding the demo
county plus N applicants, each with a draft project. Then N clients at once (threads of
this script) each sign in with the real password hasher (PBKDF2, as in production) and
view their inbox, their project and the calls. Reported per configuration: the wall time
for all, sign-in and page latencies (median, p95, max), errors and client timeouts, and
the CPU time the server spent on the load (from /proc, so it holds on a busy machine
where the wall times do not) and its memory.

    .venv/bin/python bench/bench_server.py [--users 50] [--configs sync:5:1,gthread:5:4]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kjjg_bench .venv/bin/python bench/...

The database is a fresh one made for the run and removed after it (as bench_lifecycle
makes it). Runs with DJANGO_SECURE=0 (plain HTTP on loopback; the work per request is the
same). Loopback only: the clients share the machine's CPUs with the server, so the
numbers are a lower bound. The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench_lifecycle import ThrowawayDatabase, _read_dotenv  # bench/ is this script's dir
from machine import cpu_model
from server_support import ROOT, Client, Server, prepare, run_together, summary


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent clients")
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--configs",
        # sync as gunicorn's docs size it; gthread so, and as config/gunicorn.conf.py does.
        default=f"sync:{2 * cores + 1}:1,gthread:{2 * cores + 1}:4,gthread:{cores + 1}:8,"
        f"gthread:{cores}:4",
        help="comma-separated worker_class:processes:threads (default from the core count)",
    )
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    return parser.parse_args(argv)


def one_client(url: str, username: str, project: int, barrier, out: dict) -> None:
    """Sign in as a browser does (the form, its CSRF token), then three pages."""
    client = Client(url)
    barrier.wait()
    if client.sign_in(username):
        for path in ("/", f"/projects/{project}/", "/calls/"):
            client.timed("page", "GET", path)
    out[username] = client.timings


def run_load(url: str, accounts: list[tuple[str, int]]) -> dict:
    out: dict[str, list] = {}
    wall = run_together(one_client, url, accounts, out)
    records = [record for timings in out.values() for record in timings]
    expected = {"sign_in": 302, "page": 200}
    errors = [r for r in records if r[2] != "timeout" and r[2] != expected[r[0]]]
    return {
        "wall_s": round(wall, 2),
        "requests": len(records),
        "sign_in": summary([s for kind, s, status in records if kind == "sign_in"]),
        "page": summary([s for kind, s, status in records if kind == "page"]),
        "errors": len(errors),
        "error_statuses": sorted({str(r[2]) for r in errors}),
        "timeouts": sum(1 for r in records if r[2] == "timeout"),
        "clients_done": sum(1 for timings in out.values() if len(timings) == 5),
    }


def main(argv=None) -> int:
    args = _parse_args(argv)
    _read_dotenv()
    configs = []
    for text in args.configs.split(","):
        worker_class, workers, threads = text.split(":")
        configs.append((worker_class, int(workers), int(threads)))
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    runs = []
    with ThrowawayDatabase() as database:
        import django

        django.setup()
        accounts = prepare(args.users)
        from django.db import connections

        connections.close_all()
        for worker_class, workers, threads in configs:
            server = Server(worker_class, workers, threads, args.port)
            try:
                server.wait_ready()
                cpu_before = server.cpu_seconds()
                result = run_load(server.url, accounts)
                result["server_cpu_s"] = round(server.cpu_seconds() - cpu_before, 2)
                result["server_rss_mb"] = server.rss_mb()
            finally:
                server.stop()
            label = f"{worker_class} {workers}x{threads}"
            runs.append({"config": label, **result})
            print(
                f"{label:>14}: all {result['wall_s']:6.2f} s; sign-in median "
                f"{result['sign_in'].get('median_s')} p95 {result['sign_in'].get('p95_s')} "
                f"max {result['sign_in'].get('max_s')} s; page median "
                f"{result['page'].get('median_s')} p95 {result['page'].get('p95_s')} s; "
                f"errors {result['errors']} timeouts {result['timeouts']}; server CPU "
                f"{result['server_cpu_s']} s, RSS {result['server_rss_mb']} MB",
                flush=True,
            )
        vendor = database.vendor
    result = {
        "machine": {"cpu": cpu_model(), "nproc": os.cpu_count()},
        "database": vendor,
        "users": args.users,
        "hash_cpu_seconds": getattr(prepare, "hash_cpu_seconds", None),
        "runs": runs,
    }
    print("RESULT " + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
