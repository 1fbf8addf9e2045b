from django.core.management.base import BaseCommand, CommandError

from trail.models import Event
from trail.services import verify_chain


class Command(BaseCommand):
    help = "Check the hash chain of the trail; exit 1 if any event was edited, deleted or moved."

    def handle(self, *args, **options):
        problems = verify_chain()
        if problems:
            for problem in problems:
                self.stderr.write(f"event {problem.seq}: {problem.message}")
            raise CommandError(f"trail verification failed: {len(problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS(f"trail intact: {Event.objects.count()} events"))
