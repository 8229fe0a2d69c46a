"""Per-request cost of cors_wsgi and its peers, with their answers checked.

Run (after ``pip install -e . -r benchmarks/requirements.txt``)::

    python benchmarks/compare.py                   # about a minute; all installed peers
    python benchmarks/compare.py --output benchmarks/results-compare.rst --profile
    python benchmarks/compare.py --quick --builtin-only   # the CI smoke run, seconds

Method (documented, no statistics beyond medians): every candidate is called
in-process as a server would (``app(environ, start_response)``, the body
iterated, ``close()`` called) in batches timed with ``time.perf_counter_ns``;
one batch lasts about ``--batch-ms``.  A round times one batch of every
(scenario, candidate) cell, scenario by scenario, the candidates of a
scenario back to back in a shuffled order, so the cells compared with each
other are measured seconds apart.  Ratios and overheads are computed within
each round (paired), and the tables show their median over ``--rounds``
rounds.  ``overhead`` is ``t(candidate) - t(its bare app)`` for the same
request; framework peers are measured over their own framework without CORS.

Before timing, every candidate answers every scenario once; its status and
CORS headers are judged with :mod:`cors_wsgi.fetch` (the browser's verdict)
plus the checks a cache and the policy need (``Vary: Origin``, the exposed
header, max age 600), and shown as PASS/FAIL next to the speed.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import itertools
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref.util import setup_testing_defaults

import candidates as cands
from tabulate import tabulate

from cors_wsgi import fetch

# -- scenarios ----------------------------------------------------------------

ALLOWED = cands.ALLOWED_ORIGIN
DISALLOWED = "https://evil.example.net"

try:  # the current caps; the rewrite may change or rename them
    from cors_wsgi import _engine

    ACRH_MAX_LENGTH = int(getattr(_engine, "MAX_REQUEST_HEADERS_LENGTH", 16 * 1024))
    ACRH_MAX_NAMES = int(getattr(_engine, "MAX_REQUESTED_HEADERS", 64))
except ImportError:  # pragma: no cover
    ACRH_MAX_LENGTH, ACRH_MAX_NAMES = 16 * 1024, 64


def _worst_under_cap() -> str:
    """The costliest ACRH cors_wsgi still parses and allows: the most names
    (all allowed) the cap lets through, padded with spaces to its length."""
    names = ",".join(itertools.islice(itertools.cycle(["content-type", "authorization"]), ACRH_MAX_NAMES))
    return names + " " * (ACRH_MAX_LENGTH - len(names))


def environ(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "api.example.com",
        "SERVER_PORT": "443", "HTTP_HOST": "api.example.com", "wsgi.url_scheme": "https",
    }
    for name, value in headers.items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(env)
    env["bench.asgi_scope"] = cands.asgi_scope(method, path, headers)
    return env


PREFLIGHT_REQUEST = fetch.Request(
    ALLOWED, "PUT", headers=[("Content-Type", "application/json"), ("Authorization", "Bearer t")],
    credentials="include",
)
_counter = itertools.count()


@dataclass
class Scenario:
    name: str
    group: str  # "base", "hostile" or "scale"
    method: str
    headers: dict[str, str]
    #: What the browser is asking for (None: a request without Origin).
    request: fetch.Request | None
    #: "allowed", "blocked" or "either" (a preflight to an unknown path).
    expect: str
    path: str = "/api/items"
    #: Origins never seen before, one per call: a format with ``{n}``.
    fresh_origin: str | None = None
    _env: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def preflight(self) -> bool:
        return self.method == "OPTIONS"

    def environs(self, count: int) -> list[dict[str, Any]]:
        if self.fresh_origin is None:
            if self._env is None:
                self._env = environ(self.method, self.path, self.headers)
            return [self._env] * count
        origins = [self.fresh_origin.format(n=next(_counter)) for _ in range(count)]
        return [environ(self.method, self.path, {**self.headers, "Origin": o}) for o in origins]


def _preflight(origin: str, acrh: str = "content-type,authorization") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": acrh}


def _get(origin: str) -> fetch.Request:
    return fetch.Request(origin, "GET", credentials="include")


def _preflight_request(origin: str) -> fetch.Request:
    return fetch.Request(origin, "PUT", headers=PREFLIGHT_REQUEST.headers, credentials="include")


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("GET, no Origin", "base", "GET", {}, None, "none"),
    Scenario("GET, allowed origin", "base", "GET", {"Origin": ALLOWED}, _get(ALLOWED), "allowed"),
    Scenario("GET, disallowed origin", "base", "GET", {"Origin": DISALLOWED}, _get(DISALLOWED), "blocked"),
    Scenario("preflight, allowed", "base", "OPTIONS", _preflight(ALLOWED), PREFLIGHT_REQUEST, "allowed"),
    Scenario("preflight, unknown path", "base", "OPTIONS", _preflight(ALLOWED), PREFLIGHT_REQUEST,
             "either", path="/no/such/path"),
    Scenario("preflight, disallowed origin", "base", "OPTIONS", _preflight(DISALLOWED),
             _preflight_request(DISALLOWED), "blocked"),
    Scenario("preflight, header not allowed", "hostile", "OPTIONS", _preflight(ALLOWED, "x-evil"),
             fetch.Request(ALLOWED, "PUT", headers=[("X-Evil", "1")], credentials="include"), "blocked"),
    Scenario("preflight, 8 KiB hostile ACRH", "hostile", "OPTIONS", _preflight(ALLOWED, "a," * 4096),
             fetch.Request(ALLOWED, "PUT", headers=[("A", "1")], credentials="include"), "blocked"),
    Scenario("preflight, 64 KiB ACRH", "hostile", "OPTIONS", _preflight(ALLOWED, "a," * 32768),
             fetch.Request(ALLOWED, "PUT", headers=[("A", "1")], credentials="include"), "blocked"),
    Scenario("preflight, worst ACRH under cap", "hostile", "OPTIONS", _preflight(ALLOWED, _worst_under_cap()),
             PREFLIGHT_REQUEST, "allowed"),
    Scenario("GET, 1,050 origins, repeated", "scale", "GET", {"Origin": "https://x.tenant49.example.net"},
             _get("https://x.tenant49.example.net"), "allowed"),
    Scenario("GET, 1,050 origins, first-seen", "scale", "GET", {}, _get("https://u0.tenant49.example.net"),
             "allowed", fresh_origin="https://u{n}.tenant49.example.net"),
    Scenario("GET, 1,050 origins, first-seen refused", "scale", "GET", {},
             _get("https://u0.evil.example.org"), "blocked", fresh_origin="https://u{n}.evil.example.org"),
)

SCALE_CANDIDATES = ("bare app", "floor (no shim)", "cors_wsgi 1,050", "cors_wsgi 1,050 (baseline)",
                    "wsgicors 1,050")


def applies(spec: cands.Spec, scenario: Scenario) -> bool:
    if scenario.group == "scale":
        return spec.name in SCALE_CANDIDATES
    return spec.group != "scale"


# -- running one request, checking its answer --------------------------------


class Recorder:
    """A server's ``start_response`` that keeps the last status and headers."""

    status = ""
    headers: list[tuple[str, str]] = []  # noqa: RUF012 (replaced per call)

    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[..., Any]:
        self.status, self.headers = status, list(headers)
        return _write


