from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrityConfig(AppConfig):
    name = "integrity"
    verbose_name = _("Research integrity")

    def ready(self) -> None:
        from .document_access import register_checks

        register_checks()  # who may download case evidence
