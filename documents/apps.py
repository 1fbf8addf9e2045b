from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    """The PDF engine shared by every part (certificates, decision letters); no models."""

    name = "documents"
    verbose_name = _("Documents")