def _write(data: bytes) -> None:
    return None


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
    return _write


def serve(app: cands.Wsgi, env: dict[str, Any], start_response: Callable[..., Any], copy: bool) -> None:
    result = app(dict(env) if copy else env, start_response)
    for _ in result:
        pass
    close = getattr(result, "close", None)
    if close is not None:
        close()


def cors_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(n, v) for n, v in headers if n.lower().startswith("access-control-") or n.lower() == "vary"]


def _varies_by_origin(headers: list[tuple[str, str]]) -> bool:
    tokens = {t.strip().lower() for t in (fetch.get_header(headers, "Vary") or "").split(",")}
    return "origin" in tokens or "*" in tokens


def judge(scenario: Scenario, env: dict[str, Any], status: str, headers: list[tuple[str, str]]) -> str:
    """``"PASS"`` or ``"FAIL: <why>"`` (several reasons joined by ``;``);
    for a preflight to an unknown path, either answer passes and is named."""
    code = int(status.split(None, 1)[0])
    problems: list[str] = []
    if code >= 500:
        problems.append(f"status {code}")
    request = scenario.request
    outcome = ""
    if request is None:
        if fetch.get_header(headers, "Access-Control-Allow-Origin") is not None:
            problems.append("ACAO w/o Origin")
    else:
        request = dataclasses.replace(request, origin=env["HTTP_ORIGIN"])
        response = fetch.Response(code, headers)
        if scenario.preflight:
            verdict = fetch.preflight_check(request, response)
        else:
            verdict = fetch.evaluate(request, response)
        if scenario.expect == "allowed" and not verdict.allowed:
            problems.append(f"blocked ({verdict.step})")
        if scenario.expect == "blocked" and verdict.allowed:
            problems.append("browser allows")
        if scenario.expect == "allowed" and verdict.allowed:
            if scenario.preflight and fetch.max_age(headers) != cands.MAX_AGE:
                problems.append(f"max age {fetch.max_age(headers)}")
            if not scenario.preflight and "x-request-id" not in fetch.exposed_header_names(request, headers):
                problems.append("X-Request-Id not exposed")
        if scenario.expect == "either":
            outcome = f" ({'allowed' if verdict.allowed else 'refused'} {code})"
    if not _varies_by_origin(headers):
        problems.append("no Vary")
    return "PASS" + outcome if not problems else "FAIL: " + "; ".join(problems)


