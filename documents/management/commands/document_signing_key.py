from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from documents.signing_config import (
    SigningMisconfigured,
    cert_file_path,
    certificate_name,
    fingerprint,
    key_file_path,
    signing_material,
)
from documents.signing_keys import VALIDITY_DAYS, make_self_signed_pair


class Command(BaseCommand):
    help = (
        "Create a self-signed document signing key and certificate (for the demo) if none "
        "is configured, then print the certificate's name and fingerprint."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="print nothing on success")
        parser.add_argument(
            "--days", type=int, default=VALIDITY_DAYS, help="validity of a new certificate"
        )

    def handle(self, *args, quiet=False, days=VALIDITY_DAYS, **options):
        if days < 1:
            raise CommandError(_("--days must be at least 1."))
        try:
            material = signing_material()
            if material is None:
                made = make_self_signed_pair(
                    key_file_path(),
                    cert_file_path(),
                    common_name=settings.BUREAU_NAME,
                    days=days,
                    password=settings.DOCUMENT_SIGNING_KEY_PASSWORD,
                )
                if not quiet:
                    self.stdout.write(
                        _("Created %(key)s and %(cert)s; back the key up outside the database.")
                        % {"key": made.key_path, "cert": made.cert_path}
                    )
                material = signing_material()
        except (SigningMisconfigured, OSError) as error:
            raise CommandError(str(error)) from error
        if quiet:
            return
        certificate = material.certificate
        self.stdout.write(_("signer: %(name)s") % {"name": certificate_name(certificate)})
        self.stdout.write(
            _("valid: %(start)s to %(end)s")
            % {
                "start": certificate.not_valid_before_utc.date(),
                "end": certificate.not_valid_after_utc.date(),
            }
        )
        self.stdout.write(_("SHA-256 fingerprint: %(fp)s") % {"fp": fingerprint(certificate)})
