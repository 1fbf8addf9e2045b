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
