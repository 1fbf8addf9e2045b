"""Health and readiness probes (ops.health), and the deploy/ files that run the site.

`/health/` says the process answers; `/ready/` checks the database, the storage and the
broker. Both are open without sign-in and say only ok or failing per check. The deploy
files are not run here: each is parsed (and nginx's site checked by `nginx -t` when nginx
is installed) and compared with the settings it must agree with.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def no_broker(settings):
    settings.CELERY_BROKER_URL = "memory://"


def answer(response) -> dict:
    return json.loads(response.content)


# --- liveness ------------------------------------------------------------------------------


def test_liveness_answers_ok_without_sign_in_and_without_the_database(client):
    # No database fixture: a single query would fail this test.
    response = client.get("/health/")
    assert response.status_code == 200
    assert answer(response) == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response  # the security middleware still ran


def test_probes_take_no_posts(client, db):
    assert client.post("/health/").status_code == 405
    assert client.post("/ready/").status_code == 405


# --- readiness -----------------------------------------------------------------------------


def test_readiness_checks_the_database_and_the_storage(client, db, no_broker):
    response = client.get(reverse("ready"))
    assert response.status_code == 200
    assert answer(response) == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"),
    reason="no Redis broker configured (CI sets one)",
)
def test_readiness_pings_the_redis_broker_when_one_is_set(client, db, settings):
    settings.CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]
    response = client.get("/ready/")
    assert response.status_code == 200
    assert answer(response)["checks"] == {"database": "ok", "storage": "ok", "broker": "ok"}


def test_an_unreachable_broker_fails_readiness_and_says_nothing_more(client, db, settings):
    settings.CELERY_BROKER_URL = UNREACHABLE_REDIS
    response = client.get("/ready/")
    assert response.status_code == 503
    assert answer(response) == {
        "status": "failing",
        "checks": {"database": "ok", "storage": "ok", "broker": "failing"},
    }
    body = response.content.decode()
    for detail in ("127.0.0.1", "6379", "redis", "refused", "Error"):
        assert detail not in body
    # Liveness does not depend on the broker: the process is still alive.
    assert client.get("/health/").status_code == 200


def test_a_storage_that_cannot_store_fails_readiness(client, db, no_broker, settings, tmp_path):
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("a file where the storage's folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(not_a_folder)},
        },
    }
    response = client.get("/ready/")
    assert response.status_code == 503
    assert answer(response) == {
        "status": "failing",
        "checks": {"database": "ok", "storage": "failing"},
    }
    assert str(tmp_path) not in response.content.decode()


def test_an_unreachable_database_fails_readiness(tmp_path):
    # Another process: this one's database connection is the test database's.
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "django.setup(); from django.test import Client; r = Client().get('/ready/');"
        "print(r.status_code, r.content.decode())"
    )
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://kjjg:secret@127.0.0.1:1/kjjg",
        "CELERY_BROKER_URL": "",
        "DJANGO_MEDIA_ROOT": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503", result.stderr
    assert json.loads(body) == {
        "status": "failing",
        "checks": {"database": "failing", "storage": "ok"},
    }
    assert "secret" not in body and "5432" not in body


def test_the_health_check_command_runs_the_readiness_checks(tmp_path):
    # What a container's health check can run without HTTP (deploy/compose.yaml notes).
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "DJANGO_MEDIA_ROOT": str(tmp_path),
    }
    command = [sys.executable, "manage.py", "health_check", "ready", "--no-http"]
    ok = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    env["CELERY_BROKER_URL"] = UNREACHABLE_REDIS
    failing = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert failing.returncode == 1


# --- through the production middleware ---------------------------------------------------


def test_probes_answer_plain_http_where_everything_else_goes_to_https(
    client, db, no_broker, settings
):
    settings.SECURE_SSL_REDIRECT = True  # as with DJANGO_SECURE=1
    assert client.get("/").status_code == 301
    assert client.get("/health/").status_code == 200
    assert client.get("/ready/").status_code == 200


def test_a_half_signed_in_person_still_gets_the_probes(client, county, no_broker, settings):
    # Two-factor sign-in required and not yet set up: every page leads to the setup.
    settings.TWO_FACTOR_REQUIRED = True
    client.force_login(county.users["staff"])
    assert client.get("/").status_code == 302
    assert client.get("/health/").status_code == 200
    assert client.get("/ready/").status_code == 200


# --- the deploy files ----------------------------------------------------------------------


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text())
    assert {"Unit", "Service", "Install"} <= set(parser.sections())
    return parser


def test_the_systemd_units_parse_and_start_what_the_project_has(settings):
    web = unit("kjjg-web.service")["Service"]["ExecStart"]
    assert "gunicorn --config config/gunicorn.conf.py config.wsgi:application" in web
    worker = unit("kjjg-worker.service")["Service"]["ExecStart"]
    assert f"celery -A config worker -Q {settings.CELERY_TASK_DEFAULT_QUEUE}" in worker
    beat = unit("kjjg-beat.service")["Service"]["ExecStart"]
    assert "celery -A config beat" in beat
    assert (ROOT / "config" / "gunicorn.conf.py").is_file()
    assert (ROOT / "config" / "celery.py").is_file()


def test_the_gunicorn_settings_follow_the_core_count():
    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert conf["worker_class"] == "gthread"
    assert conf["workers"] >= 2 and conf["threads"] >= 2
    assert conf["timeout"] > 0 and conf["graceful_timeout"] > 0
    assert "%(M)s" in conf["access_log_format"]


def test_the_compose_file_parses_and_names_every_service():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat", "migrate"} <= set(services)
    assert "gunicorn" in services["web"]["command"][0]
    assert services["worker"]["command"][:5] == [".venv/bin/celery", "-A", "config", "worker", "-Q"]
    assert "beat" in services["beat"]["command"]
    assert "/health/" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["environment"]["SIGN_IN_PROXY_COUNT"] == "1"
    build = services["web"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_the_image_installs_the_system_packages_of_the_makefile():
    makefile = (ROOT / "Makefile").read_text()
    packages = re.search(r"^APT_PACKAGES := (.+)$", makefile, re.M).group(1).split()
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    test_only = {"chromium", "poppler-utils"}  # browser tests and PDF pictures in tests
    for package in set(packages) - test_only:
        assert re.search(rf"\b{re.escape(package)}\b", dockerfile), package


def _largest_upload(settings) -> int:
    return max(
        settings.DOCUMENT_MAX_BYTES,
        *settings.DOCUMENT_KIND_MAX_BYTES.values(),
        settings.LEDGER_IMPORT_MAX_BYTES,
    )


def test_the_nginx_site_limits_uploads_above_the_largest_document_and_serves_no_media(settings):
    site = (DEPLOY / "nginx" / "kjjg.conf").read_text()
    limit = re.search(r"client_max_body_size (\d+)m;", site)
    assert limit and int(limit.group(1)) * 1024 * 1024 > _largest_upload(settings)
    assert re.search(r"location \^~ /media/ \{\s*return 404;", site)
    assert str(settings.STATIC_URL).strip("/") in site and "/var/static/" in site
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in site
    assert "X-Forwarded-Proto $scheme" in site


def test_the_nginx_site_passes_nginx_t(tmp_path):
    # NGINX itself is a variable nginx reads (inherited sockets): another name here.
    nginx = os.environ.get("NGINX_BINARY") or shutil.which("nginx")
    if not nginx:
        pytest.skip("nginx is not installed")
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kjj.example.gov.cn")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    site = (DEPLOY / "nginx" / "kjjg.conf").read_text()
    site = site.replace("/etc/ssl/kjjg/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/ssl/kjjg/privkey.pem", str(tmp_path / "key.pem"))
    (tmp_path / "kjjg.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nevents {{}}\n"
        f"http {{ {temp} access_log {tmp_path / 'access.log'};\n"
        f"include {tmp_path / 'kjjg.conf'}; }}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", "stderr"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
