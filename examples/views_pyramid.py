"""Per-view CORS policies in Pyramid: ``config.include("cors_wsgi.pyramid")`` and ``cors_policy=``.

Serve it (from the repository root)::

    pserve examples/views_pyramid.ini

The ``cors.*`` settings (in the ini) let the page at ``cors.allow_origins``
read and change items under ``/api/*``; the admin ``PUT`` view has a
stricter policy (``cors_policy=``), and the webhook gets no CORS at all.
"""

from __future__ import annotations

import os
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from cors_wsgi import CORSPolicy, no_cross_origin

#: The admin page, the only origin the admin view's policy allows.
ADMIN_ORIGIN = os.environ.get("VIEWS_ADMIN_ORIGIN", "http://127.0.0.1:8080")
ADMIN = CORSPolicy(allow_origins=[ADMIN_ORIGIN], allow_methods=["PUT"], allow_headers=["Content-Type"])


def list_items(request: Request) -> Any:
    return [{"id": 1, "name": "one"}]


def update_item(request: Request) -> Any:
    return {"id": int(request.matchdict["item"]), "updated": True}


def admin_update_item(request: Request) -> Any:
    return {"id": int(request.matchdict["item"]), "admin": True}


def admin_read_item(request: Request) -> Any:
    return {"id": int(request.matchdict["item"])}


@no_cross_origin
def webhook(request: Request) -> Any:
    return {"received": True}


def main(global_config: dict[str, str], **settings: str) -> Any:
    """The WSGI app (PasteDeploy ``app_factory``); ``settings`` hold the ``cors.*`` keys."""
    with Configurator(settings=settings) as config:
        config.include("cors_wsgi.pyramid")
        config.add_route("items", "/api/items")
        config.add_route("item", "/api/items/{item}")
        config.add_route("admin_item", "/api/admin/items/{item}")
        config.add_route("webhook", "/api/webhook")
        config.add_view(list_items, route_name="items", request_method="GET", renderer="json")
        config.add_view(update_item, route_name="item", request_method="PUT", renderer="json")
        config.add_view(admin_update_item, route_name="admin_item", request_method="PUT", renderer="json",
                        cors_policy=ADMIN)
        config.add_view(admin_read_item, route_name="admin_item", request_method="GET", renderer="json")
        config.add_view(webhook, route_name="webhook", request_method="POST", renderer="json")
        return config.make_wsgi_app()
