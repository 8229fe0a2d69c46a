"""One JSON resource, and a view that fails (Django turns it into a 500)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse

ITEMS = {1: {"id": 1, "name": "first"}}


def items(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(list(ITEMS.values()), safe=False)
    response["X-Request-Id"] = str(id(request))
    return response


def item(request: HttpRequest, item_id: int) -> HttpResponse:
    if item_id not in ITEMS:
        return JsonResponse({"error": "not found"}, status=404)
    if request.method == "PUT":
        ITEMS[item_id]["name"] = str(json.loads(request.body or b"{}").get("name", ""))
    return JsonResponse(ITEMS[item_id])


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the example view fails on purpose")
