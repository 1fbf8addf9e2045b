"""Benchmark the fund trail page of a project with 100,000 expenditure entries.

    .venv/bin/python bench/bench_fund_trail.py [--entries 100000] [--requests 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kjjg_bench .venv/bin/python bench/...

A fresh throwaway database (as bench_lifecycle.py makes it: a temporary SQLite file, or a
PostgreSQL database named ``*_bench``), the demo county, one running project of 600,000
yuan, then --entries vouchers written with bulk_create (the setup, not measured). The
mix is a stress case: spending far beyond what was disbursed and past two categories'
budgets (so nearly every voucher is flagged), besides a few hundred duplicate voucher
numbers and some payments outside the period, in cash, to the team, to vague payees and
split under the approval threshold.

Then --requests GETs of the page through Django's test client as bureau staff (who see
every project's fund trail), for the first page of vouchers and for a page in the
middle: median and p95 wall-clock time, SQL statements per request (all of them,
sessions and the user included), and the size of the HTML. The last line is
``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

from bench_lifecycle import ThrowawayDatabase, _db_version, _read_dotenv
from machine import cpu_model  # bench/ is this script's directory

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 200  # issues 9 and 10: the fund trail of 100,000 entries within 200 ms


def _parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000, help="vouchers of the project")
    parser.add_argument("--requests", type=int, default=20, help="GETs measured per page")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = _parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    _read_dotenv()
    with ThrowawayDatabase(keep=args.keep) as db:
        import django

        django.setup()
        return _run(args, db)


def _entries(project, n: int) -> list:
    """n vouchers of `project`, the stress mix of the module's docstring."""
    from funding.models import Expenditure

    rng = random.Random(9)
    today = datetime.date.today()
    days = (min(today, project.end_date) - project.start_date).days
    categories = ["operations"] * 5 + ["equipment"] * 2 + ["labour"] * 2 + ["indirect"]
    methods = ["transfer"] * 8 + ["card", "cash"]
    team = project.team.values_list("name", flat=True).first() or project.pi.real_name
    rows = []
    for i in range(n):
        entry = Expenditure(
            project=project,
            voucher_no=f"JZ-{i:06d}",
            spent_on=project.start_date + datetime.timedelta(days=rng.randrange(days + 1)),
            category=rng.choice(categories),
            payee=f"供应商{rng.randrange(300):03d}有限公司",
            method=rng.choice(methods),
            amount=Decimal(rng.randrange(100, 900)) / 100,
        )
        if i % 200 == 199:  # a voucher number used twice
            entry.voucher_no = rows[-1].voucher_no
        if i % 1000 == 500:
            entry.spent_on = project.start_date - datetime.timedelta(days=5)
        if i % 2000 == 700:
            entry.payee = team
        if i % 2500 == 900:
            entry.method, entry.amount = "cash", Decimal("6000.00")
        if i % 10000 == 1100:
            entry.payee, entry.amount = "个人", Decimal("50000.00")
        if i % 20000 == 1300:  # three payments within a week, each under 50,000
            base = project.start_date + datetime.timedelta(days=40 + i // 20000)
            for k in range(3):
                rows.append(
                    Expenditure(
                        project=project,
                        voucher_no=f"SP-{i}-{k}",
                        spent_on=base + datetime.timedelta(days=k),
                        category="equipment",
                        payee=f"拆分设备公司{i}",
                        method="transfer",
                        amount=Decimal("46000.00"),
                    )
                )
        rows.append(entry)
    return rows[:n]


def _time(client, url: str, n: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds, queries, size = [], [], 0
    for _ in range(n):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            body = response.content
            seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        queries.append(len(captured.captured_queries))
        size = len(body)
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(p95, 1),
        "min_ms": round(ms[0], 1),
        "queries": max(queries),
        "queries_min": min(queries),
        "html_kib": round(size / 1024, 1),
    }


def _run(args, db) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from funding.models import Expenditure
    from funding.states import ProjectStatus as S
    from workflows import demo

    setup_test_environment()  # the test client's host, and its captured templates
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    county = demo.create_county()
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "经费基准项目", "600000"), S.IN_PROGRESS
    )
    Expenditure.objects.bulk_create(_entries(project, args.entries), batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    setup_s = time.perf_counter() - t0
    print(
        f"bench_fund_trail: {db.vendor} {_db_version(connection)}, "
        f"{project.expenditures.count()} entries, setup {setup_s:.1f}s"
    )

    client = Client()
    client.force_login(county.users["staff"])
    url = reverse("project-funds", args=[project.pk])
    client.get(url)  # warm-up: templates compiled, translations loaded
    middle = max(args.entries // 200, 1)  # 100 vouchers a page: a page in the middle
    pages = {
        "first_page": _time(client, url, args.requests),
        "middle_page": _time(client, f"{url}?page={middle}", args.requests),
    }
    for name, row in pages.items():
        print(
            f"{name:<12} median {row['median_ms']} ms, p95 {row['p95_ms']} ms, "
            f"{row['queries']} statements, {row['html_kib']} KiB of HTML"
        )
    result = {
        "bench": "fund_trail",
        "cpu": cpu_model(),
        "database": db.vendor,
        "entries": args.entries,
        "requests": args.requests,
        "target_ms": TARGET_MS,
        **pages,
    }
    print("RESULT " + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
