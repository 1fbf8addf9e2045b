"""The deadline rush: N applicants each sign in, open their project and submit it, at once.

gunicorn is started on loopback with config/gunicorn.conf.py (the worker class and counts
it chooses from the core count, unless given) against a throwaway database holding the
demo county plus N applicants. The call requires two documents and each applicant's
draft carries them, so every submission passes the real checks (the commitment, the
required papers, the veto). Then N clients at once (threads of this script), released
together, each: the sign-in page, the sign-in (Argon2id, as in production; PBKDF2 hashes
with --legacy-hashes), their project's page, and the submit action through the page
(POST /projects/<id>/do/submit/ with the commitment ticked and the CSRF token). Every
request has a client timeout of 30 s. With `--spread S` the applicants arrive evenly over
S seconds instead of at one instant (a deadline's last minute rather than its last
second).

Reported: the wall time for all (target: within 90 s), errors, client time-outs,
submission latency and whole-journey latency (median, p95, max), the server's CPU time
and memory; then, read from the database, whether the trail verifies
(trail.services.verify_chain) and how many submit transitions each project has
(exactly one each).

    .venv/bin/python bench/bench_rush.py [--users 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kjjg_bench_rush .venv/bin/python ...

Loopback only: the clients share the machine's CPUs with the server, so the numbers are
a lower bound. The last line is ``RESULT {json}``; the exit status is 1 when a check
fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from functools import partial

from machine import cpu_model  # bench/ is this script's directory
from server_support import ROOT, RUSH_DOCUMENTS, Client, Server, prepare, run_together, summary

DEADLINE_SECONDS = 90.0
EXPECTED = {"page": 200, "sign_in": 302, "submit": 302}


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="applicants at once")
    parser.add_argument("--worker-class", default=None, help="default: the config file's")
    parser.add_argument("--workers", type=int, default=None, help="default: cores + 1")
    parser.add_argument("--threads", type=int, default=None, help="default: the config's")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="seconds over which the applicants arrive, evenly (0: all at the same instant)",
    )
    parser.add_argument(
        "--legacy-hashes",
        action="store_true",
        help="PBKDF2 hashes, re-made with Argon2id at sign-in (the first rush after the change)",
    )
    return parser.parse_args(argv)


def one_applicant(
    url: str, username: str, project: int, barrier, out: dict, arrivals: dict | None = None
) -> None:
    """Sign in, open the project, submit it with the commitment, as the page does; with
    `arrivals`, wait that many seconds after the start before beginning."""
    client = Client(url)
    barrier.wait()
    time.sleep((arrivals or {}).get(username, 0.0))
    started = time.perf_counter()
    if client.sign_in(username) and client.timed("page", "GET", f"/projects/{project}/") == 200:
        client.timed(
            "submit",
            "POST",
            f"/projects/{project}/do/submit/",
            data={"submit-commitment": "on", "csrfmiddlewaretoken": client.csrf()},
            headers={"Referer": f"{url}/projects/{project}/"},
        )
    journey = time.perf_counter() - started
    out[username] = (client.timings, journey)


def run_rush(url: str, accounts: list[tuple[str, int]], spread: float = 0.0) -> dict:
    """The applicants against the server at `url`, all at once or arriving evenly over
    `spread` seconds; what the clients saw."""
    out: dict[str, tuple[list, float]] = {}
    arrivals = {name: i * spread / len(accounts) for i, (name, _) in enumerate(accounts)}
    wall = run_together(partial(one_applicant, arrivals=arrivals), url, accounts, out)
    records = [record for timings, _ in out.values() for record in timings]
    timeouts = [r for r in records if r[2] == "timeout"]
    errors = [r for r in records if r[2] != "timeout" and r[2] != EXPECTED[r[0]]]
    submitted = [r for r in records if r[0] == "submit" and r[2] == 302]
    return {
        "wall_s": round(wall, 2),
        "within_deadline": wall <= DEADLINE_SECONDS,
        "requests": len(records),
        "submitted": len(submitted),
        "errors": len(errors),
        "error_statuses": sorted({f"{r[0]}:{r[2]}" for r in errors}),
        "timeouts": len(timeouts),
        "timeout_kinds": sorted({r[0] for r in timeouts}),
        "submit": summary([s for kind, s, _ in records if kind == "submit"]),
        "sign_in": summary([s for kind, s, _ in records if kind == "sign_in"]),
        "page": summary([s for kind, s, _ in records if kind == "page"]),
        "journey": summary([journey for _, journey in out.values()]),
    }


def check_trail(accounts: list[tuple[str, int]]) -> dict:
    """After the rush, from the database: the trail verifies, one submit per project."""
    from django.db.models import Count

    from funding.models import Project
    from trail.kinds import EventKind
    from trail.services import history_of, verify_chain

    problems = verify_chain()
    counts = {}
    for project in Project.objects.filter(pk__in=[pk for _, pk in accounts]):
        counts[project.pk] = (
            history_of(project)
            .filter(kind=EventKind.PROJECT_TRANSITION, data__transition="submit")
            .count()
        )
    statuses = dict(
        Project.objects.filter(pk__in=counts)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by("status")
    )
    return {
        "trail_intact": not problems,
        "trail_problems": [f"{p.seq}: {p.message}" for p in problems[:5]],
        "projects": len(counts),
        "one_submit_each": len(counts) == len(accounts) and set(counts.values()) == {1},
        "submit_events": sum(counts.values()),
        "projects_without_submit": sum(1 for n in counts.values() if n == 0),
        "projects_with_more": sum(1 for n in counts.values() if n > 1),
        "statuses": statuses,
    }


def passed(result: dict) -> bool:
    return (
        result["errors"] == 0
        and result["timeouts"] == 0
        and result["within_deadline"]
        and result["trail"]["trail_intact"]
        and result["trail"]["one_submit_each"]
    )


def main(argv=None) -> int:
    args = _parse_args(argv)
    from bench_lifecycle import ThrowawayDatabase, _read_dotenv

    _read_dotenv()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The attached papers go to a directory of this run, never var/media.
    media = tempfile.TemporaryDirectory(prefix="kjjg_rush_media_")
    os.environ["DJANGO_MEDIA_ROOT"] = media.name
    with media, ThrowawayDatabase() as database:
        import django

        django.setup()
        accounts = prepare(args.users, RUSH_DOCUMENTS, legacy_hashes=args.legacy_hashes)
        from django.db import connections

        connections.close_all()
        server = Server(args.worker_class, args.workers, args.threads, args.port)
        try:
            server.wait_ready()
            cpu_before, load_before = server.cpu_seconds(), os.getloadavg()[0]
            clients_before = time.process_time()
            result = run_rush(server.url, accounts, args.spread)
            result["spread_s"] = args.spread
            result["server_cpu_s"] = round(server.cpu_seconds() - cpu_before, 2)
            # The clients' threads share the CPUs with the server here (not in production).
            result["clients_cpu_s"] = round(time.process_time() - clients_before, 2)
            result["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
            result["server_rss_mb"] = server.rss_mb()
            result["server_processes"] = len(server.pids()) - 1
        finally:
            server.stop()
        result["trail"] = check_trail(accounts)
        vendor = database.vendor
    sub = result["submit"]
    print(
        f"{args.users} applicants arriving over {args.spread} s: all {result['wall_s']} s; "
        f"submit median {sub.get('median_s')} p95 {sub.get('p95_s')} max {sub.get('max_s')} s; "
        f"journey p95 {result['journey'].get('p95_s')} s; errors {result['errors']} "
        f"{result['error_statuses']}; timeouts {result['timeouts']} "
        f"{result['timeout_kinds']}; trail intact {result['trail']['trail_intact']}; "
        f"one submit each {result['trail']['one_submit_each']}; server CPU "
        f"{result['server_cpu_s']} s, RSS {result['server_rss_mb']} MB; clients' CPU "
        f"{result['clients_cpu_s']} s; load average {result['load_average']}",
        flush=True,
    )
    report = {
        "machine": {"cpu": cpu_model(), "nproc": os.cpu_count()},
        "database": vendor,
        "users": args.users,
        "hasher": getattr(prepare, "hasher", None),
        "hash_cpu_seconds": getattr(prepare, "hash_cpu_seconds", None),
        "passed": passed(result),
        **result,
    }
    print("RESULT " + json.dumps(report, ensure_ascii=False))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
