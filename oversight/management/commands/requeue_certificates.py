"""Re-queue certificates whose PDF was never made (e.g. the broker was down at issue).

Safe to run as often as you like (cron, every few minutes): generation is idempotent.
"""

import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone

from oversight.models import Certificate
from oversight.tasks import generate_certificate


class Command(BaseCommand):
    help = "Queue PDF generation again for certificates still pending after --minutes."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=10)

    def handle(self, *args, minutes: int, **options):
        cutoff = timezone.now() - datetime.timedelta(minutes=minutes)
        pending = Certificate.objects.filter(
            status=Certificate.Status.PENDING, pdf__isnull=True, issued_at__lt=cutoff
        ).values_list("pk", flat=True)
        for pk in pending:
            generate_certificate.delay(pk)
        self.stdout.write(f"queued {len(pending)} certificate(s)")
