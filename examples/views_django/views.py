"""Views: the site-wide policy, a stricter per-view policy, and a webhook without CORS."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from cors_wsgi import cross_origin, no_cross_origin


def list_items(request: HttpRequest) -> JsonResponse:
    return JsonResponse([{"id": 1, "name": "one"}], safe=False)


@csrf_exempt
def update_item(request: HttpRequest, item: int) -> JsonResponse:
    return JsonResponse({"id": item, "updated": True})


class AdminItem(View):
    """A class-based view: only its ``put`` handler has the admin policy."""

    def get(self, request: HttpRequest, item: int) -> JsonResponse:
        return JsonResponse({"id": item})

    @cross_origin(
        allow_origins=[settings.ADMIN_ORIGIN], allow_methods=["PUT"], allow_headers=["Content-Type"]
    )
    def put(self, request: HttpRequest, item: int) -> JsonResponse:
        return JsonResponse({"id": item, "admin": True})


@csrf_exempt
@no_cross_origin
def webhook(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"received": True})
