from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ops.backups import BackupError, read_manifest, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into the configured database and storage. The "
        "manifest is checked first (a file altered, missing or added refuses the restore); "
        "a database that already has tables is refused unless --force. Run verify_trail after."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the backup's directory")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace the contents of a database that is not empty, and stored files "
            "that differ",
        )
        parser.add_argument(
            "--manifest-sha256",
            metavar="HEX",
            help="the SHA-256 `backup` printed: also refuse a backup whose manifest was changed",
        )
        parser.add_argument(
            "--check", action="store_true", help="only check the backup; restore nothing"
        )

    def handle(self, *args, path, force, manifest_sha256, check, **options):
        try:
            if check:
                manifest = read_manifest(path, manifest_sha256)
                self.stdout.write(
                    self.style.SUCCESS(
                        _("backup intact: %(count)s files match the manifest")
                        % {"count": len(manifest["files"])}
                    )
                )
                return
            summary = restore_backup(path, force=force, expected_sha256=manifest_sha256)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                _("restored %(path)s: the %(vendor)s database and %(files)s stored files")
                % {"path": summary.path, "vendor": summary.vendor, "files": summary.files}
            )
        )
        self.stdout.write(_("now run: manage.py verify_trail"))
