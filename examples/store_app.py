"""A multi-tenant API whose allowed origins live in a database, served as a
snapshot per worker (``allow_origin_store``).

``$CORS_STORE_URL`` names the store: a SQLAlchemy URL
(``postgresql+psycopg://app@db/app``, ``sqlite:////var/lib/app/origins.db``)
or an SQLite path.  With ``CORS_STORE_NOTIFY=1`` on PostgreSQL a
:class:`~cors_wsgi.notify.PostgresNotifier` pushes every change; with
``CORS_STORE_REDIS_URL=redis://cache:6379/0`` a
:class:`~cors_wsgi.notify.RedisNotifier` does (for any store; change it with
``cors-wsgi origins add --redis URL``).  Run two
hosts of it on one database, change the table while they serve::

    CORS_STORE_URL=postgresql+psycopg://app@db/app gunicorn 'examples.store_app:create_app()' -w 2
    cors-wsgi origins add --db postgresql+psycopg://app@db/app https://shop.customer.example

Every worker sees the change within ``CORS_STORE_REFRESH_SECONDS`` (default
5), or at once with the notifier.  ``max_age`` is capped at 60 s: a browser
may keep a preflight that long after an origin is removed.
"""

from __future__ import annotations

import os
from typing import Any

from cors_wsgi import CORSMiddleware, CORSPolicy

WEB_APP = "https://app.example.com"


def api(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = b'{"tenant": "data", "worker": %d}' % os.getpid()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def create_app() -> CORSMiddleware:
    from cors_wsgi.store import SQLAlchemyOriginStore, SQLiteOriginStore

    if os.environ.get("CORS_LOG_FILE"):  # the store's errors and alarms, for the tests
        import logging

        logging.getLogger("cors_wsgi").addHandler(logging.FileHandler(os.environ["CORS_LOG_FILE"]))
    url = os.environ["CORS_STORE_URL"]
    notifier: Any = None
    if os.environ.get("CORS_STORE_REDIS_URL"):
        from cors_wsgi.notify import RedisNotifier

        notifier = RedisNotifier(os.environ["CORS_STORE_REDIS_URL"])
    elif os.environ.get("CORS_STORE_NOTIFY") == "1":
        from cors_wsgi.notify import PostgresNotifier

        notifier = PostgresNotifier(url)
    store: Any
    if "://" in url:
        store = SQLAlchemyOriginStore(url, allow_credentials=True, notifier=notifier)
    else:
        store = SQLiteOriginStore(url, allow_credentials=True, notifier=notifier)
    staleness = os.environ.get("CORS_MAX_STALENESS_SECONDS")
    policy = CORSPolicy(
        allow_origins=[WEB_APP],
        allow_origin_store=store,
        store_refresh_seconds=float(os.environ.get("CORS_STORE_REFRESH_SECONDS", "5")),
        max_staleness_seconds=None if staleness is None else float(staleness),
        allow_methods=["GET", "PUT"],
        allow_credentials=True,
        max_age=60,
    )
    return CORSMiddleware(api, policy=policy)
