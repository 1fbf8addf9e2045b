"""axes' reset commands, taken over: each unlock goes through `unlock_sign_in` and is
journaled, as on the lockouts page. (accounts precedes axes in INSTALLED_APPS, so these
names resolve here.)"""

from axes.models import AccessAttempt
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.lockouts import unlock_sign_in
from accounts.models import User


class UnlockCommand(BaseCommand):
    by_username = False
    by_ip = False

    def add_arguments(self, parser):
        # The same positional arguments as axes' commands of these names.
        both = self.by_username and self.by_ip
        if self.by_ip:
            parser.add_argument("ip", nargs=None if both else "+", help="address(es) to unlock")
        if self.by_username:
            parser.add_argument("username", nargs=None if both else "+", help="account name(s)")
        parser.add_argument("--by", help="the staff account acting (default: the operator)")
        parser.add_argument("--reason", default="", help="kept in the trail")

    def targets(self, options) -> list[dict]:
        names, ips = options.get("username") or [], options.get("ip") or []
        names, ips = (
            [names] if isinstance(names, str) else names,
            [ips] if isinstance(ips, str) else ips,
        )
        if not self.by_username and not self.by_ip:  # everything locked
            names = AccessAttempt.objects.exclude(username=None).values_list("username", flat=True)
            ips = AccessAttempt.objects.filter(username=None).values_list("ip_address", flat=True)
        return [{"username": n} for n in dict.fromkeys(names)] + [
            {"ip_address": ip} for ip in dict.fromkeys(ips)
        ]

    def handle(self, *args, **options):
        by = None
        if options["by"]:
            by = User.objects.filter(username=options["by"]).first()
            if by is None:
                raise CommandError(f"No account {options['by']!r}.")
        removed = 0
        for target in self.targets(options):
            try:
                removed += unlock_sign_in(by=by, reason=options["reason"], **target)
            except (PermissionDenied, ValidationError) as error:
                raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(f"{removed} attempt records removed, each unlock journaled.")
