"""Backups that restore: the database dump plus every stored file, with SHA-256 sums.

A backup is one directory, ``<BACKUP_DIR>/<UTC timestamp>/``:

- ``database.dump`` (PostgreSQL, ``pg_dump`` custom format) or ``database.sqlite3``
  (SQLite, its online backup API): a consistent copy of the whole database;
- ``files/<name>``: every file of the default storage (local or a bucket), by its name;
- ``manifest.json``: the format, when, the database vendor, and the SHA-256 and size of
  every other file in the directory.

The database is dumped first and the files copied after, so every row's file is in the
copy (a file uploaded meanwhile is there without its row, which is harmless). A backup is
written under ``<timestamp>.partial`` and renamed when complete, so an interrupted one never
looks whole. A restore checks the whole manifest before it touches anything, refuses a
database that already has tables unless forced, then loads the database and the files.

The signing keys (trail checkpoints, documents) are deliberately not in a backup: they are
kept apart from the database (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = "kjjg-backup-v1"
MANIFEST = "manifest.json"
FILES = "files"
DUMPS = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
# Written by the storage probe of /ready/ and deleted at once: nothing to keep.
SKIPPED_PREFIXES = ("health_check_storage_test/",)
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup that cannot be made, or one that must not be restored; the message says why."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    vendor: str
    files: int  # stored files (not counting the database dump)
    bytes: int
    manifest_sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _vendor(using: str) -> str:
    vendor = connections[using].vendor
    if vendor not in DUMPS:
        raise BackupError(
            _("Backups support PostgreSQL and SQLite, not %(vendor)s.") % {"vendor": vendor}
        )
    return vendor


# --- the database ------------------------------------------------------------------------


def _pg_environment(using: str) -> dict[str, str]:
    """libpq's variables for the configured database: no password on a command line."""
    db = connections[using].settings_dict
    env = {**os.environ, "PGDATABASE": db["NAME"]}
    for key, variable in (("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD"), ("HOST", "PGHOST")):
        if db.get(key):
            env[variable] = str(db[key])
    if db.get("PORT"):
        env["PGPORT"] = str(db["PORT"])
    options = db.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(
            _("%(tool)s is not installed: install the PostgreSQL client (postgresql-client).")
            % {"tool": command[0]}
        ) from None
    if result.returncode != 0:
        raise BackupError(
            _("%(tool)s failed: %(error)s")
            % {"tool": command[0], "error": result.stderr.strip() or result.returncode}
        )


def dump_database(target: Path, using: str = "default") -> None:
    vendor = _vendor(using)
    connection = connections[using]
    if vendor == "postgresql":
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target)],
            _pg_environment(using),
        )
        return
    if connection.in_atomic_block:
        # SQLite refuses to copy a database its connection is writing to, and Python's
        # backup() would wait forever: say so instead.
        raise BackupError(_("A SQLite database cannot be backed up inside a transaction."))
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        connection.connection.backup(destination)  # a consistent copy, even while in use
    finally:
        destination.close()


def database_is_empty(using: str = "default") -> bool:
    with connections[using].cursor() as cursor:
        return not connections[using].introspection.table_names(cursor)


def load_database(dump: Path, vendor: str, *, force: bool, using: str = "default") -> None:
    connection = connections[using]
    if vendor == "postgresql":
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
        if force:
            command += ["--clean", "--if-exists"]
        connection.close()
        _run(
            [
                *command,
                "--single-transaction",
                "--dbname",
                connection.settings_dict["NAME"],
                str(dump),
            ],
            _pg_environment(using),
        )
        return
    connection.ensure_connection()
    source = sqlite3.connect(dump)
    try:
        source.backup(connection.connection)  # replaces the whole database, page by page
    finally:
        source.close()
    connection.close()


# --- the stored files ----------------------------------------------------------------------


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or ".." in path.parts:
        raise BackupError(_("Refusing the stored file name %(name)r.") % {"name": name})
    return path


