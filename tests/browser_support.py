"""Debian's Chromium driven by Playwright, for the browser tests (fixtures shared through
tests/conftest.py)."""

from __future__ import annotations

import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def live_server_connections_closed_at_the_end(django_db_setup, django_db_blocker):
    yield  # torn down before django_db_setup drops the test database
    with django_db_blocker.unblock():
        _close_live_server_connections()


@pytest.fixture
def browser_page(monkeypatch, live_server_connections_closed_at_the_end):
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes between browser steps are ordinary synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.set_default_timeout(15000)
        yield page
        browser.close()


def _close_live_server_connections() -> None:
    # The live server's request threads may still hold a PostgreSQL session when the
    # suite ends, which keeps the test database from being dropped. Only then: a test
    # body runs in Playwright's greenlet with a connection of its own, which a cleanup
    # after each test would end under the next test.
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
