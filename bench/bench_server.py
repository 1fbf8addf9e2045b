"""Size the production server: concurrent sign-ins and page views against gunicorn.

For each server configuration (worker class, processes, threads) gunicorn is started on
loopback with config/gunicorn.conf.py against a throwaway database holding the demo
county plus N applicants, each with a draft project. Then N clients at once (threads of
this script) each sign in with the real password hasher (PBKDF2, as in production) and
view their inbox, their project and the calls. Reported per configuration: the wall time
for all, sign-in and page latencies (median, p95, max), errors and client timeouts.

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
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_lifecycle import ThrowawayDatabase, _read_dotenv  # bench/ is this script's dir
from machine import cpu_model

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-0123"  # noqa: S105 - a throwaway database's accounts
CLIENT_TIMEOUT = 30.0


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent clients")
    parser.add_argument(
        "--configs",
        default="sync:5:1,gthread:5:4,gthread:2:4,gthread:3:8",
        help="comma-separated worker_class:processes:threads",
    )
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    return parser.parse_args(argv)


def prepare(users: int) -> list[tuple[str, int]]:
    """The demo county plus `users` applicants with a draft each; (username, project id)."""
    from django.contrib.auth.hashers import check_password, make_password
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from accounts.models import User
    from accounts.roles import Role
    from workflows import demo

    call_command("migrate", verbosity=0)
    county = demo.create_county()
    hashed = make_password(PASSWORD)  # hashed once: the same hash for every account
    started = time.process_time()
    check_password(PASSWORD, hashed)
    prepare.hash_cpu_seconds = round(time.process_time() - started, 3)
    group = Group.objects.get(name=Role.APPLICANT.value)
    accounts = []
    for n in range(users):
        name = f"rush{n:03d}"
        user = User.objects.create(
            username=name,
            password=hashed,
            real_name=f"申请人{n}",
            id_number=demo.person_id(200 + n),
            organisation=county.orgs["institute"],
        )
        user.groups.add(group)
        county.users[name] = user
        project = demo.draft_project(county, name, f"县域农业技术研究{n}", "100000")
        accounts.append((name, project.pk))
    return accounts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with config/gunicorn.conf.py and the given worker class and counts."""

    def __init__(self, worker_class: str, workers: int, threads: int, port: int):
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECURE": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "CELERY_BROKER_URL": "",
            "GUNICORN_ACCESS_LOG": "",
            "GUNICORN_LOG_LEVEL": "warning",
        }
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            str(ROOT / "config" / "gunicorn.conf.py"),
            "-k",
            worker_class,
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "config.wsgi:application",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)

    def wait_ready(self, seconds: float = 60) -> None:
        import requests

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/health/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit("bench_server: gunicorn did not answer /health/")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def one_client(url: str, username: str, project: int, barrier, out: dict) -> None:
    """Sign in as a browser does (the form, its CSRF token), then three pages."""
    import requests

    session = requests.Session()
    timings: list[tuple[str, float, int | str]] = []

    def timed(kind: str, method: str, path: str, **kwargs):
        started = time.perf_counter()
        try:
            response = session.request(
                method, url + path, timeout=CLIENT_TIMEOUT, allow_redirects=False, **kwargs
            )
            status: int | str = response.status_code
        except requests.Timeout:
            status = "timeout"
        except requests.RequestException as error:
            status = type(error).__name__
        timings.append((kind, time.perf_counter() - started, status))
        return status

    barrier.wait()
    if timed("page", "GET", "/login/") == 200:
        token = session.cookies.get("csrftoken", "")
        signed_in = timed(
            "sign_in",
            "POST",
            "/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        if signed_in == 302:
            for path in ("/", f"/projects/{project}/", "/calls/"):
                timed("page", "GET", path)
    out[username] = timings


def _summary(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    return {
        "median_s": round(statistics.median(ordered), 3),
        "p95_s": round(p95, 3),
        "max_s": round(ordered[-1], 3),
    }


def run_load(url: str, accounts: list[tuple[str, int]]) -> dict:
    barrier = threading.Barrier(len(accounts))
    out: dict[str, list] = {}
    threads = [
        threading.Thread(target=one_client, args=(url, name, project, barrier, out))
        for name, project in accounts
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    records = [record for timings in out.values() for record in timings]
    expected = {"sign_in": 302, "page": 200}
    errors = [r for r in records if r[2] != "timeout" and r[2] != expected[r[0]]]
    return {
        "wall_s": round(wall, 2),
        "requests": len(records),
        "sign_in": _summary([s for kind, s, status in records if kind == "sign_in"]),
        "page": _summary([s for kind, s, status in records if kind == "page"]),
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
            server = Server(worker_class, workers, threads, args.port or _free_port())
            try:
                server.wait_ready()
                result = run_load(server.url, accounts)
            finally:
                server.stop()
            label = f"{worker_class} {workers}x{threads}"
            runs.append({"config": label, **result})
            print(
                f"{label:>14}: all {result['wall_s']:6.2f} s; sign-in median "
                f"{result['sign_in'].get('median_s')} p95 {result['sign_in'].get('p95_s')} "
                f"max {result['sign_in'].get('max_s')} s; page median "
                f"{result['page'].get('median_s')} p95 {result['page'].get('p95_s')} s; "
                f"errors {result['errors']} timeouts {result['timeouts']}",
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
