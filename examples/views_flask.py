"""Per-view CORS policies in Flask: ``CORS(app)`` plus ``@cross_origin``.

Run (on http://127.0.0.1:8002)::

    python -m examples.views_flask

or behind gunicorn: ``gunicorn 'examples.views_flask:create_app()'``.

The app-wide policy (``CORS_*`` keys in ``app.config``, for ``/api/*``)
lets the page at ``PAGE_ORIGIN`` read and change items; one admin view
has a stricter policy of its own (only ``ADMIN_ORIGIN`` may ``PUT``), and
the webhook gets no CORS at all.  Preflights reach the view's policy: the
preflight of ``PUT /api/admin/items/1`` is answered by the admin policy,
though no view lists ``OPTIONS``.
"""

from __future__ import annotations

import argparse
import os

import waitress
from flask import Flask, Response, jsonify

from cors_wsgi import cross_origin, no_cross_origin
from cors_wsgi.flask import CORS

#: The page allowed by the app-wide policy, and the admin page.
PAGE_ORIGIN = os.environ.get("VIEWS_PAGE_ORIGIN", "http://localhost:8080")
ADMIN_ORIGIN = os.environ.get("VIEWS_ADMIN_ORIGIN", "http://127.0.0.1:8080")


def create_app(page_origin: str = PAGE_ORIGIN, admin_origin: str = ADMIN_ORIGIN) -> Flask:
    """The example app; ``page_origin``/``admin_origin`` are serialized origins."""
    app = Flask(__name__)
    app.config.update(
        CORS_ALLOW_ORIGINS=[page_origin],
        CORS_ALLOW_METHODS=["GET", "POST", "PUT"],
        CORS_ALLOW_HEADERS=["Content-Type"],
        CORS_PATHS=["/api/*"],
    )
    CORS(app)

    @app.get("/api/items")
    def list_items() -> Response:
        return jsonify([{"id": 1, "name": "one"}])

    @app.put("/api/items/<int:item>")
    def update_item(item: int) -> Response:
        return jsonify({"id": item, "updated": True})

    @app.route("/api/admin/items/<int:item>", methods=["GET", "PUT"])
    @cross_origin(allow_origins=[admin_origin], allow_methods=["PUT"], allow_headers=["Content-Type"])
    def admin_update_item(item: int) -> Response:
        return jsonify({"id": item, "admin": True})

    @app.post("/api/webhook")
    @no_cross_origin
    def webhook() -> Response:
        return jsonify({"received": True})

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8002, help="TCP port (default: %(default)s)")
    args = parser.parse_args(argv)
    print(f"per-view CORS example on http://{args.host}:{args.port}/api/items (Ctrl-C stops)", flush=True)
    waitress.serve(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
