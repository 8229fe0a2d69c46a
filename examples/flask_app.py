"""A small Flask JSON API wrapped by cors_wsgi, served by waitress on loopback.

Run it (after ``pip install -e '.[examples]'``)::

    python -m examples.flask_app            # http://127.0.0.1:8000/api/items
    python -m examples.flask_app --port 9000

then try a preflight from another shell::

    curl -i -X OPTIONS http://127.0.0.1:8000/api/items \\
         -H 'Origin: http://localhost:8080' \\
         -H 'Access-Control-Request-Method: PUT' \\
         -H 'Access-Control-Request-Headers: content-type'

Other servers: ``waitress-serve --call examples.flask_app:create_app`` or
``gunicorn 'examples.flask_app:create_app()'``.  The same app is configured
from an ini file in ``examples/app.ini``, whose ``[app:api]`` section uses
:func:`app_factory` below.
"""

from __future__ import annotations

import argparse
import itertools
import threading
from typing import Any, cast

from flask import Flask, Response, abort, jsonify, request

from cors_wsgi import CORSMiddleware

#: cors_wsgi settings the Flask way: ``CORS_``-prefixed keys in ``app.config``
#: (they could equally come from ``app.config.from_prefixed_env()`` or a file).
CORS_CONFIG = {
    "CORS_ALLOW_ORIGINS": ["http://localhost:8080", "http://127.0.0.1:8080"],
    "CORS_ALLOW_METHODS": ["GET", "POST", "PUT", "DELETE"],
    "CORS_ALLOW_HEADERS": ["Content-Type", "Authorization"],
    "CORS_EXPOSE_HEADERS": ["X-Request-Id"],
    "CORS_ALLOW_CREDENTIALS": True,
    "CORS_MAX_AGE": 600,
    "CORS_PATHS": ["/api/*"],
}


def create_flask_app() -> Flask:
    """The bare Flask app: a tiny in-memory JSON API under ``/api/``."""
    app = Flask(__name__)
    items: dict[int, dict[str, Any]] = {1: {"id": 1, "name": "first"}}
    ids = itertools.count(2)
    lock = threading.Lock()

    @app.after_request
    def request_id(response: Response) -> Response:
        response.headers["X-Request-Id"] = str(id(request))
        return response

    @app.get("/api/items")
    def list_items() -> Response:
        with lock:
            return jsonify(list(items.values()))

    @app.post("/api/items")
    def create_item() -> tuple[Response, int]:
        payload = request.get_json(silent=True) or {}
        with lock:
            item: dict[str, Any] = {"id": next(ids), "name": str(payload.get("name", ""))}
            items[item["id"]] = item
        return jsonify(item), 201

    @app.put("/api/items/<int:item_id>")
    def update_item(item_id: int) -> Response:
        payload = request.get_json(silent=True) or {}
        with lock:
            if item_id not in items:
                abort(404)
            items[item_id]["name"] = str(payload.get("name", ""))
            return jsonify(items[item_id])

    @app.delete("/api/items/<int:item_id>")
    def delete_item(item_id: int) -> tuple[str, int]:
        with lock:
            if items.pop(item_id, None) is None:
                abort(404)
        return "", 204

    @app.get("/api/fail")
    def fail() -> Response:
        abort(500)

    return app


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The Flask app with cors_wsgi in front of ``/api/*``, configured from
    ``app.config`` (``config`` overrides :data:`CORS_CONFIG`)."""
    app = create_flask_app()
    app.config.from_mapping(CORS_CONFIG)
    app.config.from_mapping(config or {})
    app.wsgi_app = CORSMiddleware.from_settings(app.wsgi_app, app.config)  # type: ignore[method-assign]
    return app


def app_factory(global_conf: dict[str, str], **local_conf: str) -> Flask:
    """PasteDeploy ``paste.app_factory``: the bare app; the ini file's
    ``[filter:cors]`` puts cors_wsgi in front of it."""
    return create_flask_app()


def main(argv: list[str] | None = None) -> None:
    import waitress

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default: %(default)s)")
    args = parser.parse_args(argv)
    print(f"cors_wsgi example API on http://{args.host}:{args.port}/api/items", flush=True)
    allowed = cast("list[str]", CORS_CONFIG["CORS_ALLOW_ORIGINS"])
    print(f"allowed origins: {', '.join(allowed)}  (Ctrl-C stops)", flush=True)
    waitress.serve(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
