"""Production settings pass Django's deployment checklist."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_check_deploy():
    env = {
        **os.environ,
        "DJANGO_SECURE": "1",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "kjj.example.gov.cn",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_model_change_has_its_migration():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, "missing migration:\n" + result.stdout + result.stderr


def test_a_mistyped_api_rate_stops_the_start_with_a_clear_message():
    # Otherwise every API request would fail when DRF first parses it.
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "API_USER_RATE": "1000 per hour"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "write it like 1000/hour" in result.stderr


def test_production_requires_two_factor_unless_told_otherwise():
    def required(**extra) -> str:
        env = {
            **os.environ,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "kjj.example.gov.cn",
            **extra,
        }
        if "TWO_FACTOR_REQUIRED" not in extra:
            env.pop("TWO_FACTOR_REQUIRED", None)
        code = "from django.conf import settings; print(settings.TWO_FACTOR_REQUIRED)"
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip().splitlines()[-1]  # after the shell's own notice

    assert required(DJANGO_SECURE="1") == "True"
    assert required(DJANGO_SECURE="1", TWO_FACTOR_REQUIRED="0") == "False"
    assert required(DJANGO_SECURE="0") == "False"
