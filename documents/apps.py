from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    """The lowest part every other one shares: the PDF engine (certificates, decision
    letters) and uploaded documents (attachments on any owner, their checks, downloads)."""

    name = "documents"
    verbose_name = _("Documents")

    def ready(self) -> None:
        from .signing_config import log_signing_setup

        # Issue 8, signed documents: a missing signing key in production is loud in the
        # log at start-up, never a crash.
        log_signing_setup()
