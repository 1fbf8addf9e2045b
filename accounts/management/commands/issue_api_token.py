"""Issue an API token from the shell: the same service, checks and trail event as the admin."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accounts.api_tokens import ApiScope, issue_api_token


def _account(username: str, option: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(
            _("%(option)s: no account named %(name)s.") % {"option": option, "name": username}
        ) from None


def _expiry(text: str) -> datetime.datetime:
    """A date (the token stops at the start of that day, local time) or a date-time."""
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            if day is None:
                raise ValueError
            moment = datetime.datetime.combine(day, datetime.time())
    except ValueError:
        raise CommandError(
            _("--expires: give a date such as 2027-06-30 or a date-time such as 2027-06-30T18:00.")
        ) from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "Issue a read-only API token acting as an account; prints the token once (only its "
        "hash is stored)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the account the token acts as")
        parser.add_argument("--name", required=True, help="which system uses the token")
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=ApiScope.values,
            dest="scopes",
            help="a read scope (repeat for several)",
        )
        parser.add_argument("--expires", help="expiry date (YYYY-MM-DD) or date-time")
        parser.add_argument(
            "--by",
            help="the superuser or bureau staff member issuing it (journaled; default: system)",
        )

    def handle(self, *args, user, name, scopes, expires=None, by=None, **options):
        account = _account(user, "--user")
        issuer = _account(by, "--by") if by else None
        expires_at = _expiry(expires) if expires else None
        try:
            token, full = issue_api_token(account, name, scopes, expires_at, by=issuer)
        except PermissionDenied as refusal:
            raise CommandError(str(refusal)) from None
        except ValidationError as refusal:
            raise CommandError(" ".join(refusal.messages)) from None
        # The token alone on stdout, so a script can capture it; the note on stderr.
        self.stderr.write(
            _("API token %(token)s for %(user)s; copy it now, it is not shown again:")
            % {"token": str(token), "user": account.username}
        )
        self.stdout.write(full)
