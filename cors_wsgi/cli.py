"""``cors-wsgi``: why does the browser block my request?

Two commands judge one cross-origin request the way a browser does (the
Fetch standard, :mod:`cors_wsgi.fetch`), preflight first when the browser
would send one, and print the responses and the verdict with the failed
step, the reason and the fix::

    cors-wsgi check app.ini --origin https://app.example.com --method PUT \\
        --header "X-Token: t" --path /api/items
    cors-wsgi check 'myapp.wsgi:create_app()' --origin https://app.example.com --method PUT
    cors-wsgi probe https://api.example.com/items --origin https://app.example.com \\
        --method PUT --header "X-Token: t"

``check`` loads the PasteDeploy pipeline from an ini file (``--name``,
default ``main``), or imports a WSGI app named as gunicorn names it
(``package.module:app``, ``package.module:create_app()``), and runs the
request through it in-process; when the app is or wraps a
``CORSMiddleware``, it prints the rule that decided, then the fix in the
terms of its configuration (``add 'PUT' to allow_methods``).  ``probe``
sends the request over HTTP to any live server (no cookies are sent).

Exit status: 0 allowed, 1 blocked, 2 usage, configuration, import or network error.
``--json`` prints exactly one JSON object on stdout::

    {"allowed": false, "step": "preflight-headers", "reason": "...", "fix": "...",
     "notes": [...], "divergence": null,
     "preflight": {"request_headers": [...], "status": 204, "headers": [...]} | null,
     "response": {"sent": true, "request_headers": [...], "status": 200, "headers": [...]}}

(``"fix"`` in HTTP terms), plus ``"rule"``, ``"refusal"``, ``"configuration_fix"``,
``"option"`` and ``"nearest_origin"`` from ``check`` when it knows the policy.
"""

from __future__ import annotations

import ast
import dataclasses
import http.client
import importlib
import json
import os
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from cors_wsgi._exchange import Exchange, call_wsgi, exchange
from cors_wsgi._log import printable
from cors_wsgi.errors import CORSConfigError
from cors_wsgi.fetch import (
    Request,
    Response,
    actual_request_headers,
    is_safelisted_method,
    local_network_note,
    needs_preflight,
    preflight_request_headers,
    request_problem,
    unsafe_request_header_names,
)
from cors_wsgi.middleware import CORSMiddleware

if TYPE_CHECKING:
    from cors_wsgi.explain import Explanation

#: Longest server or request value printed, in characters (then ``...``).
SHOWN_LENGTH = 300

__all__ = ["main"]

Header = tuple[str, str]

#: Exit statuses.
EXIT_ALLOWED, EXIT_BLOCKED, EXIT_ERROR = 0, 1, 2
#: Seconds before a slow probe prints a progress line on stderr.
PROGRESS_AFTER = 1.0
#: Most bytes of a response body read by ``probe``.
MAX_BODY = 64 * 1024


