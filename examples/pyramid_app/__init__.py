"""A small Pyramid JSON API; ``development.ini`` puts cors_wsgi in front of it.

Serve it (from the repository root)::

    PYTHONPATH=. pserve examples/pyramid_app/development.ini
    gunicorn --paste examples/pyramid_app/development.ini -b 127.0.0.1:6543

It has no exception view on purpose: ``/api/fail`` raises, and the ini's
``catch_exceptions = true`` turns that into a 500 the browser can read.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

ITEMS = {1: {"id": 1, "name": "first"}}


def list_items(request: Request) -> Any:
    request.response.headers["X-Request-Id"] = str(id(request))
    return list(ITEMS.values())


def update_item(request: Request) -> Any:
    item = ITEMS.get(int(request.matchdict["item_id"]))
    if item is None:
        request.response.status = 404
        return {"error": "not found"}
    item["name"] = str((request.json_body or {}).get("name", ""))
    return item


def fail(request: Request) -> Any:
    raise RuntimeError("the example view fails on purpose")


def main(global_config: dict[str, str], **settings: str) -> Any:
    """PasteDeploy ``paste.app_factory`` (``use = call:examples.pyramid_app:main``)."""
    with Configurator(settings=settings) as config:
        config.add_route("items", "/api/items")
        config.add_route("item", "/api/items/{item_id:\\d+}")
        config.add_route("fail", "/api/fail")
        config.add_view(list_items, route_name="items", request_method="GET", renderer="json")
        config.add_view(update_item, route_name="item", request_method="PUT", renderer="json")
        config.add_view(fail, route_name="fail", renderer="json")
        return config.make_wsgi_app()