# -- timing -------------------------------------------------------------------


def time_batch(app: cands.Wsgi, envs: list[dict[str, Any]], copy: bool) -> float:
    """Nanoseconds per call over one batch (the loop of ``serve``, inlined)."""
    sr = _start_response
    now = time.perf_counter_ns
    if copy:
        start = now()
        for env in envs:
            result = app(dict(env), sr)
            for _ in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return (now() - start) / len(envs)
    start = now()
    for env in envs:
        result = app(env, sr)
        for _ in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return (now() - start) / len(envs)


@dataclass
class Cell:
    spec: cands.Spec
    scenario: Scenario
    app: cands.Wsgi
    calls: int = 0
    verdict: str = ""
    status: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    samples: list[float] = field(default_factory=list)


def prepare(specs: list[cands.Spec], batch_ms: float) -> dict[tuple[str, str], Cell]:
    cells: dict[tuple[str, str], Cell] = {}
    apps = {spec.name: spec.build() for spec in specs}
    for scenario in SCENARIOS:
        for spec in specs:
            if not applies(spec, scenario):
                continue
            cell = Cell(spec, scenario, apps[spec.name])
            recorder = Recorder()
            env = scenario.environs(1)[0]
            serve(cell.app, env, recorder, spec.copies_environ)
            cell.status, cell.headers = recorder.status, recorder.headers
            cell.verdict = judge(scenario, env, recorder.status, recorder.headers)
            per_call = time_batch(cell.app, scenario.environs(20), spec.copies_environ)  # warm-up + estimate
            cell.calls = max(10, min(50_000, int(batch_ms * 1e6 / max(per_call, 1.0))))
            cells[spec.name, scenario.name] = cell
    return cells


def run(cells: dict[tuple[str, str], Cell], rounds: int, deadline: float) -> int:
    """Time every cell ``rounds`` times; stops early at ``deadline`` (monotonic)."""
    rng = random.Random(8)
    by_scenario: dict[str, list[Cell]] = {}
    for cell in cells.values():
        by_scenario.setdefault(cell.scenario.name, []).append(cell)
    done = 0
    for _ in range(rounds):
        if time.monotonic() > deadline:
            break
        for group in by_scenario.values():
            order = list(group)
            rng.shuffle(order)
            batches = [(cell, cell.scenario.environs(cell.calls)) for cell in order]
            for cell, envs in batches:
                cell.samples.append(time_batch(cell.app, envs, cell.spec.copies_environ))
        done += 1
    return done


