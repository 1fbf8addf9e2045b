"""What a reader sees of a response: shared by the tests that act through the pages."""

from __future__ import annotations

import html

from django.contrib.messages import get_messages


def text(response) -> str:
    """The messages and the page, as a reader sees them."""
    said = " ".join(str(m) for m in get_messages(response.wsgi_request))
    return html.unescape(said + " " + response.content.decode())
