"""gunicorn's settings for the production server (`make serve`, deploy/kjjg-web.service).

    .venv/bin/gunicorn -c config/gunicorn.conf.py config.wsgi:application

Every value can be changed through the environment (GUNICORN_*) without editing this file.
Chosen with the measurement in docs/performance.md ("Production server", 2026-11-26):
gthread workers, cores + 1 processes of 8 threads each. A sign-in hashes the password
(then PBKDF2, about 0.23 s of CPU; Argon2id since, about 0.02 s and 19 MiB) and the hash
releases the GIL while it runs, so the threads of one process hash on several cores while
other threads keep serving pages; the rest of a request holds the GIL, hence at least one
process per core. Sync workers made every page wait behind whole sign-ins (page median
4 s against 1–3 s); the same CPU went into every configuration, and each process costs
~155 MB (plus up to 8 × 19 MiB kept for Argon2id's hashing), so more processes bought
nothing.
"""

import os

_cores = os.cpu_count() or 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Behind the TLS proxy on the same machine (deploy/nginx/kjjg.conf); in a container,
# GUNICORN_BIND=0.0.0.0:8000. `make serve` passes -b $(HOST):$(PORT), which wins.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = _env_int("GUNICORN_WORKERS", _cores + 1)
threads = _env_int("GUNICORN_THREADS", 8)
# Connections waiting for a worker; the proxy queues the rest.
backlog = 2048

# gthread: a worker that stops reporting for this long (not a slow request) is restarted.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
# On a restart or a new release (HUP), requests in flight get this long to finish.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Idle keep-alive connections from the proxy stay open this long (seconds).
keepalive = 5
# A worker is replaced after this many requests (and some jitter), so any slow leak of
# memory (WeasyPrint, pyHanko) never builds up.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = 200

# The request line and headers stay within gunicorn's defaults. gunicorn has no limit on
# the size of a request body: the proxy in front enforces it (client_max_body_size 25m,
# above DOCUMENT_MAX_BYTES of 20 MiB and the ledger import's 5 MiB), and Django checks
# every limit again after reading. Never expose gunicorn without that proxy.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Only the proxy on this machine (or the compose network, GUNICORN_FORWARDED_ALLOW_IPS)
# may tell gunicorn the scheme; Django itself reads X-Forwarded-Proto (DJANGO_SECURE) and
# the client address (SIGN_IN_PROXY_COUNT).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs to the console (journald or docker). The access log gives the client as the proxy
# saw it (X-Forwarded-For), the status, the size and the time taken in milliseconds; no
# cookies, no referrer query strings beyond the request line itself.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
proc_name = "kjjg-web"
# Heartbeat files in memory, not on a disk that may stall (the container's /tmp may be one).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def post_worker_init(worker):
    """Import every view (through the URLconf) before the first request, not during it:
    otherwise the first request to each new worker waits a second or two for the imports."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    # The loaded code is kept for the worker's life: move it out of the collector's sight,
    # so a full collection walks only what requests make (the slowest inbox request on
    # the old code went 162 -> 75 ms, docs/performance.md).
    gc.freeze()