# -- results ------------------------------------------------------------------


def paired(cells: dict[tuple[str, str], Cell], a: tuple[str, str], b: tuple[str, str],
           op: Callable[[float, float], float]) -> float | None:
    if a not in cells or b not in cells:
        return None
    return statistics.median(op(x, y) for x, y in zip(cells[a].samples, cells[b].samples, strict=False))


def ratio(x: float, y: float) -> float:
    return x / y


def minus(x: float, y: float) -> float:
    return x - y


def reference(spec: cands.Spec) -> str:
    """What a candidate's total time is divided by: the floor for plain WSGI
    layers, the framework itself for framework peers."""
    return spec.bare if spec.group == "framework" else "floor (no shim)"


def rst_table(header: list[str], rows: list[list[str]]) -> str:
    """A reStructuredText simple table, cells as given."""
    return tabulate(rows, headers=header, tablefmt="rst", disable_numparse=True)


def _fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def report(cells: dict[tuple[str, str], Cell], specs: list[cands.Spec], rounds: int) -> Iterator[str]:
    names = [s.name for s in specs]
    scenarios = [s for s in SCENARIOS if any((n, s.name) in cells for n in names)]

    yield "Median ns per request"
    yield "---------------------\n"
    rows = [[sc.name] + [_fmt(statistics.median(cells[n, sc.name].samples) if (n, sc.name) in cells
                               and cells[n, sc.name].samples else None, ".0f") for n in names]
            for sc in scenarios]
    yield rst_table(["scenario", *names], rows) + "\n"

    yield "Total time over the floor (plain WSGI) or over the bare framework (peers)"
    yield "-------------------------------------------------------------------------\n"
    shown = [s for s in specs if not (s.group == "framework" and s.name == s.bare)]
    rows = []
    for sc in scenarios:
        row = [sc.name]
        for spec in shown:
            key = (spec.name, sc.name)
            row.append(_fmt(paired(cells, key, (reference(spec), sc.name), ratio), suffix="x")
                       if key in cells else "-")
        rows.append(row)
    yield rst_table(["scenario", *[s.name for s in shown]], rows) + "\n"

    yield "Overhead in ns: t(candidate) - t(its bare app), same request"
    yield "-------------------------------------------------------------\n"
    layers = [s for s in specs if s.name != s.bare]
    rows = [[sc.name] + [_fmt(paired(cells, (s.name, sc.name), (s.bare, sc.name), minus), ".0f")
                         for s in layers] for sc in scenarios]
    yield rst_table(["scenario", *[s.name for s in layers]], rows) + "\n"

    yield "Behaviour: each candidate's answer judged (cors_wsgi.fetch + Vary + policy)"
    yield "---------------------------------------------------------------------------\n"
    judged = [n for n in names if n not in {s.bare for s in specs} and not n.startswith(("floor", "pass"))]
    rows = [[sc.name] + [cells[n, sc.name].verdict if (n, sc.name) in cells else "-" for n in judged]
            for sc in scenarios]
    yield rst_table(["scenario", *judged], rows) + "\n"
    yield f"({rounds} rounds; ratios and overheads are medians of per-round pairs.)\n"


