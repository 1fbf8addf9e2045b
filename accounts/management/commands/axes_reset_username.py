from ._unlock import UnlockCommand


class Command(UnlockCommand):
    help = "Unlock sign-ins (journaled); replaces axes' own axes_reset_username."
    by_username = True
