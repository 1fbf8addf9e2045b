"""The deadline rush at CI scale: 20 applicants sign in, open their project and submit it
at once against the production server (gunicorn, config/gunicorn.conf.py) on PostgreSQL.

The same code as bench/bench_rush.py (200 applicants, `make bench`). Only PostgreSQL: the
server's processes share this run's test database, which SQLite cannot do under load.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.db import connection, connections

BENCH = Path(__file__).resolve().parent.parent / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import bench_rush  # noqa: E402 - bench/ is put on the path just above
from server_support import RUSH_DOCUMENTS, Server, prepare  # noqa: E402

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the server's processes share the test database (set DATABASE_URL=postgres://…)",
    ),
]

APPLICANTS = 20


@pytest.fixture
def server(test_database_url, settings):
    """gunicorn as `make serve` starts it, on loopback, against this run's test database."""
    env = {"DATABASE_URL": test_database_url, "DJANGO_MEDIA_ROOT": settings.MEDIA_ROOT}
    started = Server(env=env)
    try:
        started.wait_ready()
        yield started
    finally:
        started.stop()  # before the test database is flushed or dropped


def test_twenty_applicants_submit_at_once_without_errors_or_timeouts(server):
    accounts = prepare(APPLICANTS, RUSH_DOCUMENTS, migrate=False)
    connections.close_all()  # committed: the server's processes see every draft

    result = bench_rush.run_rush(server.url, accounts)

    assert result["errors"] == 0, result["error_statuses"]
    assert result["timeouts"] == 0, result["timeout_kinds"]
    assert result["submitted"] == APPLICANTS
    assert result["within_deadline"], result["wall_s"]
    trail = bench_rush.check_trail(accounts)
    assert trail["trail_intact"], trail["trail_problems"]
    assert trail["one_submit_each"], trail
    assert trail["submit_events"] == APPLICANTS
    assert trail["statuses"] == {"unit_review": APPLICANTS}
