"""Calls released together in threads, for the PostgreSQL race tests."""

from __future__ import annotations

import threading

from django.db import connection
from django.utils import translation


def race(*calls):
    """Run each call in its own thread, released together; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            with translation.override("en"):
                barrier.wait()
                results[index] = call()
        except Exception as error:  # noqa: BLE001 - the outcome is what we inspect
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