class CLIError(click.ClickException):
    """A one-line error on stderr and exit status 2: bad URL, unreachable
    server, timeout, bad ini.  Never a traceback."""

    exit_code = EXIT_ERROR


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _parse_header(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> list[Header]:
    headers = []
    for raw in values:
        name, colon, value = raw.partition(":")
        if not colon or not name.strip():
            raise click.BadParameter(f"expected 'Name: value', got {raw!r}", ctx, param)
        headers.append((name.strip(), value.strip()))
    return headers


def _request_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--origin", required=True, help="The page's origin, e.g. https://app.example.com."),
        click.option("--method", default="GET", show_default=True, help="The method given to fetch()."),
        click.option("--header", "headers", multiple=True, callback=_parse_header, metavar="'NAME: VALUE'",
                     help="A header the script sets (repeatable)."),
        click.option("--credentials", is_flag=True, help='As fetch(url, {credentials: "include"}).'),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _describe_request(request: Request, out: Callable[[str], None]) -> None:
    out(f"{request.method} {request.url} from {request.origin} (credentials: {request.credentials})")
    if not needs_preflight(request):
        out("The browser sends it directly: no preflight (safelisted method and headers).")
        return
    why = []
    if not is_safelisted_method(request.method):
        why.append(f"{request.method} is not a CORS-safelisted method")
    names = unsafe_request_header_names(request.sent_headers)
    if names:
        why.append(f"{', '.join(names)} {'is not a' if len(names) == 1 else 'are not'} CORS-safelisted "
                   f"request header{'' if len(names) == 1 else 's'}")
    out(f"The browser sends a preflight first: {'; '.join(why)}.")


def _print_exchange(result: Exchange, out: Callable[[str], None],
                    explained: Explanation | None = None) -> None:
    request = result.request
    target = urlsplit(request.url or "")
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    steps: list[tuple[str, str, list[Header], Response | None, bytes]] = []
    if result.preflight is not None:
        steps.append(("Preflight", "OPTIONS", preflight_request_headers(request), result.preflight,
                      result.preflight_body))
    steps.append(("Request", request.method, actual_request_headers(request), result.response, result.body))
    for label, method, sent, response, body in steps:
        out("")
        out(f"{label}:")
        out(f"  > {method} {printable(path, SHOWN_LENGTH)}")
        for name, value in sent:
            out(f"  > {name}: {printable(value, SHOWN_LENGTH)}")
        if response is None:
            out("  (not sent: the browser stops after a failed preflight)")
            continue
        out(f"  < {response.status} {_reason_phrase(response.status)}".rstrip())
        for name, value in response.headers:
            out(f"  < {name}: {printable(value, SHOWN_LENGTH)}")
        if response is result.preflight and not result.verdict.allowed and body.strip():
            out(f"  < (body) {printable(body.decode('utf-8', 'replace').strip().splitlines()[0], 200)}")
    out("")
    verdict = result.verdict
    if verdict.allowed:
        out("ALLOWED: the script can read the response.")
    else:
        out(f"BLOCKED at step {verdict.step}: {verdict.reason}")
    if explained is not None:  # the rule that decided comes before any advice
        out(f"cors_wsgi: {explained.rule}" + (f" [{explained.refusal}]" if explained.refusal else ""))
    if not verdict.allowed:
        fix = _configuration_fix(result, explained)
        if fix is not None:
            out(f"Fix: {fix}")
            out(f"In HTTP terms: {verdict.fix}")
        else:
            out(f"Fix: {verdict.fix}")
        if verdict.divergence is not None:
            out("(Blocked by the standard; current browsers still allow it and will stop.)")
    elif explained is not None and explained.option == "expose_headers" and explained.fix:
        out(f"Fix: {explained.fix}")  # readable, but a header the script reads is hidden
        for note in explained.verdict.notes:
            out(f"Note: {note}")
        return
    for note in verdict.notes:
        out(f"Note: {note}")


def _as_json(result: Exchange) -> dict[str, object]:
    request = result.request
    preflight = None
    if result.preflight is not None:
        preflight = {
            "request_headers": preflight_request_headers(request),
            "status": result.preflight.status,
            "headers": list(result.preflight.headers),
        }
    response: dict[str, object] = {"sent": result.response is not None,
                                   "request_headers": actual_request_headers(request)}
    if result.response is not None:
        response.update(status=result.response.status, headers=list(result.response.headers))
    else:
        response.update(status=None, headers=[])
    return {**result.verdict.to_dict(), "preflight": preflight, "response": response}


def _configuration_fix(result: Exchange, explained: Explanation | None) -> str | None:
    """The fix in configuration terms, when the policy's explanation has one
    and agrees with the exchange that was run (the same failed step, or
    both allowed with a read header hidden)."""
    if explained is None or explained.option is None or explained.verdict.step != result.verdict.step:
        return None
    if result.verdict.allowed != explained.verdict.allowed:
        return None
    return explained.fix


def _finish(result: Exchange, as_json: bool, explained: Explanation | None = None) -> None:
    if as_json:
        extra: dict[str, object] = {}
        if explained is not None:
            fix = _configuration_fix(result, explained)
            extra = {"rule": explained.rule, "refusal": explained.refusal, "configuration_fix": fix,
                     "option": explained.option if fix else None,
                     "nearest_origin": explained.nearest_origin if fix else None}
        click.echo(json.dumps({**_as_json(result), **extra}))
    else:
        _print_exchange(result, click.echo, explained)
    sys.exit(EXIT_ALLOWED if result.verdict.allowed else EXIT_BLOCKED)


def _request(origin: str, method: str, headers: list[Header], credentials: bool, url: str) -> Request:
    request = Request(origin=origin, method=method, headers=headers, credentials=credentials, url=url)
    problem = request_problem(request)
    if problem is not None:
        raise click.UsageError(problem)
    return request


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cors_wsgi")
def main() -> None:
    """Why does the browser block my cross-origin request?

    Exit status: 0 allowed, 1 blocked, 2 usage, configuration or network error.
    """


# -- check ---------------------------------------------------------------------------------


def _working_directory_importable() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)  # as pserve and gunicorn do: apps in the working directory import


