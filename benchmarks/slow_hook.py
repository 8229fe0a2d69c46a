"""What a slow ``on_refusal`` hook costs a refused request, called in the
request's thread and through ``BackgroundHook``.

Anyone can send refused requests, so a hook that takes ``--hook-ms`` per
refusal (a database insert, a remote metrics call) adds that much to each of
them unless it runs elsewhere.  Refused preflights go through a real
``waitress`` server on 127.0.0.1, one connection each; the table gives the
median and worst response time over ``--requests`` requests::

    python benchmarks/slow_hook.py --requests 20 --hook-ms 200
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import threading
import time
from typing import Any

from tabulate import tabulate
from waitress.server import create_server

from cors_wsgi import CORSMiddleware, CORSPolicy
from cors_wsgi.refusals import BackgroundHook, Refusal


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def timed(port: int, requests: int) -> list[float]:
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("OPTIONS", "/", headers={"Origin": "https://attacker.example",
                                                    "Access-Control-Request-Method": "PUT"})
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.status == 403
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--hook-ms", type=float, default=200.0)
    args = parser.parse_args()
    policy = CORSPolicy(allow_origins="https://app.example.com", allow_methods="PUT")

    def slow(refusal: Refusal) -> None:
        time.sleep(args.hook_ms / 1000)

    background = BackgroundHook(slow)
    rows = []
    for name, hook in (("no hook", None), ("slow hook, in the request", slow),
                       ("slow hook, BackgroundHook", background)):
        wrapped = CORSMiddleware(app, policy, on_refusal=hook)
        server = create_server(wrapped, host="127.0.0.1", port=0, threads=4)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            seconds = timed(server.effective_port, args.requests)  # type: ignore[union-attr]
            time.sleep(0.2)  # let waitress finish its last task before closing its sockets
        finally:
            server.close()
        rows.append((name, f"{statistics.median(seconds) * 1000:.2f}", f"{max(seconds) * 1000:.2f}"))
    print(f"Refused preflights through waitress, {args.requests} requests, hook {args.hook_ms:g} ms:\n")
    print(tabulate(rows, headers=("on_refusal", "median ms", "worst ms"), tablefmt="rst"))
    print(f"\nBackgroundHook: {background.dropped} dropped")


if __name__ == "__main__":
    main()
