from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ops.backups import BackupError, make_backup


class Command(BaseCommand):
    help = (
        "Back up the database and every stored file into a new timestamped directory of "
        "BACKUP_DIR, with a manifest of SHA-256 sums; prints the directory and the "
        "manifest's own SHA-256 (keep it elsewhere to check the backup later)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", type=Path, metavar="DIR", help="write under DIR instead of BACKUP_DIR"
        )

    def handle(self, *args, dir=None, **options):
        try:
            summary = make_backup(dir)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "backup written: %(path)s (%(vendor)s database, %(files)s stored files, "
                    "%(mb).1f MB)"
                )
                % {
                    "path": summary.path,
                    "vendor": summary.vendor,
                    "files": summary.files,
                    "mb": summary.bytes / 1e6,
                }
            )
        )
        self.stdout.write(_("manifest SHA-256: %(sha)s") % {"sha": summary.manifest_sha256})
