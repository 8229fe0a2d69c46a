"""Serve the Flask example with the standard library's wsgiref server.

For development only (one request at a time, no TLS)::

    python -m examples.wsgiref_server --port 8000
"""

from __future__ import annotations

import argparse
from wsgiref.simple_server import make_server

from examples.flask_app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the Flask example with wsgiref.")
    parser.add_argument("--port", type=int, default=8000, help="TCP port on 127.0.0.1 (default: %(default)s)")
    args = parser.parse_args(argv)
    with make_server("127.0.0.1", args.port, create_app()) as server:
        print(f"Serving on http://127.0.0.1:{args.port}/api/items", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
