"""Memory held by cors_wsgi's caches under ever-new origins.

Run::

    python benchmarks/cache_memory.py                 # 100,000 origins per kind, about a minute
    python benchmarks/cache_memory.py --origins 5000  # the CI smoke run

One middleware (the benchmark policy plus 50 subdomain wildcards, and a
second one with an ``allow_origin_predicate``) receives ``--origins``
distinct origins of each kind: allowed GETs, refused GETs, allowed
preflights, preflights with ever-new header lists.  ``tracemalloc`` reports
the memory allocated since just before the middleware was built and still
held, after every tenth of each kind's run (the request environs are built
one at a time and dropped, so what stays is the middleware, its policy and
its caches).  Bounded caches show a plateau; a leak, a line that keeps
rising.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import candidates as cands
from tabulate import tabulate

from cors_wsgi import CORSMiddleware, CORSPolicy
from cors_wsgi import _engine as engine_module


def _sr(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    return None


KINDS: dict[str, Callable[[int], dict[str, str]]] = {
    "allowed GET": lambda n: {"REQUEST_METHOD": "GET", "HTTP_ORIGIN": f"https://u{n}.tenant7.example.net"},
    "refused GET": lambda n: {"REQUEST_METHOD": "GET", "HTTP_ORIGIN": f"https://u{n}.evil.example.org"},
    "allowed preflight": lambda n: {
        "REQUEST_METHOD": "OPTIONS", "HTTP_ORIGIN": f"https://u{n}.tenant7.example.net",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "content-type",
    },
    "preflight, new header list": lambda n: {
        "REQUEST_METHOD": "OPTIONS", "HTTP_ORIGIN": cands.ALLOWED_ORIGIN,
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "content-type," + f"x-{n}" * 40,
    },
}


def policies() -> dict[str, Callable[[], CORSPolicy]]:
    origins = (*cands.ORIGINS, *cands.SCALE_WILDCARDS)
    return {
        "static rules": lambda: cands.policy(origins),
        "with a predicate": lambda: CORSPolicy(
            allow_origins=list(cands.ORIGINS), allow_methods=list(cands.METHODS),
            allow_headers=list(cands.HEADERS), allow_credentials=True,
            allow_origin_predicate=lambda origin: origin.endswith(".tenant7.example.net"),
        ),
    }


def run(count: int) -> Iterator[list[str]]:
    """Per policy: one middleware built under tracemalloc, then every kind
    of request in turn; the memory held is counted from before the build."""
    for label, build_policy in policies().items():
        gc.collect()
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        middleware = CORSMiddleware(cands.bare_app, build_policy())
        for kind, build in KINDS.items():
            held = []
            step = max(1, count // 10)
            for n in range(count):
                environ = {"PATH_INFO": "/api/items", **build(n)}
                for _ in middleware(environ, _sr):
                    pass
                if (n + 1) % step == 0:
                    gc.collect()
                    held.append((tracemalloc.get_traced_memory()[0] - base) / 1024)
            _, peak = tracemalloc.get_traced_memory()
            yield [label, kind, f"{count:,}", " ".join(f"{kib:.0f}" for kib in held),
                   f"{(peak - base) / 1024:.0f}"]
        tracemalloc.stop()
        del middleware


def rst_table(header: list[str], rows: list[list[str]]) -> str:
    """A reStructuredText simple table, cells as given."""
    return tabulate(rows, headers=header, tablefmt="rst", disable_numparse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--origins", type=int, default=100_000,
                        help="distinct origins per kind (default 100,000)")
    parser.add_argument("--output", help="also write the report to this file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows = list(run(args.origins))
    text = "\n".join([
        f"Python {sys.version.split()[0]}; caches: {engine_module.ANSWER_CACHE_SIZE:,} answers in each of "
        "the engine's two caches, predicate cache 10,000 origins (the default)",
        "",
        "KiB held by the middleware (policy and caches included) after each tenth of each kind's run, "
        "and the peak so far; kinds run in this order on one middleware",
        "",
        rst_table(["policy", "requests", "distinct", "KiB held after each 10%", "peak KiB"], rows),
        "",
        f"({time.monotonic() - started:.0f} s)",
    ])
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
