"""A multi-tenant API whose allowed origins live in an SQLite file.

The customers' origins are kept in ``$CORS_ORIGINS_DB`` (default
``cors-origins.sqlite3`` in the working directory) and read through
:class:`cors_wsgi.store.SQLiteOriginStore` as ``allow_origin_predicate``;
the web app's own origin is listed statically.  Serve it with several
worker processes and change the table while it runs::

    gunicorn 'examples.tenants:create_app()' -w 2 -b 127.0.0.1:8000
    cors-wsgi origins add cors-origins.sqlite3 https://shop.customer.example --credentials
    cors-wsgi origins remove cors-origins.sqlite3 https://shop.customer.example

Every worker sees the change within ``CORS_ORIGIN_CACHE_SECONDS`` (default 30).
"""

from __future__ import annotations

import os
from typing import Any

from cors_wsgi import CORSMiddleware, CORSPolicy
from cors_wsgi.store import SQLiteOriginStore

WEB_APP = "https://app.example.com"


def api(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = b'{"tenant": "data"}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def create_app() -> CORSMiddleware:
    path = os.environ.get("CORS_ORIGINS_DB", "cors-origins.sqlite3")
    store = SQLiteOriginStore(path, allow_credentials=True)
    policy = CORSPolicy(
        allow_origins=[WEB_APP],
        allow_origin_predicate=store,
        origin_cache_seconds=int(os.environ.get("CORS_ORIGIN_CACHE_SECONDS", "30")),
        allow_methods=["GET", "PUT"],
        allow_headers=["Content-Type"],
        allow_credentials=True,
    )
    return CORSMiddleware(api, {"/api/*": policy})
