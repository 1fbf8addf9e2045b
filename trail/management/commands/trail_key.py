from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from trail.signing import (
    SigningKeyMissing,
    create_key_file,
    key_file_path,
    public_key_of,
    signing_key,
)


class Command(BaseCommand):
    help = (
        "Create the trail signing key file if no key is configured (mode 0600), "
        "then print its public key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="print nothing on success")

    def handle(self, *args, quiet=False, **options):
        try:
            try:
                key = signing_key()
            except SigningKeyMissing:
                path = key_file_path()
                key = create_key_file(path)
                if not quiet:
                    self.stdout.write(
                        _("Created %(path)s; back it up outside the database.") % {"path": path}
                    )
        except (ImproperlyConfigured, OSError) as error:
            raise CommandError(str(error)) from error
        if quiet:
            return
        public = public_key_of(key)
        self.stdout.write(_("key id: %(key_id)s") % {"key_id": public.key_id})
        self.stdout.write(_("public key (base64, raw 32 bytes): %(key)s") % {"key": public.base64})
        self.stdout.write(public.pem.rstrip())
