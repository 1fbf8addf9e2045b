"""The public checkpoint page: no sign-in, so anyone can keep a copy and check later."""

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .checkpoints import SignedCheckpoint, public_document
from .models import Checkpoint
from .signing import PAYLOAD_TYPE, known_public_keys


@require_safe
def checkpoint_list(request):
    page = Paginator(Checkpoint.objects.order_by("-seq"), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "checkpoints": [SignedCheckpoint.of(c) for c in page],
        "keys": list(known_public_keys().values()),
        "payload_type": PAYLOAD_TYPE,
    }
    return render(request, "trail/checkpoints.html", context)


@require_safe
def checkpoint_download(request):
    response = JsonResponse(public_document(), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'attachment; filename="trail-checkpoints.json"'
    return response