def targets(cells: dict[tuple[str, str], Cell], specs: list[cands.Spec]) -> Iterator[str]:
    """The targets for cors_wsgi (ratios to the floor and to peers): met, or missed by how much."""
    rows: list[list[str]] = []

    def add(what: str, value: float | None, limit: float, unit: str = "x", lower: bool = True) -> None:
        if value is None:
            rows.append([what, "-", f"{'<=' if lower else '>='} {limit:g}{unit}", "not measured"])
            return
        met = value <= limit if lower else value >= limit
        verdict = "met" if met else f"missed by {value / limit if lower else limit / value:.2f}x"
        shown = f"{limit:g}{unit}" if unit == "x" else f"{limit:.0f}{unit}"
        rows.append([what, f"{value:.2f}{unit}" if unit == "x" else f"{value:.0f}{unit}",
                     f"{'<=' if lower else '>='} {shown}", verdict])

    base = [s for s in SCENARIOS if s.group in ("base", "hostile")]
    for sc in base:
        limit = 1.3 if sc.preflight else 1.6 if sc.request is None else 1.8
        add(f"total / floor: {sc.name}", paired(cells, ("cors_wsgi", sc.name), ("floor (no shim)", sc.name),
                                                 ratio), limit)
    for sc in base:
        if sc.request is None:
            continue
        limit = 0.3 if sc.preflight else 0.5 if sc.expect == "allowed" else 0.65
        ours = paired(cells, ("cors_wsgi", sc.name), ("bare app", sc.name), minus)
        theirs = paired(cells, ("wsgicors", sc.name), ("bare app", sc.name), minus)
        value = None if ours is None or theirs is None else ours / theirs
        add(f"overhead / wsgicors's: {sc.name}", value, limit)
    peers = [s for s in specs if s.name not in {"cors_wsgi", s.bare} and s.group != "scale"
             and not s.name.startswith(("floor", "pass-through", "cors_wsgi"))]
    for sc in base:
        ours = paired(cells, ("cors_wsgi", sc.name), ("bare app", sc.name), minus)
        for peer in peers:
            cell = cells.get((peer.name, sc.name))
            if cell is None or ours is None or not cell.verdict.startswith("PASS"):
                continue
            theirs = paired(cells, (peer.name, sc.name), (peer.bare, sc.name), minus)
            if theirs is not None and theirs <= 0:
                rows.append([f"overhead below {peer.name} (PASS): {sc.name}", f"{ours:.0f} ns",
                             f"< {theirs:.0f} ns", "not comparable: the peer is cheaper than its bare "
                             "framework here (it answers before routing)"])
            elif theirs is not None:
                add(f"overhead below {peer.name} (PASS): {sc.name}", ours, theirs, " ns")
    one = ("cors_wsgi", "GET, allowed origin")
    for name, limit in (("GET, 1,050 origins, repeated", 1.1), ("GET, 1,050 origins, first-seen", 2.0),
                        ("GET, 1,050 origins, first-seen refused", 2.0)):
        add(f"{name} / 2-origin policy's allowed GET",
            paired(cells, ("cors_wsgi 1,050", name), one, ratio), limit)
    add("8 KiB ACRH refusal / 1-name refusal (O(1) when ~1)",
        paired(cells, ("cors_wsgi", "preflight, 8 KiB hostile ACRH"),
               ("cors_wsgi", "preflight, header not allowed"), ratio), 1.1)
    cell = cells.get(("cors_wsgi", "preflight, worst ACRH under cap"))
    add("worst ACRH under cap, ns per preflight",
        statistics.median(cell.samples) if cell and cell.samples else None, 20_000, " ns")
    if any(spec.name == "cors_wsgi (mypyc)" for spec in specs):
        for sc in base:
            pure = paired(cells, ("cors_wsgi", sc.name), ("bare app", sc.name), minus)
            compiled = paired(cells, ("cors_wsgi (mypyc)", sc.name), ("bare app", sc.name), minus)
            value = None if pure is None or not compiled or compiled <= 0 else pure / compiled
            add(f"mypyc cuts the overhead: {sc.name}", value, 2.0, lower=False)
    if any(spec.name == "cors_wsgi (baseline)" for spec in specs):
        for sc in base:
            ours = paired(cells, ("cors_wsgi", sc.name), ("bare app", sc.name), minus)
            theirs = paired(cells, ("cors_wsgi (baseline)", sc.name), ("bare app", sc.name), minus)
            value = None if ours is None or not theirs or theirs <= 0 else ours / theirs
            add(f"overhead over the baseline's: {sc.name}", value, 1.15)
        for sc in SCENARIOS:
            if sc.group == "scale":
                ours = paired(cells, ("cors_wsgi 1,050", sc.name), ("bare app", sc.name), minus)
                theirs = paired(cells, ("cors_wsgi 1,050 (baseline)", sc.name), ("bare app", sc.name), minus)
                value = None if ours is None or not theirs or theirs <= 0 else ours / theirs
                add(f"overhead over the baseline's: {sc.name}", value, 1.15)
    yield "Targets for cors_wsgi"
    yield "---------------------\n"
    yield rst_table(["target", "measured", "limit", "verdict"], rows) + "\n"