def _load(config: str, name: str) -> Any:
    try:
        from paste.deploy import loadapp
    except ImportError as error:
        raise CLIError("cors-wsgi check needs PasteDeploy: pip install pastedeploy") from error
    _working_directory_importable()
    try:
        return loadapp(f"config:{os.path.abspath(config)}", name=name)
    except CORSConfigError as error:
        raise CLIError(f"{config}: the cors_wsgi filter is misconfigured:\n{error}") from error
    except LookupError as error:
        raise CLIError(f"{config}: {error}") from error
    except Exception as error:  # an app factory can raise anything; no traceback
        raise CLIError(f"{config}: cannot load [{name}]: {type(error).__name__}: {error}") from error


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``, or ``None`` for any other expression."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else [*inner, node.attr]
    return None


def _import_app(target: str) -> Any:
    """The WSGI app named ``module:name`` or ``module:factory(args)``, as
    gunicorn reads it (arguments are Python literals)."""
    module_name, _, expression = target.partition(":")
    shown = printable(target, SHOWN_LENGTH)
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        tree = None
    node = None if tree is None else tree.body
    call = node if isinstance(node, ast.Call) else None
    names = None if node is None else _dotted(call.func if call is not None else node)
    if not module_name or names is None:
        raise CLIError(f"{shown!r} is not 'module:name' or 'module:factory(...)'")
    _working_directory_importable()
    try:
        app: Any = importlib.import_module(module_name)
    except Exception as error:  # ImportError, or whatever the module raises: no traceback
        why = str(error) if isinstance(error, ImportError) else f"{type(error).__name__}: {error}"
        raise CLIError(f"cannot import {printable(module_name, SHOWN_LENGTH)!r}: {why}") from error
    for depth, attribute in enumerate(names):
        if not hasattr(app, attribute):
            raise CLIError(f"{printable(module_name, SHOWN_LENGTH)!r} has no attribute "
                           f"{'.'.join(names[: depth + 1])!r}")
        app = getattr(app, attribute)
    if call is not None:
        try:
            args = [ast.literal_eval(arg) for arg in call.args]
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg is not None}
        except ValueError as error:
            raise CLIError(f"{shown!r}: the factory's arguments must be Python literals") from error
        try:
            app = app(*args, **kwargs)
        except Exception as error:  # a factory can raise anything; no traceback
            raise CLIError(f"{shown}: the factory raised {type(error).__name__}: {error}") from error
    if not callable(app):
        raise CLIError(f"{shown!r} is not a WSGI application: a {type(app).__name__} is not callable")
    return app


#: Attributes under which WSGI apps and wrappers keep the app they wrap
#: (Flask's ``wsgi_app``, PasteDeploy filters' ``app``, ``functools.wraps``).
WRAPPED_ATTRIBUTES = ("wsgi_app", "app", "application", "__wrapped__")


