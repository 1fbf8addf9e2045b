"""The base of every list's table."""

from __future__ import annotations

import django_tables2 as tables


class ListTable(tables.Table):
    """A table that knows who looks (`self.request`, `self.user`) without configuring
    itself from the address: django-tables2 would then paginate in the constructor with a
    page size the address may set (?per_page=), before lists.pages sets its own."""

    def __init__(self, data, *args, request=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.request = request
        self.user = getattr(request, "user", None)
