"""Propose a misconduct case for each project whose acceptance is long overdue.

The same as the daily Celery task; safe to run again (one case per project, ever).
"""

from django.core.management.base import BaseCommand

from oversight.overdue import propose_overdue_acceptance_cases


class Command(BaseCommand):
    help = "Propose integrity cases for acceptances overdue by ACCEPTANCE_OVERDUE_CASE_MONTHS."

    def handle(self, *args, **options):
        count = propose_overdue_acceptance_cases()
        self.stdout.write(f"proposed {count} case(s)")
