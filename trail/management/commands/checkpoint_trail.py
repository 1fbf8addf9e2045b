from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from trail.checkpoints import CheckpointRefused, make_checkpoint


class Command(BaseCommand):
    help = "Sign the trail's head as a checkpoint (the daily job does the same)."

    def handle(self, *args, **options):
        try:
            checkpoint = make_checkpoint()
        except (ImproperlyConfigured, CheckpointRefused) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                _("checkpoint #%(number)s: event %(seq)s, hash %(hash)s, key %(key_id)s")
                % {
                    "number": checkpoint.pk,
                    "seq": checkpoint.seq,
                    "hash": checkpoint.hash,
                    "key_id": checkpoint.key_id,
                }
            )
        )
