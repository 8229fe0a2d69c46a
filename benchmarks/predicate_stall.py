"""Can random ``Origin`` headers stall a server through a slow ``allow_origin_predicate``?

A WSGI app behind ``CORSPolicy(allow_origins=[KNOWN], allow_origin_predicate=slow)``
runs under gunicorn gthread (2 workers x 4 threads) on a free loopback port.
Legitimate requests (the known origin, and no ``Origin`` at all) are timed
one after another, first alone, then while an attacker sends ``--rate``
requests per second, each with a fresh random origin, so each would reach the
predicate.  Two predicates: one that takes ``--predicate-ms`` (200) and one
that hangs; with the default bounds (``predicate_timeout_seconds=1.0``,
``predicate_concurrency=2``) and, for comparison, bounds loose enough to be
none (64 calls, 60 s: what the cache did before the bounds).  Target: the
attacked p99 of legitimate requests within 2x the unattacked p99::

    python benchmarks/predicate_stall.py            # 8 s per phase
    python benchmarks/predicate_stall.py --quick    # 1.5 s per phase, bounded scenarios only

Every loop is bounded in count and time; the servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tabulate import tabulate

HERE = Path(__file__).resolve().parent
KNOWN = "https://app.example.com"
GUNICORN = Path(sys.executable).with_name("gunicorn")


# -- the server side (imported by gunicorn: predicate_stall:create_app()) -----------------


def create_app() -> Any:
    from cors_wsgi import CORSMiddleware, CORSPolicy

    mode = os.environ.get("STALL_PREDICATE", "slow")
    delay = float(os.environ.get("STALL_PREDICATE_MS", "200")) / 1000
    never = threading.Event()

    def predicate(origin: str) -> bool:
        if mode == "hang":
            never.wait(3600)
        else:
            time.sleep(delay)
        return False

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    bounds: dict[str, Any] = {}
    if os.environ.get("STALL_UNBOUNDED") == "1":
        bounds = {"predicate_concurrency": 64, "predicate_timeout_seconds": 60.0}
    policy = CORSPolicy(allow_origins=[KNOWN], allow_origin_predicate=predicate, **bounds)
    return CORSMiddleware(app, policy=policy)


# -- the client side ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(port: int, origin: str | None, timeout: float = 10.0) -> float:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/", headers={"Origin": origin} if origin else {})
        connection.getresponse().read()
    finally:
        connection.close()
    return time.perf_counter() - started


def start_server(mode: str, unbounded: bool, predicate_ms: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "STALL_PREDICATE": mode, "STALL_PREDICATE_MS": str(predicate_ms),
           "STALL_UNBOUNDED": "1" if unbounded else "0",
           "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    server = subprocess.Popen(
        [str(GUNICORN), "--worker-class", "gthread", "--workers", "2", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "1", "--log-level", "error",
         "predicate_stall:create_app()"],
        env=env, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            for _ in range(8):  # both workers up and warm
                request(port, KNOWN, timeout=2)
            return server, port
        except OSError:
            if server.poll() is not None:
                output = server.stderr.read().decode() if server.stderr else ""
                raise RuntimeError(f"gunicorn exited: {output}") from None
            time.sleep(0.1)
    stop_server(server)
    raise RuntimeError("gunicorn did not answer within 20 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)


def legitimate(port: int, seconds: float, most: int) -> list[float]:
    """Known-origin and no-Origin requests in turn, for ``seconds`` or ``most`` requests."""
    timings: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(timings) < most:
        timings.append(request(port, KNOWN if len(timings) % 2 else None))
    return timings


def attack(port: int, rate: float, stop: threading.Event, most: int) -> list[threading.Thread]:
    """One request per ``1/rate`` s, each on its own thread with a fresh origin."""
    threads: list[threading.Thread] = []
    rng = random.Random(19)

    def one(origin: str) -> None:
        with contextlib.suppress(OSError):
            request(port, origin, timeout=5)

    next_at = time.monotonic()
    while not stop.is_set() and len(threads) < most:
        origin = f"https://{rng.getrandbits(64):016x}.attacker.example"
        thread = threading.Thread(target=one, args=(origin,), daemon=True)
        thread.start()
        threads.append(thread)
        next_at += 1 / rate
        stop.wait(max(0.0, next_at - time.monotonic()))
    return threads


def ms(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


def scenario(mode: str, unbounded: bool, args: argparse.Namespace) -> tuple[list[list[object]], str]:
    server, port = start_server(mode, unbounded, args.predicate_ms)
    most = int(args.seconds * 2000)
    try:
        quiet = legitimate(port, args.seconds, most)
        stop = threading.Event()
        attackers: list[threading.Thread] = []
        attacker = threading.Thread(
            target=lambda: attackers.extend(
                attack(port, args.rate, stop, int(args.rate * args.seconds * 2) + 1)
            ),
            daemon=True,
        )
        attacker.start()
        time.sleep(min(1.0, args.seconds / 4))  # let the attack reach its steady state
        loud = legitimate(port, args.seconds, most)
        stop.set()
        attacker.join(5)
        for thread in attackers:
            thread.join(0.5)
    finally:
        stop_server(server)
    bounds = "64 calls, 60 s (none)" if unbounded else "2 calls, 1.0 s (default)"
    predicate = "hangs" if mode == "hang" else f"{args.predicate_ms} ms"
    rows: list[list[object]] = []
    for phase, timings in (("unattacked", quiet), (f"{args.rate:g} attacks/s", loud)):
        rows.append([predicate, bounds, phase, len(timings), f"{ms(timings, 0.5):.1f}",
                     f"{ms(timings, 0.99):.1f}", f"{1000 * max(timings):.1f}"])
    ratio = ms(loud, 0.99) / max(ms(quiet, 0.99), 1e-9)
    verdict = "PASS" if ratio <= 2 else "FAIL"
    return rows, f"- predicate {predicate}, bounds {bounds}: attacked p99 / unattacked p99 = {ratio:.2f} " \
                 f"(target <= 2) {verdict}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--rate", type=float, default=20.0, help="attacker requests per second")
    parser.add_argument("--predicate-ms", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="1.5 s phases, the bounded scenarios only")
    args = parser.parse_args()
    cases = [("slow", False), ("hang", False), ("slow", True)]
    if args.quick:
        args.seconds = min(args.seconds, 1.5)
        cases = cases[:2]
    rows: list[list[object]] = []
    verdicts: list[str] = []
    for mode, unbounded in cases:
        case_rows, verdict = scenario(mode, unbounded, args)
        rows.extend(case_rows)
        verdicts.append(verdict)
    headers = ["predicate", "bounds", "legitimate requests", "n", "p50 ms", "p99 ms", "max ms"]
    print(tabulate(rows, headers=headers, tablefmt="rst"))
    print()
    print("Targets\n")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
