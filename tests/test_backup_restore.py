"""`backup` then `restore` into a new database: the trail and every certificate verify.

The restore runs as another process, as an operator would run it, against a database
made for the test (a new PostgreSQL database beside the test one, or a new SQLite file).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from funding.states import ProjectStatus as S
from oversight.certificates import judge_file
from oversight.models import Certificate
from trail.checkpoints import make_checkpoint
from trail.models import Event
from trail.signing import create_key_file
from workflows import demo

ROOT = Path(__file__).resolve().parent.parent

# Run in the restored database: what the verification service says of every certificate
# (its stored file, byte for byte and by its signature) and whether every stored file of
# a document still has the SHA-256 of its row.
VERIFY_SCRIPT = """
import json, os, hashlib, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.core.files.storage import default_storage
from documents.models import Attachment
from documents.signing import check_signature
from oversight.certificates import judge_file
from oversight.models import Certificate
certificates = {
    c.serial: [str(judge_file(c, bytes(c.pdf))), str(check_signature(bytes(c.pdf)).state)]
    for c in Certificate.objects.all()
}
files = {}
for a in Attachment.objects.all():
    with default_storage.open(a.file.name, "rb") as f:
        files[a.file.name] = hashlib.sha256(f.read()).hexdigest() == a.sha256
print(json.dumps({"certificates": certificates, "files": files}))
"""


def _new_database(tmp_path: Path):
    """A DATABASE_URL of a new, empty database of the vendor under test, and its remover."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}", lambda: None
    import psycopg

    name = f"{db['NAME']}_restored"
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    server = f"{quote(db['USER'], safe='')}{password}@{db.get('HOST') or '127.0.0.1'}"
    server += f":{db.get('PORT') or 5432}"

    def admin(sql: str) -> None:
        with psycopg.connect(f"postgres://{server}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    return f"postgres://{server}/{name}", lambda: admin(f'DROP DATABASE "{name}" WITH (FORCE)')


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _backup(tmp_path: Path) -> Path:
    call_command("backup", "--dir", str(tmp_path / "backups"), stdout=open(os.devnull, "w"))
    (made,) = (tmp_path / "backups").iterdir()
    return made


def test_a_backup_restores_into_a_new_database_and_everything_verifies(
    transactional_db, county, settings, tmp_path
):
    # A closed project: documents stored, a certificate issued (signed when a key is set),
    # and the trail signed at a checkpoint with a key of the test's own.
    project = demo.draft_project(county, "applicant", "备份恢复验证项目", "300000")
    demo.advance(county, project, S.CLOSED)
    certificate = Certificate.objects.get(project=project)
    assert certificate.sha256
    key_file = tmp_path / "trail-signing.key"
    create_key_file(key_file)
    settings.TRAIL_SIGNING_KEY, settings.TRAIL_SIGNING_KEY_FILE = "", str(key_file)
    make_checkpoint()
    events = Event.objects.count()
    stored_files = sorted(
        str(p.relative_to(settings.MEDIA_ROOT))
        for p in Path(settings.MEDIA_ROOT).rglob("*")
        if p.is_file()
    )
    assert stored_files

    backup = _backup(tmp_path)
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    for name in stored_files:
        assert f"files/{name}" in manifest["files"]

    url, drop = _new_database(tmp_path)
    try:
        env = {
            "DATABASE_URL": url,
            "DJANGO_MEDIA_ROOT": str(tmp_path / "restored-media"),
            "TRAIL_SIGNING_KEY": "",
            "TRAIL_SIGNING_KEY_FILE": str(key_file),
            "CELERY_BROKER_URL": "",
        }
        restored = _manage(env, "restore", str(backup))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        again = _manage(env, "restore", str(backup))  # the database is no longer empty
        assert again.returncode != 0
        assert "--force" in again.stderr  # the message is in the site's language

        trail = _manage(env, "verify_trail")
        assert trail.returncode == 0, trail.stdout + trail.stderr
        assert f"trail intact: {events} events" in trail.stdout

        checked = subprocess.run(
            [sys.executable, "-c", VERIFY_SCRIPT],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert checked.returncode == 0, checked.stderr
        result = json.loads(checked.stdout.strip().splitlines()[-1])
    finally:
        drop()

    # Every certificate verifies as it did before the backup, and every file is whole.
    from documents.signing import check_signature

    before = {
        c.serial: [str(judge_file(c, bytes(c.pdf))), str(check_signature(bytes(c.pdf)).state)]
        for c in Certificate.objects.all()
    }
    assert result["certificates"] == before
    assert {verdict for verdict, _signature in before.values()} == {"genuine"}
    assert result["files"] and all(result["files"].values())


@pytest.fixture
def backup(transactional_db, county, tmp_path, settings, english):
    (Path(settings.MEDIA_ROOT) / "documents").mkdir(parents=True, exist_ok=True)
    (Path(settings.MEDIA_ROOT) / "documents" / "scan.pdf").write_bytes(b"%PDF-1.7 scan")
    return _backup(tmp_path)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda b: (b / "files" / "documents" / "scan.pdf").write_bytes(b"%PDF-1.7 forged"),
        lambda b: (b / "files" / "documents" / "scan.pdf").unlink(),
        lambda b: (b / "files" / "documents" / "added.pdf").write_bytes(b"%PDF-1.7 added"),
        lambda b: next(b.glob("database.*")).write_bytes(b"not a database"),
    ],
    ids=["file changed", "file removed", "file added", "database changed"],
)
def test_a_tampered_backup_is_refused_before_anything_is_restored(backup, tamper):
    tamper(backup)
    with pytest.raises(CommandError, match="The backup was altered or damaged, nothing restored"):
        call_command("restore", str(backup), "--force")
    with pytest.raises(CommandError, match="altered or damaged"):
        call_command("restore", str(backup), "--check")


def test_a_changed_manifest_is_refused_when_its_sum_is_given(backup):
    manifest = backup / "manifest.json"
    printed = hashlib.sha256(manifest.read_bytes()).hexdigest()
    call_command(
        "restore",
        str(backup),
        "--check",
        "--manifest-sha256",
        printed,
        stdout=open(os.devnull, "w"),
    )
    manifest.write_text(manifest.read_text().replace('"format"', '"format" ', 1))
    with pytest.raises(CommandError, match="manifest's SHA-256 is not the one given"):
        call_command("restore", str(backup), "--manifest-sha256", printed)


def test_a_database_with_tables_is_refused_without_force(backup):
    with pytest.raises(CommandError, match="already has tables.*--force"):
        call_command("restore", str(backup))


def test_a_directory_that_is_no_backup_is_refused(tmp_path, db, english):
    with pytest.raises(CommandError, match="is not a backup"):
        call_command("restore", str(tmp_path))
