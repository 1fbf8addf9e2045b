from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from trail.checkpoints import (
    compare_with_database,
    journal_walk,
    read_checkpoints_file,
    stored_checkpoints,
    verify_checkpoints,
)
from trail.models import Event
from trail.services import verify_chain


class Command(BaseCommand):
    help = (
        "Check the hash chain of the trail and every signed checkpoint; exit 1 if any event "
        "was edited, deleted or moved, or the trail was rewritten since a checkpoint."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            type=Path,
            metavar="FILE",
            help="also check a JSON file of checkpoints downloaded from /trail/checkpoints/",
        )

    def handle(self, *args, checkpoints=None, **options):
        try:
            kept = read_checkpoints_file(checkpoints) if checkpoints else []
            stored = stored_checkpoints()
            walk = journal_walk(stored, kept)  # the journal is read once for all checks
            chain_problems = verify_chain(walk=walk)
            checkpoint_problems = verify_checkpoints(stored, walk=walk)
            if checkpoints:
                # A kept file also catches the newest checkpoints being deleted.
                checkpoint_problems += verify_checkpoints(kept, walk=walk)
                checkpoint_problems += compare_with_database(kept)
        except (ValueError, ImproperlyConfigured) as error:
            raise CommandError(str(error)) from error
        for problem in chain_problems:
            self.stderr.write(f"event {problem.seq}: {problem.message}")
        for problem in checkpoint_problems:
            self.stderr.write(problem.message)
        if chain_problems or checkpoint_problems:
            count = len(chain_problems) + len(checkpoint_problems)
            raise CommandError(f"trail verification failed: {count} problem(s)")
        self.stdout.write(self.style.SUCCESS(f"trail intact: {Event.objects.count()} events"))
        if stored:
            self.stdout.write(
                self.style.SUCCESS(
                    _("%(count)s signed checkpoint(s) match, the newest at event %(seq)s")
                    % {"count": len(stored), "seq": stored[-1].seq}
                )
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    _("no signed checkpoint yet: run checkpoint_trail (a daily job does)")
                )
            )
        if checkpoints:
            self.stdout.write(
                _("%(count)s checkpoint(s) from %(path)s match")
                % {"count": len(kept), "path": checkpoints}
            )
