"""Shared fixtures: a demo county built through the real services, and eager Celery."""

from __future__ import annotations

import pytest

from workflows import demo

# The browser tests' fixtures (a Chromium page; live-server connections closed at the end).
from .browser_support import browser_page, live_server_connections_closed_at_the_end  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def celery_runs_tasks_in_process():
    """Run Celery tasks in-process: CI sets a Redis broker, but no worker listens to it.

    tests/test_celery_worker.py turns this off for its own test and starts a real worker.
    """
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The demo county creates eleven accounts per test; PBKDF2 would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def media_outside_the_tree(settings, media_dir):
    """Attached files (demo.advance attaches the reports, issue 8) go to a temporary
    directory, never var/media; a test may point MEDIA_ROOT at its own."""
    settings.MEDIA_ROOT = str(media_dir)


@pytest.fixture
def client_en(client):
    """The test client reading the site in English (zh-hans is the default)."""
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def county(db):
    """Users of every role, their organisations, an open call and a closed one."""
    return demo.create_county()


@pytest.fixture
def draft(county):
    """A 600,000-yuan draft by `applicant` (above the special-audit threshold)."""
    return demo.draft_project(county, "applicant", "水稻病虫害智能监测预警技术研究", "600000")


@pytest.fixture
def staff(county):
    return county.users["staff"]


@pytest.fixture
def leader(county):
    return county.users["leader"]


@pytest.fixture
def applicant(county):
    return county.users["applicant"]


@pytest.fixture
def english():
    """Messages in English, whatever translations are compiled, so tests can read them."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def test_database_url(transactional_db) -> str:
    """A DATABASE_URL for other processes that points at this run's *test* database."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("other processes can share only a PostgreSQL test database")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{quote(db['USER'], safe='')}{password}@{host}:{port}/{db['NAME']}"
