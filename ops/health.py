"""Liveness (`/health/`) and readiness (`/ready/`) probes for the proxy and orchestrator.

Both are open to anyone and say no more than ok or failing: a check's error (which can
name a host, a port or a driver message) goes to the log, never into the answer. The
readiness checks are django-health-check 4.x classes, run concurrently with its timeouts.
"""

from __future__ import annotations

import asyncio

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe
from health_check.checks import Database, Storage
from health_check.views import HealthCheckView

# Seconds a broker ping may take before the probe calls the broker failing.
BROKER_TIMEOUT = 3


@require_safe
def liveness(request):
    """The process answers: nothing else is touched, so it stays cheap and never flaps."""
    response = JsonResponse({"status": "ok"})
    add_never_cache_headers(response)
    return response


def broker_url() -> str | None:
    """The Redis broker to ping; None when tasks run in-process (no CELERY_BROKER_URL)."""
    url = settings.CELERY_BROKER_URL or ""
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


def _redis_factory(url: str):
    from redis.asyncio import Redis as RedisClient

    def make():
        return RedisClient.from_url(
            url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT
        )

    return make


class ReadinessView(HealthCheckView):
    """Ready to serve: the database answers, the storage stores, the broker pings."""

    http_method_names = ["get", "head"]

    def named_checks(self) -> list[tuple[str, object]]:
        checks = [("database", Database()), ("storage", Storage())]
        url = broker_url()
        if url:
            from health_check.contrib.redis import Redis

            checks.append(("broker", Redis(client_factory=_redis_factory(url))))
        return checks

    def get_checks(self):
        # Also what `manage.py health_check ready --no-http` runs.
        for _name, check in self.named_checks():
            yield check

    async def get(self, request, *args, **kwargs):
        named = self.named_checks()
        results = await asyncio.gather(*(check.get_result() for _name, check in named))
        states = {
            name: "failing" if result.error else "ok"
            for (name, _check), result in zip(named, results, strict=True)
        }
        failing = "failing" in states.values()
        return JsonResponse(
            {"status": "failing" if failing else "ok", "checks": states},
            status=503 if failing else 200,
        )
