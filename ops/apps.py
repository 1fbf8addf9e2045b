from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running the site: health and readiness probes, backups and restores (issue 10)."""

    name = "ops"
    verbose_name = _("Operations")
