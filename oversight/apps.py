from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = _("Oversight")

    def ready(self) -> None:
        from .document_access import register_checks

        register_checks()  # who may download documents on projects, expenditures, audits
