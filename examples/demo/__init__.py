"""The cors_wsgi demo: a page origin and an API origin on loopback.

Run ``python -m examples.demo`` and open the printed URL.  The page (served
on ``http://127.0.0.1:8080``) sends cross-origin requests to the example
Flask API (on ``http://localhost:8000``), which cors_wsgi wraps as
configured in ``api.ini``, and shows each request's outcome in a table:
allowed or blocked, and why, in plain words.
"""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path
from typing import Any

from paste.deploy import loadapp

HERE = Path(__file__).resolve().parent
INDEX = (HERE / "index.html").read_bytes()


class PageApp:
    """The page origin: ``/`` is the demo page, ``/config.js`` names the API origin."""

    def __init__(self, api_origin: str = "") -> None:
        self.api_origin = api_origin

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/config.js":
            start_response("200 OK", [("Content-Type", "text/javascript"), ("Cache-Control", "no-store")])
            return [f"window.API = {json.dumps(self.api_origin)};\n".encode()]
        if path in ("/", "/index.html"):
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [INDEX]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]


def create_api_app(page_origin: str) -> Any:
    """The API origin: the example Flask app behind cors_wsgi, from ``api.ini``."""
    return loadapp(f"config:{HERE / 'api.ini'}", global_conf={"page_origin": page_origin})


def main(argv: list[str] | None = None) -> None:
    import waitress.server

    parser = argparse.ArgumentParser(description="Serve the cors_wsgi demo on loopback.")
    parser.add_argument("--page-port", type=int, default=8080, help="page's port (default: %(default)s)")
    parser.add_argument("--api-port", type=int, default=8000, help="API origin's port (default: %(default)s)")
    args = parser.parse_args(argv)

    page_origin = f"http://127.0.0.1:{args.page_port}"
    api_origin = f"http://localhost:{args.api_port}"
    api = waitress.server.create_server(create_api_app(page_origin), host="127.0.0.1", port=args.api_port)
    page = waitress.server.create_server(PageApp(api_origin), host="127.0.0.1", port=args.page_port)
    threading.Thread(target=api.run, daemon=True).start()
    print(f"API origin  {api_origin}  (cors_wsgi configured by {HERE / 'api.ini'})", flush=True)
    print(f"Open the demo page:  {page_origin}/   (Ctrl-C stops)", flush=True)
    try:
        page.run()
    except KeyboardInterrupt:
        pass
    finally:
        page.close()
        api.close()
