"""End to end: real servers on 127.0.0.1 loaded with ``wrk``.

Run (``apt-get install -y wrk`` first; peers from ``benchmarks/requirements.txt``)::

    python benchmarks/end_to_end.py                       # 10 rounds x 3 s, about 7 minutes
    python benchmarks/end_to_end.py --rounds 10 --duration 3 --output benchmarks/results-end-to-end.rst

Servers: gunicorn ``sync`` (1 worker), gunicorn ``gthread`` (1 worker, 4
threads) and waitress (4 threads), each serving four apps from
``e2e_apps.py``: the bare app, ``static`` (the bare app sending the same
CORS headers as constants: the control), cors_wsgi and wsgicors.  Every
server is started once, on a free port of 127.0.0.1, in its own session.  A
round runs ``wrk -t1 -c4 -d<duration>s -H "Origin: <allowed origin>"``
against every (server, app) pair, the apps of one server back to back in a
shuffled order.  Per run: requests/s from wrk, and the server's CPU time
(user + system of every process of its session, from ``/proc``) divided by
the requests served.  Tables: medians over rounds of the per-round ratio to
the ``static`` control of the same server.

Reconnects: a wrk script alternates preflights and GETs, against cors_wsgi
answering allowed preflights ``204`` without ``Content-Length`` (the
default) and ``200`` with ``Content-Length: 0`` (``preflight_status=200``);
the app counts the distinct client ports requests arrived on.  Every loop is bounded (rounds, duration,
start-up timeouts) and every server is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from candidates import ALLOWED_ORIGIN
from tabulate import tabulate

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
APPS = ("bare", "static", "cors_wsgi", "wsgicors")
SERVERS = ("gunicorn sync", "gunicorn gthread", "waitress")
TICKS = os.sysconf("SC_CLK_TCK")

MIXED_LUA = """
local n = 0
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("OPTIONS", "/api/items", {["Origin"] = "ORIGIN",
      ["Access-Control-Request-Method"] = "PUT",
      ["Access-Control-Request-Headers"] = "content-type,authorization"})
  end
  return wrk.format("GET", "/api/items", {["Origin"] = "ORIGIN"})
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(server: str, app: str, port: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
    if server == "waitress":
        return [str(BIN / "waitress-serve"), f"--listen={bind}", "--threads=4", f"e2e_apps:{app}"]
    worker = ["-k", "sync"] if server == "gunicorn sync" else ["-k", "gthread", "--threads", "4"]
    return [str(BIN / "gunicorn"), "-b", bind, "-w", "1", *worker, "--chdir", str(HERE), f"e2e_apps:{app}"]


class Server:
    """One server process (and its workers) in its own session."""

    def __init__(self, server: str, app: str) -> None:
        self.name, self.app, self.port = server, app, free_port()
        env = {**os.environ, "PYTHONPATH": str(HERE)}
        self.process = subprocess.Popen(
            command(server, app, self.port), cwd=HERE, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/items"

    def wait(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url, timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} serving {self.app} did not start on port {self.port}")

    def cpu_seconds(self) -> float:
        """User + system CPU of every live process in the server's session."""
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.process.pid:  # the session id (field 6) is the leader's pid
                total += int(fields[11]) + int(fields[12])
        return total / TICKS

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the session this script started
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def wrk(url: str, duration: float, script: str | None = None) -> tuple[int, float, str]:
    """``(requests, requests/s, errors line)`` of one wrk run."""
    args = ["wrk", "-t1", "-c4", f"-d{duration:g}s", "-H", f"Origin: {ALLOWED_ORIGIN}", url]
    if script:
        args[1:1] = ["-s", script]
    out = subprocess.run(args, capture_output=True, text=True, timeout=duration + 30, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Socket errors:.*|Non-2xx.*", out)
    return requests, rate, errors.group(0) if errors else ""


def rst_table(header: list[str], rows: list[list[str]]) -> str:
    """A reStructuredText simple table, cells as given."""
    return tabulate(rows, headers=header, tablefmt="rst", disable_numparse=True)


def measure(rounds: int, duration: float, apps: list[str]) -> Iterator[str]:
    servers = {(s, a): Server(s, a) for s in SERVERS for a in apps}
    try:
        for server in servers.values():
            server.wait()
        rates: dict[tuple[str, str], list[float]] = {key: [] for key in servers}
        cpu: dict[tuple[str, str], list[float]] = {key: [] for key in servers}
        notes: set[str] = set()
        rng = random.Random(8)
        for _ in range(rounds):
            for name in SERVERS:
                order = list(apps)
                rng.shuffle(order)
                for app in order:
                    server = servers[name, app]
                    before = server.cpu_seconds()
                    requests, rate, errors = wrk(server.url, duration)
                    cpu[name, app].append((server.cpu_seconds() - before) / max(requests, 1) * 1e6)
                    rates[name, app].append(rate)
                    if errors:
                        notes.add(f"{name} / {app}: {errors}")
        yield from tables(rates, cpu, apps, rounds, duration)
        yield from (f"- wrk reported: {n}" for n in sorted(notes))
        yield ""
    finally:
        for server in servers.values():
            server.stop()


def tables(rates: dict[tuple[str, str], list[float]], cpu: dict[tuple[str, str], list[float]],
           apps: list[str], rounds: int, duration: float) -> Iterator[str]:
    def ratio(data: dict[tuple[str, str], list[float]], name: str, app: str) -> str:
        pairs = zip(data[name, app], data[name, "static"], strict=True)
        return f"{statistics.median(a / b for a, b in pairs):.3f}x"

    yield f"End to end: {rounds} rounds x {duration:g} s per (server, app), wrk -t1 -c4\n"
    yield "Requests/s, median (ratio to the static-header control, median of per-round ratios)\n"
    rows = [[name] + [f"{statistics.median(rates[name, a]):.0f} ({ratio(rates, name, a)})" for a in apps]
            for name in SERVERS]
    yield rst_table(["server", *apps], rows) + "\n"
    yield "Server CPU per request in microseconds, median (ratio to the control)\n"
    rows = [[name] + [f"{statistics.median(cpu[name, a]):.1f} ({ratio(cpu, name, a)})" for a in apps]
            for name in SERVERS]
    yield rst_table(["server", *apps], rows) + "\n"


def reconnects(duration: float) -> Iterator[str]:
    """Connections opened per 1,000 requests under half preflights, half GETs."""
    rows = []
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(MIXED_LUA.replace("ORIGIN", ALLOWED_ORIGIN))
        script = f.name
    try:
        for name in SERVERS:
            for app, mixed in (("counted_cors_wsgi", False), ("counted_cors_wsgi", True),
                               ("counted_cors_wsgi_200", True)):
                server = Server(name, app)
                try:
                    server.wait()
                    base = server.url.replace("/api/items", "/__connections")
                    urllib.request.urlopen(base, timeout=5).read()  # start counting afresh
                    requests, rate, _ = wrk(server.url, duration, script if mixed else None)
                    _, connections = map(int, urllib.request.urlopen(base, timeout=5).read().split())
                finally:
                    server.stop()
                load = "preflight + GET, alternating" if mixed else "GET only"
                status = "200 + Content-Length: 0" if app.endswith("_200") else "204 (default)"
                rows.append([name, load, status, str(requests), str(connections),
                             f"{connections / max(requests, 1) * 1000:.0f}", f"{rate:.0f}"])
    finally:
        os.unlink(script)
    yield "Reconnects under load: cors_wsgi, wrk -c4, connections counted by the app\n"
    yield rst_table(["server", "load", "allowed preflight", "requests", "connections", "per 1,000 requests",
                     "requests/s"],
                    rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="alternated rounds (default 10)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run (default 3)")
    parser.add_argument("--output", help="also write the report to this file")
    parser.add_argument("--reconnects-only", action="store_true", help="only the reconnect runs")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    apps = [a for a in APPS if a != "wsgicors" or __import__("importlib").util.find_spec("wsgicors")]
    started = time.monotonic()
    lines = [f"Python {sys.version.split()[0]}", ""]
    if not args.reconnects_only:
        lines += list(measure(args.rounds, args.duration, apps))
    lines += list(reconnects(args.duration))
    lines.append(f"({time.monotonic() - started:.0f} s)")
    text = "\n".join(lines)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
