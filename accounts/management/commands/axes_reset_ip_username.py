from ._unlock import UnlockCommand


class Command(UnlockCommand):
    help = "Unlock sign-ins (journaled); replaces axes' own axes_reset_ip_username."
    by_username = True
    by_ip = True
