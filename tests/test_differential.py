"""The fast request path against a plain reference of the same rules.

``CORSMiddleware.__call__`` and ``Engine.respond`` answer from the engine's
two caches (``actuals``, ``preflights``), bind one closure and copy the
application's headers in one go when they hold nothing to strip or merge.
``reference_call`` below is the plain form of the same rules: routing with
``PathMap.match``, then ``Engine.preflight`` or ``Engine.response_headers``
computed afresh for every request, and every header list through
``plain_rewrite``, written here from the rules, not from the code.  Hypothesis draws policies, sequences of requests (so caches
are filled, hit, and emptied) and application behaviours (plain headers,
``Vary``, ``Access-Control-*``, broken PEP 3333 headers, ``exc_info``,
exceptions, lazy bodies), and the two must agree on every status, header
list, ``exc_info`` passed on, body, exception and refusal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSMiddleware, CORSPolicy
from cors_wsgi import _engine as engine_module
from cors_wsgi._engine import report_refusal
from cors_wsgi._log import escape
from cors_wsgi._protocol import TOKEN_CHARS
from cors_wsgi.paths import AMBIGUOUS, PathMap
from cors_wsgi.refusals import Refusal
from tests.conftest import StartResponse, discard_response, ok_app

APP = "https://app.example.com"
SUB = "https://a.tenant.example.net"
EVIL = "https://evil.example.net"

POLICIES: dict[str, Any] = {
    "credentials": lambda: CORSPolicy(
        allow_origins=[APP, "https://*.tenant.example.net"], allow_methods=["PUT", "DELETE"],
        allow_headers=["Content-Type", "Authorization"], expose_headers=["X-Request-Id"],
        allow_credentials=True, max_age=600,
    ),
    "any-origin": lambda: CORSPolicy(allow_origins="*", allow_methods="*", allow_headers="*",
                                     expose_headers="*", timing_allow_origin=True),
    "star-headers-credentials": lambda: CORSPolicy(
        allow_origins=[APP], allow_methods="*", allow_headers="*", allow_credentials=True,
    ),
    "regex-private-network-200": lambda: CORSPolicy(
        allow_origin_regex=r"https://[a-z]+\.tenant\.example\.net", allow_origins=[APP],
        allow_methods=["PUT", "PATCH"], allow_headers=["X-A", "Content-Type"], allow_private_network=True,
        preflight_status=200,
        timing_allow_origin=True,
    ),
    "predicate": lambda: CORSPolicy(
        allow_origins=[APP], allow_origin_predicate=lambda origin: origin.startswith("https://a."),
        allow_methods=["PUT"], origin_cache_seconds=0,
    ),
    "paths": lambda: {
        "/api/*": CORSPolicy(allow_origins=[APP], allow_methods=["PUT"], allow_headers=["X-A"]),
        "/open": CORSPolicy(allow_origins="*"),
    },
}

# Small pools, drawn from often, so a sequence repeats an origin, a method or
# a header list with something else changed: that is what tests the caches.
origins = st.one_of(
    st.sampled_from([None, APP, APP, SUB, SUB, EVIL, "null", "https://b.tenant.example.net", APP + ":443"]),
    st.sampled_from([APP.upper(), "https://a.example.com", "x" * 600]),
    st.text(max_size=20),
)
methods = st.sampled_from(["GET", "POST", "OPTIONS", "OPTIONS", "OPTIONS", "PUT", "DELETE"])
request_methods = st.one_of(st.sampled_from([None, "PUT", "PUT", "DELETE", "PATCH", "GET"]),
                            st.sampled_from(["patch", "", "P T"]), st.text(max_size=8))
request_headers = st.one_of(
    st.sampled_from([None, "", "content-type", "x-a", "Authorization, X-A", "x-a,,x-b"]),
    st.sampled_from(["x(b)", ",", "a," * 3000, " ".join(["x-a"] * 70), "x" * 1100]),
    st.lists(st.sampled_from(["x-a", "X-B", "authorization", "content-type", "x y", ""]), max_size=5)
    .map(",".join),
)
paths = st.sampled_from(["/", "/api", "/api/items", "//api/x", "/open", "/api/../open", "/other"])

plain_headers = st.sampled_from([("Content-Type", "text/plain"), ("Content-Length", "4"),
                                 ("Set-Cookie", "a=1"), ("X-Request-Id", "7")])
special_headers = st.tuples(
    st.sampled_from(["Vary", "vary", "VARY", "Vary ", "Access-Control-Allow-Origin", "access-control-max-age",
                     "X-Custom"]),
    st.sampled_from(["Origin", "*", "Accept-Encoding", "", "cookie, origin", "x"]),
)
random_headers = st.tuples(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-ACVY", min_size=1, max_size=16),
                           st.text(max_size=8))
class _Name(str):
    """A str subclass: not a native str in PEP 3333's sense."""