def stored_names(storage: Storage, folder: str = "") -> list[str]:
    """Every file of the storage, by name (local folders and bucket prefixes alike)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # a local storage whose folder was never made
        return []
    names = [f"{folder}{name}" for name in files]
    for sub in folders:
        names += stored_names(storage, f"{folder}{sub}/")
    return sorted(name for name in names if not name.startswith(SKIPPED_PREFIXES))


def copy_stored_files(storage: Storage, target: Path) -> list[str]:
    names = stored_names(storage)
    for name in names:
        destination = target / _safe_name(name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with storage.open(name, "rb") as source, open(destination, "wb") as out:
            for chunk in source.chunks(CHUNK):
                out.write(chunk)
    return names


def _stored_sha256(storage: Storage, name: str) -> str:
    digest = hashlib.sha256()
    with storage.open(name, "rb") as source:
        for chunk in source.chunks(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- making a backup ---------------------------------------------------------------------


def _new_directory(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 100):
        name = stamp if n == 1 else f"{stamp}-{n}"
        if not (root / name).exists() and not (root / f"{name}.partial").exists():
            partial = root / f"{name}.partial"
            partial.mkdir(mode=0o700)  # password hashes and personal data: owner only
            return partial
    raise BackupError(_("Too many backups in the same second in %(root)s.") % {"root": root})


def make_backup(root: Path | None = None, *, using: str = "default") -> BackupSummary:
    """Dump the database, copy the stored files, write the manifest; return the summary."""
    vendor = _vendor(using)
    partial = _new_directory(Path(root or settings.BACKUP_DIR))
    try:
        dump = partial / DUMPS[vendor]
        dump_database(dump, using)
        names = copy_stored_files(default_storage, partial / FILES)
        listed = {
            DUMPS[vendor]: dump,
            **{f"{FILES}/{name}": partial / FILES / name for name in names},
        }
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(timespec="seconds"),
            "database": {"vendor": vendor, "file": DUMPS[vendor]},
            "files": {
                relative: {"sha256": sha256_of(path), "size": path.stat().st_size}
                for relative, path in sorted(listed.items())
            },
        }
        text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        (partial / MANIFEST).write_text(text, encoding="utf-8")
        final = partial.with_name(partial.name.removesuffix(".partial"))
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupSummary(
        path=final,
        vendor=vendor,
        files=len(names),
        bytes=sum(entry["size"] for entry in manifest["files"].values()),
        manifest_sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


# --- checking and restoring --------------------------------------------------------------


def read_manifest(path: Path, expected_sha256: str | None = None) -> dict:
    """The manifest, after every file it lists was found whole; BackupError otherwise."""
    manifest_file = path / MANIFEST
    if not manifest_file.is_file():
        raise BackupError(
            _("%(path)s is not a backup: it has no %(manifest)s.")
            % {"path": path, "manifest": MANIFEST}
        )
    raw = manifest_file.read_bytes()
    if expected_sha256 and hashlib.sha256(raw).hexdigest() != expected_sha256.lower():
        raise BackupError(_("The manifest's SHA-256 is not the one given: the backup was changed."))
    try:
        manifest = json.loads(raw)
        listed = manifest["files"]
        vendor = manifest["database"]["vendor"]
        dump = manifest["database"]["file"]
    except (ValueError, KeyError, TypeError):
        raise BackupError(_("The manifest cannot be read: the backup is damaged.")) from None
    if (
        manifest.get("format") != FORMAT
        or vendor not in DUMPS
        or dump != DUMPS[vendor]
        or dump not in listed
    ):
        raise BackupError(_("The manifest is not of a backup this version restores."))
    problems = []
    for relative, entry in sorted(listed.items()):
        _safe_name(relative)
        file = path / relative
        if not file.is_file():
            problems.append(_("%(file)s is missing") % {"file": relative})
        elif file.stat().st_size != entry.get("size") or sha256_of(file) != entry.get("sha256"):
            problems.append(_("%(file)s does not match its SHA-256 sum") % {"file": relative})
    present = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    for relative in sorted(present - set(listed) - {MANIFEST}):
        problems.append(_("%(file)s is not in the manifest") % {"file": relative})
    if problems:
        shown = "; ".join(problems[:10]) + ("; …" if len(problems) > 10 else "")
        raise BackupError(
            _("The backup was altered or damaged, nothing restored: %(problems)s.")
            % {"problems": shown}
        )
    return manifest


def restore_backup(
    path: Path, *, force: bool = False, expected_sha256: str | None = None, using: str = "default"
) -> BackupSummary:
    """Check the backup, then load the database and the files into the configured ones."""
    path = Path(path)
    manifest = read_manifest(path, expected_sha256)
    vendor = manifest["database"]["vendor"]
    if vendor != _vendor(using):
        raise BackupError(
            _("This is a %(backup)s backup; the configured database is %(configured)s.")
            % {"backup": vendor, "configured": connections[using].vendor}
        )
    if not force and not database_is_empty(using):
        raise BackupError(
            _(
                "The configured database %(name)s already has tables: restore into a new, "
                "empty database, or use --force to replace its contents."
            )
            % {"name": connections[using].settings_dict["NAME"]}
        )
    names = [r.removeprefix(f"{FILES}/") for r in manifest["files"] if r.startswith(f"{FILES}/")]
    replace = []
    for name in names:  # before anything is written: a refusal leaves everything as it was
        if default_storage.exists(name):
            wanted = manifest["files"][f"{FILES}/{name}"]["sha256"]
            if _stored_sha256(default_storage, name) != wanted:
                if not force:
                    raise BackupError(
                        _(
                            "The storage already holds a different %(name)s: "
                            "use --force to replace it."
                        )
                        % {"name": name}
                    )
                replace.append(name)
    load_database(path / manifest["database"]["file"], vendor, force=force, using=using)
    for name in names:
        if name in replace:
            default_storage.delete(name)
        elif default_storage.exists(name):
            continue  # the same bytes are already there
        with open(path / FILES / name, "rb") as source:
            saved = default_storage.save(name, File(source, name=name))
        if saved != name:
            raise BackupError(
                _("The storage saved %(name)s as %(saved)s.") % {"name": name, "saved": saved}
            )
    return BackupSummary(
        path=path,
        vendor=vendor,
        files=len(names),
        bytes=sum(entry["size"] for entry in manifest["files"].values()),
        manifest_sha256=hashlib.sha256((path / MANIFEST).read_bytes()).hexdigest(),
    )
