from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListsConfig(AppConfig):
    """Lists staff work from all day: filter, sort, page, export (issue 11).

    Low-level like documents/: it knows tables and filters, not projects; each part
    defines its own lists with the rows its pages may show.
    """

    name = "lists"
    verbose_name = _("Lists")