def find_middleware(app: object, depth: int = 8) -> CORSMiddleware | None:
    """The outermost :class:`CORSMiddleware` that is ``app`` or that ``app``
    wraps (through :data:`WRAPPED_ATTRIBUTES`, at most ``depth`` levels), or ``None``."""
    level, seen = [app], set()
    for _ in range(depth + 1):
        found = []
        for candidate in level:
            if isinstance(candidate, CORSMiddleware):
                return candidate
            if id(candidate) in seen:
                continue
            seen.add(id(candidate))
            found += [getattr(candidate, name) for name in WRAPPED_ATTRIBUTES
                      if getattr(candidate, name, None) is not None]
        level = found
    return None


@main.command()
@click.argument("target")
@click.option("--name", default=None, help="The app or pipeline of an ini file to load  [default: main].")
@click.option("--path", default="/", show_default=True,
              help="The request's path and query, e.g. /api/items?id=1.")
@click.option("--read-header", "read_headers", multiple=True, metavar="NAME",
              help="A response header the script reads (repeatable): say if it is hidden from it.")
@_request_options
def check(target: str, name: str | None, path: str, read_headers: tuple[str, ...], origin: str, method: str,
          headers: list[Header], credentials: bool, as_json: bool) -> None:
    """Run one request through TARGET in-process and print the browser's
    verdict.  TARGET is a PasteDeploy ini file, or a WSGI app as gunicorn
    names it: ``package.module:app`` or ``package.module:create_app()``.
    When TARGET is or wraps a CORSMiddleware, the fix is in the terms of its
    configuration."""
    if not path.startswith("/"):
        raise click.BadParameter("must start with '/'", param_hint="--path")
    is_file = os.path.isfile(target)
    if not is_file and ":" not in target:
        raise click.BadParameter(f"{printable(target, SHOWN_LENGTH)!r} is neither a file nor "
                                 "'module:callable'", param_hint="TARGET")
    if not is_file and name is not None:
        raise click.BadParameter("only for an ini file", param_hint="--name")
    request = _request(origin, method, headers, credentials, "http://localhost" + path)
    app = _load(target, name or "main") if is_file else _import_app(target)
    if not as_json:
        _describe_request(request, click.echo)

    def send(method: str, url: str, headers: list[Header]) -> tuple[Response, bytes]:
        try:
            return call_wsgi(app, method, url, headers)
        except Exception as error:  # the app's own failure, reported like a server's 500
            raise CLIError(f"the application raised {type(error).__name__}: {error}") from error

    middleware = find_middleware(app)  # say which rule decided, and the fix in its terms
    explained = None
    if middleware is not None:
        explained = middleware.explain(origin, method, headers, credentials, path.split("?", 1)[0],
                                       read_headers)
    _finish(exchange(request, send), as_json, explained)


# -- probe ---------------------------------------------------------------------------------


def _http_request(method: str, url: str, headers: list[Header], timeout: float) -> tuple[Response, bytes]:
    """One HTTP request with http.client: the method is sent as written
    (``patch`` stays ``patch``), nothing is added but ``Host`` and
    ``Content-Length``, and ``getheaders()`` keeps every header line in order,
    repeats included (two ``Access-Control-Allow-Origin`` lines stay two)."""
    parts = urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.netloc, timeout=timeout,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("User-Agent", "cors-wsgi-probe")
        if method not in ("GET", "HEAD", "OPTIONS"):
            connection.putheader("Content-Length", "0")
        connection.endheaders()
        answer = connection.getresponse()
        body = answer.read(MAX_BODY)
        return Response(answer.status, answer.getheaders()), body
    finally:
        connection.close()