broken_headers = st.sampled_from([("X-Broken", b"bytes"), ("Content-Length", 42), ("Content-Type", None),
                                  (_Name("Content-Type"), "text/plain"), ("Content-Type", _Name("x")),
                                  ("Only-Name",), (b"X-Bytes", "v"), ("A", "b", "c"), "ab"])
header_lists = st.one_of(
    st.lists(plain_headers, max_size=3),
    st.lists(plain_headers, max_size=3),
    st.lists(st.one_of(plain_headers, special_headers, random_headers, broken_headers), max_size=5),
)

behaviours = st.fixed_dictionaries({
    "headers": header_lists,
    "as_tuple": st.booleans(),
    "exc_info": st.booleans(),
    "raise_before": st.booleans(),
    "lazy": st.booleans(),
})

FIELDS = {
    "method": methods, "origin": origins, "acrm": request_methods, "acrh": request_headers,
    "pna": st.sampled_from([None, "true", "false"]), "path": paths, "app": behaviours,
    "debug": st.booleans(),
}


@st.composite
def requests(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Up to 12 requests, each a copy of one of a few drawn requests with at
    most one field redrawn: the same origin and method meet other header
    lists, private-network flags, debug settings and app behaviours."""
    typical = st.fixed_dictionaries({
        **FIELDS,
        "method": st.sampled_from(["OPTIONS", "OPTIONS", "GET"]),
        "origin": st.sampled_from([APP, SUB]),
        "acrm": st.sampled_from(["PUT", "PATCH", "GET"]),
        "acrh": st.sampled_from([None, "x-a", "content-type"]),
    })
    pool = [draw(typical), *draw(st.lists(st.fixed_dictionaries(FIELDS), max_size=2))]
    sequence = []
    for _ in range(draw(st.integers(1, 12))):
        request = dict(draw(st.sampled_from(pool)))
        field = draw(st.sampled_from([None, None, *FIELDS]))
        if field is not None:
            request[field] = draw(FIELDS[field])
        sequence.append(request)
    return sequence


class BoomError(Exception):
    pass


def make_app(behaviour: dict[str, Any]) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        headers: Any = list(behaviour["headers"])
        if behaviour["as_tuple"]:
            headers = tuple(headers)
        if behaviour["raise_before"]:
            raise BoomError("before start_response")
        if behaviour["exc_info"]:
            try:
                raise BoomError("handled")
            except BoomError:
                start_response("500 Internal Server Error", headers, sys.exc_info())
        else:
            start_response("200 OK", headers)
        return [b"body"]

    def lazy_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        yield from app(environ, start_response)

    return lazy_app if behaviour["lazy"] else app


def plain_rewrite(headers: Any, add: Iterable[tuple[str, str]], vary_origin: bool) -> list[tuple[str, str]]:
    """A fresh list: every (str, str) header but Access-Control-*, Origin
    merged into Vary unless it already names Origin or *, then ``add``."""
    out = []
    for header in headers:
        try:
            name, value = header
        except (TypeError, ValueError):
            name = value = None
        if name.__class__ is not str or value.__class__ is not str:
            raise TypeError(
                f"the application passed the response header {escape(header)} to start_response; "
                "PEP 3333 requires a list of (name, value) tuples of native str "
                "(https://peps.python.org/pep-3333/#the-start-response-callable)"
            )
        if not name.lower().startswith("access-control-"):
            out.append(header)
    varies = [i for i, (name, _) in enumerate(out) if name.lower() == "vary"]
    named = {token.strip().lower() for i in varies for token in out[i][1].split(",")}
    if vary_origin and not named & {"origin", "*"}:
        if varies:
            name, value = out[varies[-1]]
            out[varies[-1]] = (name, f"{value}, Origin" if value.strip() else "Origin")
        else:
            out.append(("Vary", "Origin"))
    return [*out, *add]


def reference_call(middleware: CORSMiddleware, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The plain rules: no cache, every header list through ``plain_rewrite``."""
    policy = middleware.policy
    pattern = None
    if isinstance(policy, CORSPolicy):
        engine = policy.engine
    else:
        assert policy is not None
        route = PathMap(policy).match(environ.get("PATH_INFO", ""))
        if route is AMBIGUOUS:
            return engine_module.refuse_unanswered(middleware, environ, start_response, AMBIGUOUS)
        if route is None:
            if "HTTP_ORIGIN" in environ:
                report_refusal(middleware, None, "path-not-covered", environ, None)
            return middleware.app(environ, start_response)
        engine, pattern = route.engine, route.pattern  # type: ignore[union-attr]
    origin = environ.get("HTTP_ORIGIN")
    if (
        origin is not None
        and environ.get("REQUEST_METHOD") == "OPTIONS"
        and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
    ):
        answer = engine.preflight(environ, origin, middleware.debug)
        status, headers, body, refused = answer.status, answer.headers, answer.body, answer.refused
        if refused is not None:
            report_refusal(middleware, "preflight", refused, environ, pattern)
        start_response(status, list(headers))
        return [body] if body else []
    add = engine.response_headers(origin)
    if not add and origin is not None:
        report_refusal(middleware, "actual", "origin", environ, pattern)
    pending: list[Any] = []  # catch_exceptions: the response the server has not seen yet
    sent: list[Any] = []

    def send() -> None:
        if not sent and pending:
            sent.append(start_response(*pending.pop()))

    def plain_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        rewritten = plain_rewrite(headers, add, engine.vary_origin)
        if not middleware.catch_exceptions or sent:
            if exc_info is None:
                return start_response(status, rewritten)
            return start_response(status, rewritten, exc_info)
        if pending and exc_info is None:
            raise AssertionError("start_response called a second time without exc_info (PEP 3333)")
        pending[:] = [(status, rewritten)]

        def write(data: bytes) -> object:
            send()
            return sent[0](data)

        return write

    if not middleware.catch_exceptions:
        return middleware.app(environ, plain_start_response)
    result = None
    try:
        result = middleware.app(environ, plain_start_response)
        if pending or sent:
            send()
            return result
        iterator = iter(result)
        try:
            first = [next(iterator)]
        except StopIteration:
            first = []
        send()
        return [*first, *iterator]
    except Exception:
        if result is not None and hasattr(result, "close"):
            result.close()
        if sent:
            raise
        pending.clear()
        start_response("500 Internal Server Error",
                       plain_rewrite([("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "22")],
                                     add, engine.vary_origin),
                       sys.exc_info())
        return [b"Internal Server Error\n"]


def outcome(call: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> list[Any]:
    """Everything a server sees: start_response calls, body, exception, close()."""
    seen: list[Any] = []

    def start_response(status: str, headers: Any, *exc_info: Any) -> Callable[[bytes], None]:
        seen.append(("start", status, list(headers), headers.__class__ is list,
                     [e[0].__name__ if e and e[0] else None for e in exc_info]))
        return lambda data: None

    try:
        result = call(dict(environ), start_response)
        seen.append(("body", b"".join(result)))
        close = getattr(result, "close", None)
        if close is not None:
            close()
    except Exception as error:  # compared, type and message
        seen.append(("raised", type(error).__name__, str(error)))
    return seen


def environ_for(request: dict[str, Any]) -> dict[str, Any]:
    environ: dict[str, Any] = {"REQUEST_METHOD": request["method"], "PATH_INFO": request["path"]}
    for key, field in (("HTTP_ORIGIN", "origin"), ("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "acrm"),
                       ("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "acrh"),
                       ("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK", "pna")):
        if request[field] is not None:
            environ[key] = request[field]
    return environ


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy_name=st.sampled_from(sorted(POLICIES)),
    catch_exceptions=st.booleans(),
    hooked=st.booleans(),
    sequence=requests(),
    small_caches=st.booleans(),
)
def test_fast_path_answers_exactly_as_the_plain_rules(
    policy_name: str, catch_exceptions: bool, hooked: bool,
    sequence: list[dict[str, Any]], small_caches: bool,
) -> None:
    policy = POLICIES[policy_name]()
    fast_refusals: list[Refusal] = []
    plain_refusals: list[Refusal] = []
    current: dict[str, Any] = {}

    def dispatch(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body: Iterable[bytes] = current["app"](environ, start_response)
        return body

    fast = CORSMiddleware(dispatch, policy, catch_exceptions=catch_exceptions,
                          on_refusal=fast_refusals.append if hooked else None)
    plain = CORSMiddleware(dispatch, policy, catch_exceptions=catch_exceptions,
                           on_refusal=plain_refusals.append if hooked else None)
    with pytest.MonkeyPatch.context() as patch:
        if small_caches:  # fill, hit and empty the caches within one sequence
            patch.setattr(engine_module, "ANSWER_CACHE_SIZE", 2)
        for request in sequence:
            current["app"] = make_app(request["app"])
            fast.debug = plain.debug = request["debug"]  # a public attribute: may change any time
            environ = environ_for(request)
            assert outcome(fast, environ) == outcome(lambda e, s: reference_call(plain, e, s), environ)
    assert fast_refusals == plain_refusals


@pytest.mark.parametrize("bound", ["actuals", "preflights"])
def test_answer_caches_stay_bounded_under_ever_new_origins(bound: str) -> None:
    policy = CORSPolicy(allow_origins=[APP, "https://*.tenant.example.net"], allow_methods=["PUT"])
    middleware = CORSMiddleware(ok_app(), policy)
    for i in range(engine_module.ANSWER_CACHE_SIZE * 3):
        environ = {"REQUEST_METHOD": "OPTIONS" if bound == "preflights" else "GET", "PATH_INFO": "/",
                   "HTTP_ORIGIN": f"https://u{i}.tenant.example.net",
                   "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"}
        list(middleware(environ, discard_response))
    cache = getattr(policy.engine, bound)
    assert 0 < len(cache) <= engine_module.ANSWER_CACHE_SIZE


def test_predicate_verdicts_are_not_kept_beyond_the_predicate_cache() -> None:
    allowed = {SUB}
    policy = CORSPolicy(allow_origins=[APP], allow_origin_predicate=lambda o: o in allowed,
                        origin_cache_seconds=0)
    middleware = CORSMiddleware(ok_app(), policy)
    start_response = StartResponse()
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": SUB}
    list(middleware(dict(environ), start_response))
    allowed.clear()
    list(middleware(dict(environ), start_response))
    assert [dict(h).get("Access-Control-Allow-Origin") for h in start_response.headers] == [SUB, None]


def test_fast_path_hands_the_server_a_fresh_list_each_time() -> None:
    shared = [("Content-Type", "text/plain")]
    middleware = CORSMiddleware(ok_app(shared), CORSPolicy(allow_origins=[APP]))
    start_response = StartResponse()
    for _ in range(2):
        list(middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": APP}, start_response))
    handed = start_response.headers
    assert shared == [("Content-Type", "text/plain")]
    assert handed[0] is not handed[1]
    assert handed[0] == handed[1]


@given(name=st.sampled_from(["Vary", "vary", "VARY", "Access-Control-Allow-Origin", "access-control-x",
                              "ACCESS-CONTROL-MAX-AGE"]))
def test_vary_and_access_control_names_are_never_learned_as_plain(name: str) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [(name, "x")])
        return [b""]

    middleware = CORSMiddleware(app, CORSPolicy(allow_origins=[APP]))
    start_response = StartResponse()
    for _ in range(2):  # the second response would take the fast path if the name had been learned
        list(middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_ORIGIN": APP}, start_response))
    assert name not in engine_module.PLAIN_HEADER_NAMES
    # The app's header was stripped (Access-Control-*) or merged with Origin (Vary) both times.
    assert all((name, "x") not in headers for headers in start_response.headers)


def _per_name_parse(value: str, any_header: bool) -> list[str] | None:
    """``Access-Control-Request-Headers`` parsed name by name (the plain rule)."""
    if len(value) > engine_module.MAX_REQUEST_HEADERS_LENGTH:
        return None
    names = value.replace(",", " ").split(None, engine_module.MAX_REQUESTED_HEADERS)
    if len(names) > engine_module.MAX_REQUESTED_HEADERS:
        return None
    names = [name.lower() for name in names]
    if any_header and not all(TOKEN_CHARS.issuperset(name) for name in names):
        return None
    return names


_HEADER_LIST_PIECES = st.sampled_from([
    "x-a", "X-A", "authorization", ",", " ", "\t", "\x0b", "\x85", "\xa0", "\u2003", "\u0391\u03a3", "\u03a3", "\u03c3", "\u0130",
    "\u212a", "ß", "x(b)", "a b", ",,", "é", "Content-Type",
])


@settings(max_examples=2000, deadline=None)
@given(
    value=st.one_of(st.lists(_HEADER_LIST_PIECES, max_size=80).map("".join), st.text(max_size=200)),
    any_header=st.booleans(),
)
def test_request_header_list_parse_agrees_with_the_per_name_parse(value: str, any_header: bool) -> None:
    policy = CORSPolicy(allow_origins=[APP], allow_headers="*" if any_header else ["X-A"])
    assert policy.engine._requested_names(value) == _per_name_parse(value, any_header)


def test_no_header_name_is_learned_at_run_time() -> None:
    # The fast path's names are a constant: no module-level state grows.
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("X-E-" + environ["QUERY_STRING"], "1")])
        return [b""]

    middleware = CORSMiddleware(app, CORSPolicy(allow_origins=[APP]))
    before = engine_module.PLAIN_HEADER_NAMES
    for i in range(100):
        list(middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": str(i),
                         "HTTP_ORIGIN": APP}, discard_response))
    assert engine_module.PLAIN_HEADER_NAMES is before
    assert isinstance(before, frozenset)
