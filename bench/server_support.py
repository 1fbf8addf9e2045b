"""What bench_server.py and bench_rush.py share: the applicants, gunicorn, the summaries.

bench/ is on sys.path when a bench script runs (its own directory); tests/test_rush.py
puts it there to run the rush at CI scale.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-0123"  # noqa: S105 - a throwaway database's accounts
CLIENT_TIMEOUT = 30.0
# What the rush's call requires before a submission (both attached to every draft).
RUSH_DOCUMENTS = ("application_form", "commitment")


def prepare(
    users: int,
    documents: tuple[str, ...] = (),
    *,
    migrate: bool = True,
    legacy_hashes: bool = False,
) -> list[tuple[str, int]]:
    """The demo county plus `users` applicants with a draft each; (username, project id).

    With `documents`, the call requires those kinds and every draft carries them (through
    documents.attachments.attach, as the project page does), so each draft is submittable.
    Every account has the production hasher's hash (Argon2id, accounts.hashers) whatever
    PASSWORD_HASHERS says, so a server with the real settings checks the real cost. With
    `legacy_hashes`, a PBKDF2 hash instead, as accounts made before Argon2id have: each
    sign-in then checks PBKDF2 and re-hashes with Argon2id (the first rush after the
    change, the worst case).
    """
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.contrib.auth.models import Group
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from accounts.hashers import Argon2idHasher
    from accounts.models import User
    from accounts.roles import Role
    from documents.attachments import attach
    from funding.calls import save_call
    from workflows import demo

    if migrate:  # a fresh bench database; a test's is migrated already
        call_command("migrate", verbosity=0)
    county = demo.create_county()
    if documents:
        county.call.required_documents = list(documents)
        save_call(county.call, county.users["staff"])
    hasher = PBKDF2PasswordHasher() if legacy_hashes else Argon2idHasher()
    hashed = hasher.encode(PASSWORD, hasher.salt())  # once: the same hash for every account
    started = time.process_time()
    hasher.verify(PASSWORD, hashed)
    prepare.hash_cpu_seconds = round(time.process_time() - started, 3)
    prepare.hasher = hasher.algorithm
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
        for kind in documents:
            attach(project, kind, ContentFile(demo.DEMO_PDF, name=f"{kind}.pdf"), user)
        accounts.append((name, project.pk))
    return accounts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on loopback with config/gunicorn.conf.py; worker class and counts given,
    or (None) as the configuration file chooses them from the core count."""

    def __init__(
        self,
        worker_class: str | None = None,
        workers: int | None = None,
        threads: int | None = None,
        port: int = 0,
        env: dict | None = None,
    ):
        port = port or free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECURE": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "CELERY_BROKER_URL": "",
            "GUNICORN_ACCESS_LOG": "",
            "GUNICORN_LOG_LEVEL": "warning",
            **(env or {}),
        }
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c"]
        command.append(str(ROOT / "config" / "gunicorn.conf.py"))
        for flag, value in (("-k", worker_class), ("-w", workers), ("--threads", threads)):
            if value is not None:
                command += [flag, str(value)]
        command += ["-b", f"127.0.0.1:{port}", "config.wsgi:application"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)

    def wait_ready(self, seconds: float = 60) -> None:
        import requests

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.process.returncode}")
            try:
                if requests.get(self.url + "/health/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /health/")

    def pids(self) -> list[int]:
        master = self.process.pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
        return [master, *map(int, children)]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the master and its workers so far: what the load
        cost, whatever else the machine's CPUs were busy with."""
        ticks = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return round(total / 1024, 1)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Client:
    """One browser: a session, its cookies, and the timing of each request it makes."""

    def __init__(self, url: str):
        import requests

        self.url = url
        self.session = requests.Session()
        self.timings: list[tuple[str, float, int | str]] = []

    def timed(self, kind: str, method: str, path: str, **kwargs) -> int | str:
        """The status of one request (or "timeout", or the error's name), timed."""
        import requests

        started = time.perf_counter()
        try:
            response = self.session.request(
                method, self.url + path, timeout=CLIENT_TIMEOUT, allow_redirects=False, **kwargs
            )
            status: int | str = response.status_code
        except requests.Timeout:
            status = "timeout"
        except requests.RequestException as error:
            status = type(error).__name__
        self.timings.append((kind, time.perf_counter() - started, status))
        return status

    def csrf(self) -> str:
        return self.session.cookies.get("csrftoken", "")

    def sign_in(self, username: str) -> bool:
        """As a browser does: the form (its CSRF cookie), then the POST."""
        if self.timed("page", "GET", "/login/") != 200:
            return False
        data = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf()}
        return self.timed("sign_in", "POST", "/login/", data=data) == 302


def run_together(client, url: str, accounts: list[tuple[str, int]], out: dict) -> float:
    """One thread per (username, project) running `client(url, name, project, barrier,
    out)`, released together by a barrier; the wall time until the last one ends."""
    barrier = threading.Barrier(len(accounts))
    threads = [
        threading.Thread(target=client, args=(url, name, project, barrier, out))
        for name, project in accounts
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def summary(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    return {
        "median_s": round(statistics.median(ordered), 3),
        "p95_s": round(p95, 3),
        "max_s": round(ordered[-1], 3),
    }
