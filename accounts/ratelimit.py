"""A count per key and hour in the default cache, for forms anyone may send."""

from __future__ import annotations

from django.core.cache import cache

HOUR = 3600


def within_rate(key: str, per_hour: int) -> bool:
    """Count one more in this hour's window (the default cache); False beyond the rate."""
    cache.add(key, 0, HOUR)
    try:
        return cache.incr(key) <= per_hour
    except ValueError:  # expired between add and incr
        cache.set(key, 1, HOUR)
        return True
