"""Downloads: every file goes through here, never as a static file or a storage URL."""

from __future__ import annotations

import logging
from urllib.parse import quote

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from .access import Visibility, visibility
from .models import Attachment
from .names import ascii_fallback

logger = logging.getLogger(__name__)

STREAM_BLOCK_BYTES = 64 * 1024
# The file is never a page of ours: no script, no plugin, no same-origin rights, even if
# a browser were made to render it.
SANDBOX_POLICY = "default-src 'none'; sandbox"


@require_safe
def download(request, pk: int):
    """/documents/<pk>/: the owner's part decides, through documents.access."""
    attachment = get_object_or_404(
        Attachment.objects.select_related("owner_type"), pk=pk, removed_at__isnull=True
    )
    seen = visibility(request.user, attachment)
    if seen is Visibility.DENIED and request.user.is_authenticated:
        raise PermissionDenied
    return serve_attachment(request, attachment, allowed=seen is Visibility.ALLOWED)


def serve_attachment(request, attachment: Attachment, allowed: bool) -> FileResponse:
    """Stream `attachment` as a download; the caller has decided `allowed` (False: 404)."""
    if not allowed:
        raise Http404
    storage = attachment.file.storage
    try:
        handle = storage.open(attachment.file.name, "rb")
    except FileNotFoundError:
        # The row is there but the file is not (purged, or a storage out of step).
        logger.warning("attachment %s: file %s is missing", attachment.pk, attachment.file.name)
        raise Http404 from None
    response = FileResponse(handle, content_type=attachment.content_type)
    response.block_size = STREAM_BLOCK_BYTES
    response["Content-Length"] = str(attachment.size)
    response["Content-Disposition"] = content_disposition(attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_POLICY
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    patch_cache_control(response, private=True, no_store=True)
    return response


def content_disposition(name: str) -> str:
    """attachment; an ASCII filename for old clients and the real one per RFC 5987."""
    fallback = ascii_fallback(name).replace("\\", "_").replace('"', "_")
    header = f'attachment; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header