def _network_error(error: BaseException, url: str, timeout: float) -> CLIError:
    host = urlsplit(url).netloc
    if isinstance(error, (TimeoutError, socket.timeout)):
        return CLIError(f"no answer from {host} within {timeout:g} s (--timeout)")
    if isinstance(error, ConnectionRefusedError):
        return CLIError(f"connection refused by {host}: is the server running on that port?")
    if isinstance(error, socket.gaierror):
        return CLIError(f"cannot resolve {urlsplit(url).hostname!r}: {error.strerror}")
    if isinstance(error, ssl.SSLError):
        return CLIError(f"TLS error talking to {host}: {error}")
    if isinstance(error, http.client.HTTPException):
        return CLIError(f"{host} did not answer with valid HTTP: {type(error).__name__} {error}")
    if isinstance(error, OSError):
        return CLIError(f"cannot reach {host}: {error.strerror or error}")
    return CLIError(f"probing {host} failed: {type(error).__name__}: {error}")


def _http_sender(timeout: float, progress: Callable[[str], None]) -> Callable[..., tuple[Response, bytes]]:
    """Send in a worker thread; the caller prints a progress line after
    PROGRESS_AFTER seconds and gives up after ``timeout`` seconds in all."""

    def send(method: str, url: str, headers: list[Header]) -> tuple[Response, bytes]:
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["value"] = _http_request(method, url, headers, timeout)
            except BaseException as error:
                outcome["error"] = error

        deadline = time.monotonic() + timeout
        worker = threading.Thread(target=work, name="cors-wsgi-probe", daemon=True)
        worker.start()
        worker.join(min(PROGRESS_AFTER, timeout))
        if worker.is_alive():
            progress(f"waiting for {method} {url} (up to {timeout:g} s)...")
            worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            raise _network_error(TimeoutError(), url, timeout)
        if "error" in outcome:
            raise _network_error(outcome["error"], url, timeout)
        result: tuple[Response, bytes] = outcome["value"]
        return result

    return send


