"""The unread count in the header: counted when the page shows it, once (one query)."""

from __future__ import annotations

from .services import unread_count


def unread_notifications(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    counted: dict[str, int] = {}

    def count() -> int:  # a template calls it; pages that never show it never count
        if "n" not in counted:
            counted["n"] = unread_count(user)
        return counted["n"]

    return {"notifications_unread": count}
