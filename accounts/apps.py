from django.apps import AppConfig
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from .text import check_on_save

        # Every model of ours, on every path: a value the database would refuse is a
        # clear ValidationError instead of a server error (issue 6).
        pre_save.connect(check_on_save, dispatch_uid="accounts.text.check_on_save")

        from django.contrib.auth.signals import user_logged_in

        from .session_refresh import refreshed_at_sign_in

        # A sign-in saves the session: it counts as its refresh (accounts.session_refresh).
        user_logged_in.connect(refreshed_at_sign_in, dispatch_uid="accounts.session_refresh")