def details(cells: dict[tuple[str, str], Cell]) -> Iterator[str]:
    yield "Answers (status and CORS headers, as recorded before timing)"
    yield "-------------------------------------------------------------\n"
    for (name, scenario), cell in cells.items():
        if cell.spec.name == cell.spec.bare:
            continue
        shown = "; ".join(f"{n}: {v if len(v) < 80 else v[:60] + f'... ({len(v)} chars)'}"
                          for n, v in cors_headers(cell.headers))
        yield f"- {name} / {scenario}: ``{cell.status}`` {shown or '(no CORS headers)'} -> {cell.verdict}"
    yield ""


def profile(cells: dict[tuple[str, str], Cell]) -> Iterator[str]:
    """cProfile of cors_wsgi on its worst scenario (highest ratio to the
    floor) among the six base scenarios, and among the hostile ones."""
    for group in ("base", "hostile"):
        worst = max(
            (sc for sc in SCENARIOS if ("cors_wsgi", sc.name) in cells and sc.group == group),
            key=lambda sc: paired(cells, ("cors_wsgi", sc.name), ("floor (no shim)", sc.name), ratio) or 0.0,
        )
        cell = cells["cors_wsgi", worst.name]
        envs = worst.environs(20_000)
        profiler = cProfile.Profile()
        profiler.enable()
        for env in envs:
            serve(cell.app, env, _start_response, False)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(10)
        text = "\n".join("    " + line.rstrip() for line in out.getvalue().strip().splitlines())
        title = f"cProfile of cors_wsgi, worst {group} scenario '{worst.name}', 20,000 calls, by own time"
        yield title
        yield "-" * len(title) + "\n"
        yield "::\n"
        yield text + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=25, help="paired rounds (default 25)")
    parser.add_argument("--batch-ms", type=float, default=8.0, help="length of one timed batch (default 8)")
    parser.add_argument("--max-seconds", type=float, default=240.0,
                        help="stop timing after this (default 240)")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 0.3 ms batches (smoke run)")
    parser.add_argument("--builtin-only", action="store_true",
                        help="only cors_wsgi and the pass-through layers (no peer packages needed)")
    parser.add_argument("--profile", action="store_true", help="cProfile cors_wsgi's worst scenario")
    parser.add_argument("--output", help="also write the report to this file")
    parser.add_argument("--compiled", metavar="DIR",
                        help="also time cors_wsgi_compiled from DIR (built by compiled.py)")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also time cors_wsgi_baseline from DIR (copied by baseline.py)")
    args = parser.parse_args(argv)
    for directory in (args.compiled, args.baseline):
        if directory:
            sys.path.insert(0, directory)
    if args.quick:
        args.rounds, args.batch_ms = 3, 0.3

    specs: list[cands.Spec] = []
    skipped: list[str] = []
    for spec in cands.SPECS:
        if spec.name in ("cors_wsgi (mypyc)", "cors_wsgi (baseline)", "cors_wsgi 1,050 (baseline)"):
            if args.compiled if spec.name == "cors_wsgi (mypyc)" else args.baseline:
                specs.append(spec)
            continue
        if args.builtin_only and spec.needs:
            continue
        absent = cands.missing(spec)
        if absent:
            skipped.append(f"{spec.name} (not installed: {', '.join(absent)})")
        else:
            specs.append(spec)
    started = time.monotonic()
    cells = prepare(specs, args.batch_ms)
    rounds = run(cells, args.rounds, started + args.max_seconds)
    lines = [
        f"Python {sys.version.split()[0]}; {rounds} rounds, ~{args.batch_ms:g} ms batches; "
        f"{time.monotonic() - started:.0f} s",
        *(f"skipped: {s}" for s in skipped), "",
        *report(cells, specs, rounds), *targets(cells, specs), *details(cells),
    ]
    if args.profile:
        lines += list(profile(cells))
    text = "\n".join(lines)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
