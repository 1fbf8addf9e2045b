"""Benchmark the project lifecycle: transitions/s and SQL statements per transition.

Two measurements, on two separate sets of projects of the same throwaway county:

1. ``workflows.lifecycle.fire()``: the bare state machine (row lock, guards, veto check,
   state change, trail event). It does not move the viewflow process, so these projects
   never get one.
2. ``workflows.actions.perform()``: the same transition plus the viewflow inbox
   bookkeeping (closing the open task, routing, opening the next one).

Both walk the main path of ``workflows.demo._happy_path`` (submit ... issue_certificate),
one step at a time across all projects. The database is a fresh one made for the run and
removed after it: a temporary SQLite file, or a PostgreSQL database named ``*_bench``
when DATABASE_URL points at PostgreSQL. The demo database is never touched.

    .venv/bin/python bench/bench_lifecycle.py [--n 200] [--explain-queries [all]]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kjjg_bench .venv/bin/python bench/...

The floor: for each transition, the SQL of one call (what runs on its commit included) is
captured from a rehearsal rolled back, then replayed ``--replay`` times through the raw
DB-API cursor, each time in a transaction rolled back, plus the cost of one committed
write (the replay cannot commit). ``ms`` over ``floor ms`` is then what Python costs:
Django, viewflow and our code, beside the database's own share, measured in the same run.

Counted statements are those Django sends through its cursor (SELECT, INSERT, UPDATE,
SAVEPOINT ...). Transaction control (BEGIN, COMMIT, ROLLBACK) is left out of the counts:
Django logs it on SQLite but PostgreSQL's driver opens the transaction implicitly, so
counting it would make the two databases disagree by one for the same work.
The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TARGET_QUERIES = 8  # from the issue: at most 8 SQL statements per transition


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="projects per measured set")
    parser.add_argument(
        "--explain-queries",
        nargs="?",
        const="over",
        choices=["over", "all"],
        help="print the SQL of the worst instance of each transition over the target "
        "(or of every transition with 'all')",
    )
    parser.add_argument(
        "--fresh-actors",
        action="store_true",
        help="reload the acting user before every call, as a web request does "
        "(adds the role lookup that is otherwise cached on the user object)",
    )
    parser.add_argument(
        "--replay",
        type=int,
        default=30,
        metavar="N",
        help="replay the SQL of one call of each transition N times for the floor (0: skip)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    return parser.parse_args(argv)


# --- the throwaway database ------------------------------------------------------------


class ThrowawayDatabase:
    """Point DATABASE_URL at a fresh database before Django starts; remove it after."""

    def __init__(self, keep: bool = False):
        self.keep = keep
        self.original = os.environ.get("DATABASE_URL", "")
        self.vendor = "sqlite"
        self.path: str | None = None
        self.pg_admin_url: str | None = None
        self.pg_name: str | None = None

    def __enter__(self):
        url = self.original
        if url.startswith(("postgres://", "postgresql://", "pgsql://")):
            self.vendor = "postgresql"
            parts = urlsplit(url)
            name = parts.path.lstrip("/") or "kjjg"
            # Never the configured database itself: always one whose name says bench.
            self.pg_name = name if "bench" in name else f"{name}_bench"
            self.pg_admin_url = urlunsplit(parts._replace(path="/postgres"))
            self._pg(f'DROP DATABASE IF EXISTS "{self.pg_name}"')
            self._pg(f'CREATE DATABASE "{self.pg_name}"')
            os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + self.pg_name))
        elif url and not url.startswith("sqlite"):
            raise SystemExit(f"bench_lifecycle: unsupported DATABASE_URL {url!r}")
        else:
            fd, self.path = tempfile.mkstemp(prefix="kjjg_bench_", suffix=".sqlite3")
            os.close(fd)
            os.environ["DATABASE_URL"] = f"sqlite:///{self.path}"
        return self

    def _pg(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def __exit__(self, *exc):
        from django.db import connections

        connections.close_all()
        if self.keep:
            print(f"kept the bench database: {os.environ['DATABASE_URL']}")
        elif self.vendor == "postgresql":
            self._pg(f'DROP DATABASE IF EXISTS "{self.pg_name}"')
        elif self.path:
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(self.path + suffix)
                except FileNotFoundError:
                    pass
        if self.original:
            os.environ["DATABASE_URL"] = self.original
        else:
            os.environ.pop("DATABASE_URL", None)
        return False


# --- measuring ---------------------------------------------------------------------------


_TX_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


class Stats:
    """Per-name timings and statement counts, with the SQL of the worst call kept."""

    def __init__(self):
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.queries: dict[str, list[int]] = defaultdict(list)
        self.worst_sql: dict[str, list[str]] = {}
        self.order: list[str] = []
        self.floor: dict[str, dict] = {}  # name -> the replay of one call's SQL
        self.commit_s = 0.0  # one committed write, which a replay cannot include

    def add(self, name: str, seconds: float, captured: list[dict]) -> None:
        if name not in self.order:
            self.order.append(name)
        captured = [q for q in captured if q["sql"].strip().upper() not in _TX_CONTROL]
        count = len(captured)
        if count == 0:
            raise RuntimeError(f"no statements captured for {name}: the query log is broken")
        if not self.queries[name] or count > max(self.queries[name]):
            self.worst_sql[name] = [q["sql"] for q in captured]
        self.seconds[name].append(seconds)
        self.queries[name].append(count)

    def add_floor(self, name: str, statements: list[str], replays: list[float]) -> None:
        self.floor[name] = {
            "statements": len(statements),
            "ms_replay": round(1000 * statistics.median(replays), 3),
        }

    def floor_ms(self, name: str) -> float | None:
        floor = self.floor.get(name)
        return None if floor is None else floor["ms_replay"] + 1000 * self.commit_s

    def rows(self, names=None) -> list[dict]:
        out = []
        for name in names or self.order:
            secs, qs = self.seconds[name], self.queries[name]
            row = {
                "name": name,
                "calls": len(qs),
                "queries_max": max(qs),
                "queries_median": statistics.median_low(qs),
                "queries_mean": round(statistics.fmean(qs), 2),
                "ms_mean": round(1000 * statistics.fmean(secs), 3),
                "ms_p95": round(1000 * _percentile(secs, 95), 3),
                "per_s": round(len(secs) / sum(secs), 1),
            }
            floor_ms = self.floor_ms(name)
            if floor_ms is not None:
                row["floor"] = {
                    **self.floor[name],
                    "ms": round(floor_ms, 3),
                    "per_s": round(1000 / floor_ms, 1),
                    "ratio": round(row["ms_mean"] / floor_ms, 2),
                }
            out.append(row)
        return out

    def overall(self, names=None) -> dict:
        names = names or self.order
        secs = [s for n in names for s in self.seconds[n]]
        qs = [q for n in names for q in self.queries[n]]
        overall = {
            "calls": len(qs),
            "queries_mean": round(statistics.fmean(qs), 2),
            "queries_max": max(qs),
            "per_s": round(len(secs) / sum(secs), 1),
            "seconds": round(sum(secs), 3),
        }
        if all(n in self.floor for n in names):
            # The same mix of calls, each at its replay's time.
            floor_s = sum(len(self.seconds[n]) * self.floor_ms(n) / 1000 for n in names)
            overall["floor"] = {
                "per_s": round(len(secs) / floor_s, 1),
                "commit_ms": round(1000 * self.commit_s, 3),
                "ratio": round(sum(secs) / floor_s, 2),
            }
        return overall


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def _print_table(title: str, rows: list[dict], overall: dict) -> None:
    print(f"\n{title}")
    header = f"{'transition':<24}{'calls':>7}{'q max':>7}{'q med':>7}{'q mean':>8}{'ms mean':>10}"
    header += f"{'ms p95':>9}{'per s':>9}"
    floors = all("floor" in r for r in rows)
    if floors:
        header += f"{'floor ms':>10}{'floor/s':>9}{'x floor':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        flag = "  > target" if r["queries_max"] > TARGET_QUERIES else ""
        if r["queries_median"] > TARGET_QUERIES:
            flag = "  > target (always)"
        elif flag:
            flag = "  > target (some calls)" if r["queries_median"] < r["queries_max"] else flag
        floor = ""
        if floors:
            f = r["floor"]
            floor = f"{f['ms']:>10}{f['per_s']:>9}{f['ratio']:>9}"
        print(
            f"{r['name']:<24}{r['calls']:>7}{r['queries_max']:>7}{r['queries_median']:>7}"
            f"{r['queries_mean']:>8}"
            f"{r['ms_mean']:>10}{r['ms_p95']:>9}{r['per_s']:>9}{floor}{flag}"
        )
    print("-" * len(header))
    floor = ""
    if "floor" in overall:
        f = overall["floor"]
        floor = f"{'':>10}{f['per_s']:>9}{f['ratio']:>9}"
    print(
        f"{'all':<24}{overall['calls']:>7}{overall['queries_max']:>7}{'':>7}"
        f"{overall['queries_mean']:>8}{'':>10}{'':>9}{overall['per_s']:>9}{floor}"
    )


def _print_sql(title: str, stats: Stats, mode: str) -> None:
    for name in stats.order:
        worst = stats.worst_sql[name]
        if mode == "over" and len(worst) <= TARGET_QUERIES:
            continue
        print(f"\n-- {title}: {name}, worst call, {len(worst)} statements")
        for i, sql in enumerate(worst, 1):
            sql = " ".join(sql.split())
            print(f"  {i:>2}. {sql if len(sql) <= 400 else sql[:400] + ' …'}")


# --- the floor: the same SQL, replayed ---------------------------------------------------


def _is_savepoint(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))


def rehearse(connection, call, *args, **kwargs) -> list[str]:
    """The SQL one call sends, what runs on its commit included, from a run rolled back.

    The call runs inside an outer transaction, so its own block is a savepoint (not sent
    by the real call: dropped here); its on-commit callbacks run before the rollback,
    where their blocks are savepoints too (BEGIN/COMMIT in the real call, not counted)."""
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        call(*args, **kwargs)
        in_call = len(ctx.captured_queries)
        for _sids, func, _robust in list(connection.run_on_commit):
            func()
        transaction.set_rollback(True)
    statements = [q["sql"] for q in ctx.captured_queries]
    statements = [q for q in statements if q.strip().upper() not in _TX_CONTROL]
    own = statements[0] if statements and _is_savepoint(statements[0]) else None
    own_release = "RELEASE " + own if own else None
    return [
        sql
        for i, sql in enumerate(statements)
        if sql not in (own, own_release) and not (i >= in_call and _is_savepoint(sql))
    ]


def replay(connection, statements: list[str], times: int) -> list[float]:
    """Seconds per replay of `statements` through the raw DB-API cursor (no Django, no
    model code), each replay in a transaction rolled back, so every one starts from the
    same data. Rows are fetched, as Django would."""
    raw = connection.connection  # in autocommit: BEGIN/ROLLBACK are ours
    cursor = raw.cursor()
    seconds = []
    try:
        for _ in range(times):
            start = time.perf_counter()
            cursor.execute("BEGIN")
            for sql in statements:
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()
            cursor.execute("ROLLBACK")
            seconds.append(time.perf_counter() - start)
    finally:
        cursor.close()
    return seconds


def commit_seconds(connection, times: int = 200) -> float:
    """Median time of one tiny committed write: the log flush a replay cannot include."""
    cursor = connection.connection.cursor()
    cursor.execute("CREATE TABLE bench_commit (n integer)")  # the throwaway database's
    seconds = []
    try:
        for n in range(times):
            start = time.perf_counter()
            cursor.execute("BEGIN")
            cursor.execute(f"INSERT INTO bench_commit VALUES ({n})")
            cursor.execute("COMMIT")
            seconds.append(time.perf_counter() - start)
    finally:
        cursor.execute("DROP TABLE bench_commit")
        cursor.close()
    return statistics.median(seconds)


# --- the run -----------------------------------------------------------------------------


def main(argv=None) -> int:
    args = _parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The certificate PDF is a Celery task queued on commit. Queue it (in-process memory
    # broker unless CELERY_BROKER_URL is set) instead of rendering it inside the timed call:
    # bench_certificate_pdf.py measures the rendering.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    _read_dotenv()

    with ThrowawayDatabase(keep=args.keep) as db:
        import django

        django.setup()
        return _run(args, db)


def _run(args, db) -> int:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.urls import get_resolver

    from accounts.models import User
    from funding import services as funding
    from funding.models import Project
    from workflows import demo
    from workflows.actions import perform, submit_expert_review
    from workflows.lifecycle import fire, lock_project

    # kombu warns that the in-memory broker has no host name; that is expected here.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    county = demo.create_county()
    path = demo._happy_path(county)

    def make_projects(label: str) -> list[Project]:
        projects = []
        for i in range(args.n):
            amount = f"{200000 + (i % 9) * 50000}"
            applicant = "applicant" if i % 2 == 0 else "applicant2"
            projects.append(demo.draft_project(county, applicant, f"{label} {i:04d}", amount))
        return projects

    fire_set, perform_set = make_projects("基准状态机"), make_projects("基准流程")
    # Loaded as in a running server: the first notification links to a page, and the
    # URLconf it loads imports the PDF engine (seconds, once), inside the first call.
    get_resolver().reverse_dict  # noqa: B018
    setup_s = time.perf_counter() - t0
    version = _db_version(connection)
    print(f"bench_lifecycle: {db.vendor} {version}, {args.n} projects per set", end="")
    print(f", setup {setup_s:.1f}s")

    def walk(projects, call, stats: Stats, review) -> list[Project]:
        for state, name, who, kwargs in path:
            if name == "finish_expert_review":
                for project in projects:
                    for assignment in project.assignments.filter(declined_at=None):
                        review(project, assignment.expert, stats)
            for i, project in enumerate(projects):
                # The same preparation as demo.advance (draws, notice, panel votes),
                # outside the measured call.
                step, actor, kw = demo.prepare_step(
                    county, project, name, who, kwargs, reviews=False
                )
                if args.replay and i == len(projects) - 1:  # caches as warm as for the others
                    rehearsal_actor = User.objects.get(pk=actor.pk) if args.fresh_actors else actor
                    sql = rehearse(connection, call, project.pk, step, rehearsal_actor, **kw)
                    stats.add_floor(step, sql, replay(connection, sql, args.replay))
                if args.fresh_actors:
                    actor = User.objects.get(pk=actor.pk)
                connection.queries_log.clear()  # a full log would make the capture empty
                with CaptureQueriesContext(connection) as ctx:
                    start = time.perf_counter()
                    project = call(project.pk, step, actor, **kw)
                    elapsed = time.perf_counter() - start
                assert project.status == state, (name, project.status)
                stats.add(step, elapsed, ctx.captured_queries)
                projects[i] = project
        return projects

    # 1. The bare state machine. Reviews go straight to the service (no process exists).
    def review_direct(project, expert, stats):
        with transaction.atomic():
            locked = lock_project(project.pk)
            funding.record_review(
                locked, expert, 85, "选题意义明确，技术路线可行。", no_conflict=True
            )

    fire_stats = Stats()
    if args.replay:
        fire_stats.commit_s = commit_seconds(connection)
    walk(fire_set, fire, fire_stats, review_direct)

    # 2. Transition plus the viewflow inbox bookkeeping.
    review_stats = Stats()

    def review_action(project, expert, stats):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            submit_expert_review(
                project.pk, expert, 85, "选题意义明确，技术路线可行。", no_conflict=True
            )
            elapsed = time.perf_counter() - start
        review_stats.add("submit_expert_review", elapsed, ctx.captured_queries)

    perform_stats = Stats()
    perform_stats.commit_s = fire_stats.commit_s
    walk(perform_set, perform, perform_stats, review_action)

    from trail.services import verify_chain

    problems = verify_chain()
    if problems:
        print(f"WARNING: the trail has {len(problems)} problem(s) after the run")

    names = fire_stats.order
    over = [r["name"] for r in fire_stats.rows() if r["queries_max"] > TARGET_QUERIES]
    _print_table(
        f"lifecycle.fire() — bare transitions ({db.vendor})",
        fire_stats.rows(),
        fire_stats.overall(),
    )
    _print_table(
        f"actions.perform() — transition + viewflow tasks ({db.vendor})",
        perform_stats.rows(),
        perform_stats.overall(),
    )
    _print_table(
        "actions.submit_expert_review() — not a transition; closes the expert's task",
        review_stats.rows(),
        review_stats.overall(),
    )
    print(
        f"\nTarget: <= {TARGET_QUERIES} statements per fire(). "
        + (f"Over the target: {', '.join(over)}." if over else "Every transition meets it.")
    )
    print("Counts exclude BEGIN/COMMIT/ROLLBACK; timings include Django's query capture.")
    if args.replay:
        print(
            f"floor: the SQL of one call per transition replayed raw ({args.replay} times, "
            f"median) plus one committed write ({1000 * fire_stats.commit_s:.3f} ms); "
            "x floor: the call's mean time over it."
        )
    if args.fresh_actors:
        print("Actors reloaded before every call (role lookup not cached).")
    if problems:
        print("Trail verification: FAILED")
    if args.explain_queries:
        _print_sql("fire()", fire_stats, args.explain_queries)
        _print_sql("perform()", perform_stats, args.explain_queries)
        _print_sql("submit_expert_review()", review_stats, args.explain_queries)

    result = {
        "bench": "lifecycle",
        "database": {"vendor": db.vendor, "version": version},
        "projects_per_set": args.n,
        "fresh_actors": args.fresh_actors,
        "replays": args.replay,
        "target_queries_per_transition": TARGET_QUERIES,
        "fire": {"overall": fire_stats.overall(), "transitions": fire_stats.rows(names)},
        "perform": {"overall": perform_stats.overall(), "actions": perform_stats.rows(names)},
        "submit_expert_review": review_stats.overall(),
        "fire_over_target": over,
        "trail_intact": not problems,
    }
    print("RESULT " + json.dumps(result, ensure_ascii=False))
    return 0


def _read_dotenv() -> None:
    """Load .env as the settings would, so a DATABASE_URL kept there picks the vendor."""
    try:
        import environ
    except ImportError:
        return
    environ.Env.read_env(ROOT / ".env", overwrite=False)


def _db_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        return str(cursor.fetchone()[0])


if __name__ == "__main__":
    sys.exit(main())
