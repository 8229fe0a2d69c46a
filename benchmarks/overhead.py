"""Per-request cost of cors_wsgi relative to a bare pass-through WSGI layer.

Run: ``python benchmarks/overhead.py`` (after ``pip install -e .``).  All
cases are measured in one run, interleaved, best of several repeats, and
reported as ratios, because machines here are shared and noisy.  The loop
counts are fixed, so the run is bounded (a few seconds).
"""

from __future__ import annotations

import io
import timeit
from typing import Any

from cors_wsgi import CORSMiddleware, CORSPolicy

ORIGIN = "https://app.example.com"


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]


class PassThrough:
    """The floor: a middleware that wraps start_response and does nothing else."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def shim(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is None:
                return start_response(status, list(headers))
            return start_response(status, list(headers), exc_info)
        return self.app(environ, shim)


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    return None


def environ(**extra: str) -> dict[str, Any]:
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/items", "wsgi.input": io.BytesIO()}
    env.update(extra)
    return env


POLICY = CORSPolicy(
    allow_origins=[ORIGIN, "https://*.example.org"], allow_methods=["PUT", "DELETE"],
    allow_headers=["Content-Type", "Authorization"], allow_credentials=True, max_age=600,
)
cors = CORSMiddleware(app, POLICY)
cors_paths = CORSMiddleware(app, {"/public/*": CORSPolicy(allow_origins="*"), "/api/*": POLICY})
passthrough = PassThrough(app)

ACRH = "HTTP_ACCESS_CONTROL_REQUEST_HEADERS"
PREFLIGHT = {"REQUEST_METHOD": "OPTIONS", "HTTP_ORIGIN": ORIGIN, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"}
CASES = {
    "bare app": (app, environ(HTTP_ORIGIN=ORIGIN)),
    "pass-through layer": (passthrough, environ(HTTP_ORIGIN=ORIGIN)),
    "cors actual, allowed origin": (cors, environ(HTTP_ORIGIN=ORIGIN)),
    "cors actual, wildcard origin": (cors, environ(HTTP_ORIGIN="https://a.b.example.org")),
    "cors actual, refused origin": (cors, environ(HTTP_ORIGIN="https://evil.example.net")),
    "cors actual, no origin": (cors, environ()),
    "cors actual, path mapping": (cors_paths, environ(HTTP_ORIGIN=ORIGIN)),
    "cors preflight, allowed": (cors, environ(**PREFLIGHT, **{ACRH: "content-type"})),
    "cors preflight, refused": (cors, environ(**{**PREFLIGHT, "HTTP_ORIGIN": "https://evil.example.net"})),
    "cors preflight, 8 KiB of commas": (cors, environ(**PREFLIGHT, **{ACRH: "," * 8192})),
    "cors preflight, 8 KiB of names": (cors, environ(**PREFLIGHT, **{ACRH: "a," * 4096})),
}


def main(number: int = 20000, repeat: int = 7) -> None:
    best = {name: float("inf") for name in CASES}
    for _ in range(repeat):  # interleave cases so drift hits all alike
        for name, (wsgi, env) in CASES.items():
            seconds = timeit.timeit(lambda w=wsgi, e=env: w(e, start_response), number=number)
            best[name] = min(best[name], seconds / number)
    floor = best["pass-through layer"]
    print(f"{'case':36} {'ns/request':>11} {'x pass-through':>15}")
    for name, seconds in best.items():
        print(f"{name:36} {seconds * 1e9:11.0f} {seconds / floor:15.2f}")


if __name__ == "__main__":
    main()