@main.command()
@click.argument("url")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Seconds to wait for each response.")
@_request_options
def probe(url: str, timeout: float, origin: str, method: str, headers: list[Header],
          credentials: bool, as_json: bool) -> None:
    """Send one request to the live server at URL as a browser would
    (preflight first when needed) and print the browser's verdict."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError as error:
        raise click.BadParameter(f"{url!r}: {error}", param_hint="URL") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{url!r} is not an http:// or https:// URL", param_hint="URL")
    request = _request(origin, method, headers, credentials, url)
    if not as_json:
        _describe_request(request, click.echo)
        if credentials:
            click.echo("(The probe sends no cookies; a logged-in browser's request may be answered "
                       "differently.)")
    send = _http_sender(timeout, lambda line: click.echo(line, err=True))
    result = exchange(request, send)
    note = local_network_note(origin, url)  # a loopback or private server from a public page
    if note is not None:
        result = dataclasses.replace(result, verdict=result.verdict.with_notes(note))
    if result.response is not None and 300 <= result.response.status < 400 and not as_json:
        location = {n.lower(): v for n, v in result.response.headers}.get("location", "")
        shown = printable(location, SHOWN_LENGTH)
        click.echo(f"(A redirect to {shown}: browsers follow it and check CORS again there; "
                   "a redirect to another origin makes the request's origin `null`.)")
    _finish(result, as_json)


# -- origins: the SQLite or SQLAlchemy allow-list ------------------------------------------


@main.group()
def origins() -> None:
    """Manage an allow-list of origins: an SQLite file
    (cors_wsgi.store.SQLiteOriginStore), or with --db URL any SQLAlchemy
    database (SQLAlchemyOriginStore).  Running servers see a change within
    their store_refresh_seconds (allow_origin_store) or origin_cache_seconds
    (allow_origin_predicate)."""


def _store(db: str, credentials: bool, insecure: bool, redis: str | None = None,
           channel: str = "cors_origins") -> Any:
    from cors_wsgi.store import SQLAlchemyOriginStore, SQLiteOriginStore

    try:
        notifier = None
        if redis is not None:
            from cors_wsgi.notify import RedisNotifier

            notifier = RedisNotifier(redis, channel)
        if "://" in db:
            return SQLAlchemyOriginStore(
                db, allow_credentials=credentials, dangerously_tolerate_insecure_origins=insecure,
                notify_channel=channel, notifier=notifier,
            )
        return SQLiteOriginStore(
            db, allow_credentials=True if credentials else None,
            dangerously_tolerate_insecure_origins=insecure, notifier=notifier,
        )
    except Exception as error:  # sqlite3.Error, SQLAlchemyError, OSError: one line, no traceback
        shown = _shown_db(db)
        raise CLIError(f"{shown}: cannot open the store: {type(error).__name__}: {error}") from error


def _shown_db(db: str) -> str:
    """``db`` without a password."""
    if "://" not in db:
        return db
    try:
        from sqlalchemy.engine import make_url

        return str(make_url(db).render_as_string(hide_password=True))
    except Exception:
        return db.split("://", 1)[0] + "://..."


def _db_and(args: tuple[str, ...], db_option: str | None, names: tuple[str, ...]) -> tuple[str, ...]:
    """``(db, *names)`` from ``[DB] NAMES...`` or ``--db DB NAMES...``."""
    if db_option is not None:
        args = (db_option, *args)
    if len(args) != 1 + len(names):
        shown = " ".join(names)
        raise click.UsageError(f"expected DB {shown} (or --db URL {shown})".rstrip())
    return args


_store_options = [
    click.argument("args", nargs=-1, metavar="[DB] ORIGIN"),
    click.option("--db", "db_option", metavar="DB",
                 help="The store: an SQLite path, or a SQLAlchemy URL (with ://, e.g. "
                      "postgresql+psycopg://user@host/db)."),
    click.option("--credentials", is_flag=True,
                 help="Validate as a credentialed policy does (no http: origins but loopback); "
                      "implied when DB records that it serves a credentialed policy."),
    click.option("--dangerously-tolerate-insecure-origins", "insecure", is_flag=True,
                 help="Allow http: origins with --credentials, as CORSPolicy's option of that name."),
    click.option("--redis", metavar="URL",
                 help="Also PUBLISH the new version on Redis (redis://host:6379/0) for the servers' "
                      "RedisNotifier; needs the redis extra."),
    click.option("--channel", default="cors_origins", show_default=True,
                 help="The channel of --redis and of PostgreSQL's pg_notify."),
]


def _with_store_options(function: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(_store_options):
        function = option(function)
    return function


@origins.command("add")
@_with_store_options
def origins_add(args: tuple[str, ...], db_option: str | None, credentials: bool, insecure: bool,
                redis: str | None, channel: str) -> None:
    """Validate ORIGIN as allow_origins does, then add it to DB."""
    db, origin = _db_and(args, db_option, ("ORIGIN",))
    store = _store(db, credentials, insecure, redis, channel)
    try:
        added = store.add(origin)
    except CORSConfigError as error:
        checked = f"checked with {store.rules}"
        raise CLIError(f"{printable(origin, SHOWN_LENGTH)} was not added ({checked}):\n{error}") from error
    click.echo(f"added {origin}" if added else f"{origin} was already there")
    click.echo(f"checked with {store.rules}", err=True)


@origins.command("remove")
@_with_store_options
def origins_remove(args: tuple[str, ...], db_option: str | None, credentials: bool, insecure: bool,
                   redis: str | None, channel: str) -> None:
    """Remove ORIGIN from DB."""
    db, origin = _db_and(args, db_option, ("ORIGIN",))
    removed = _store(db, credentials, insecure, redis, channel).remove(origin)
    shown = printable(origin, SHOWN_LENGTH)
    click.echo(f"removed {shown}" if removed else f"{shown} was not there")


@origins.command("list")
@click.argument("args", nargs=-1, metavar="[DB]")
@click.option("--db", "db_option", metavar="DB", help="An SQLite path, or a SQLAlchemy URL (with ://).")
def origins_list(args: tuple[str, ...], db_option: str | None) -> None:
    """Print every origin in DB, one per line."""
    (db,) = _db_and(args, db_option, ())
    if "://" not in db and not os.path.exists(db):
        raise click.BadParameter(f"File {db!r} does not exist.", param_hint="'DB'")
    for origin in _store(db, False, False).origins():
        click.echo(origin)
