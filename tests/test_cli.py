"""The ``cors-wsgi`` command: ``check`` an ini in-process, ``probe`` live servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cors_wsgi import CORSMiddleware, CORSPolicy
from cors_wsgi.cli import main
from tests.servers import serve_wsgiref

ROOT = Path(__file__).resolve().parent.parent
PAGE = "https://app.example.com"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def hello_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Vary", "Accept")])
    return [b"{}"]


def app_factory(global_conf: dict[str, str], **local_conf: str) -> Any:
    return hello_app


def broken_factory(global_conf: dict[str, str], **local_conf: str) -> Any:
    raise RuntimeError("database unreachable")


#: Targets for ``cors-wsgi check tests.test_cli:NAME``.
wrapped_app = CORSMiddleware(hello_app, CORSPolicy(allow_origins=["http://localhost:9110"], allow_methods="PUT"))
plain_app = hello_app
not_an_app: dict[str, list[str]] = {"allow_origins": []}


class Framework:
    """An app that keeps the middleware as Flask does, in ``wsgi_app``."""

    def __init__(self) -> None:
        self.wsgi_app = CORSMiddleware(hello_app, {"/api/*": CORSPolicy(allow_origins=[PAGE])})

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.wsgi_app(environ, start_response)


def make_app(origin: str = PAGE) -> Any:
    return CORSMiddleware(hello_app, CORSPolicy(allow_origins=[origin]))


def failing_factory() -> Any:
    raise RuntimeError("no database")


INI = """\
[app:api]
use = call:tests.test_cli:app_factory

[app:broken]
use = call:tests.test_cli:broken_factory

[filter:cors]
use = egg:cors_wsgi
allow_origins = https://app.example.com
allow_methods = PUT
allow_headers = Content-Type
{extra}
paths = /api/*

[pipeline:main]
pipeline = cors api
"""


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    path = tmp_path / "app.ini"
    path.write_text(INI.format(extra=""))
    return path


# -- check -----------------------------------------------------------------------------------------

def test_check_allows_a_preflighted_json_put(ini: Path) -> None:
    result = run("check", str(ini), "--origin", PAGE, "--method", "PUT", "--header", "Content-Type: application/json",
                 "--path", "/api/items")
    assert result.exit_code == 0, result.output
    assert "The browser sends a preflight first: PUT is not a CORS-safelisted method" in result.stdout
    assert "< 204 No Content" in result.stdout
    assert "ALLOWED" in result.stdout


def test_check_blocks_a_header_the_filter_does_not_allow(ini: Path) -> None:
    result = run("check", str(ini), "--origin", PAGE, "--method", "PUT", "--header", "X-Token: t", "--path", "/api/items")
    assert result.exit_code == 1, result.output
    assert "BLOCKED at step preflight-cors-check" in result.stdout
    assert "(body) CORS preflight refused: request header not allowed" in result.stdout
    assert "Fix: add 'X-Token' to allow_headers in the policy for '/api/*'\n" in result.stdout
    assert "In HTTP terms: allow origin https://app.example.com with method PUT and headers x-token" in result.stdout
    assert "(not sent: the browser stops after a failed preflight)" in result.stdout


def test_check_blocks_a_path_no_pattern_covers(ini: Path) -> None:
    result = run("check", str(ini), "--origin", PAGE, "--path", "/other")
    assert result.exit_code == 1
    assert "BLOCKED at step cors-check: the response has no Access-Control-Allow-Origin header" in result.stdout


def test_check_json_is_one_object(ini: Path) -> None:
    result = run("check", str(ini), "--origin", PAGE, "--method", "PUT", "--path", "/api/x", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) >= {"allowed", "step", "reason", "preflight", "response"}
    assert (data["allowed"], data["step"], data["reason"]) == (True, None, None)
    assert data["preflight"]["status"] == 204
    assert ["Access-Control-Request-Method", "PUT"] in data["preflight"]["request_headers"]
    assert data["response"]["sent"] is True
    assert ["Access-Control-Allow-Origin", PAGE] in data["response"]["headers"]


def test_check_misconfigured_filter_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.ini"
    path.write_text(INI.format(extra="allow_origin = https://typo.example"))
    result = run("check", str(path), "--origin", PAGE)
    assert result.exit_code == 2
    assert "the cors_wsgi filter is misconfigured" in result.stderr
    assert "allow_origin" in result.stderr
    assert "Traceback" not in result.output


def test_check_unknown_pipeline_name(ini: Path) -> None:
    result = run("check", str(ini), "--origin", PAGE, "--name", "nope")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "nope" in result.stderr


def test_check_app_factory_failure_is_a_one_line_error(ini: Path) -> None:
    result = run("check", str(ini), "--origin", PAGE, "--name", "broken")
    assert result.exit_code == 2
    assert "cannot load [broken]: RuntimeError: database unreachable" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--header", "X-Token"], "expected 'Name: value'"),
    (["--origin", "https://App.example.com/"], "not a serialized origin"),
    (["--method", "TRACE"], "forbidden method"),
    (["--path", "api"], "must start with '/'"),
], ids=["header-without-colon", "bad-origin", "forbidden-method", "relative-path"])
def test_check_usage_errors_exit_2(ini: Path, args: list[str], message: str) -> None:
    full = ["check", str(ini), "--origin", PAGE, *args] if "--origin" not in args else ["check", str(ini), *args]
    result = run(*full)
    assert result.exit_code == 2
    assert message in result.stderr


# -- check module:callable ------------------------------------------------------------------------------

def test_check_imports_a_wsgi_app_named_module_colon_attribute() -> None:
    result = run("check", "tests.test_cli:wrapped_app", "--origin", "http://localhost:9110", "--method", "PUT")
    assert result.exit_code == 0, result.output
    assert "ALLOWED" in result.stdout


def test_check_of_a_module_app_names_the_nearest_configured_origin() -> None:
    result = run("check", "tests.test_cli:wrapped_app", "--origin", "http://127.0.0.1:9110")
    assert result.exit_code == 1
    assert ("Fix: add 'http://127.0.0.1:9110' to allow_origins (you allowed 'http://localhost:9110'; "
            "127.0.0.1 and localhost are different hosts") in result.stdout


def test_check_calls_a_factory_named_with_literal_arguments() -> None:
    result = run("check", "tests.test_cli:make_app('https://other.example.com')", "--origin", PAGE)
    assert result.exit_code == 1
    assert "Fix: add 'https://app.example.com' to allow_origins" in result.stdout


def test_check_finds_the_middleware_an_app_keeps_in_wsgi_app() -> None:
    result = run("check", "tests.test_cli:Framework()", "--origin", PAGE, "--method", "PUT", "--path", "/api/x")
    assert result.exit_code == 1
    assert "Fix: add 'PUT' to allow_methods in the policy for '/api/*'" in result.stdout


def test_check_of_the_flask_example_names_the_option_to_change() -> None:
    result = run("check", "examples.flask_app:create_app()", "--origin", "http://localhost:8080", "--method",
                 "PATCH", "--path", "/api/items/1")
    assert result.exit_code == 1
    assert "Fix: add 'PATCH' to allow_methods in the policy for '/api/*'" in result.stdout


def test_check_of_an_app_without_cors_wsgi_gives_the_fix_in_http_terms() -> None:
    result = run("check", "tests.test_cli:plain_app", "--origin", PAGE)
    assert result.exit_code == 1
    assert "Fix: send `Access-Control-Allow-Origin: https://app.example.com`" in result.stdout
    assert "cors_wsgi:" not in result.stdout
    assert "In HTTP terms" not in result.stdout


def test_check_prints_the_rule_that_decided_before_the_fix() -> None:
    lines = run("check", "tests.test_cli:wrapped_app", "--origin", "http://127.0.0.1:9110").stdout.splitlines()
    starts = [line.split(" ", 1)[0] for line in lines if line.startswith(("BLOCKED", "cors_wsgi:", "Fix:", "In "))]
    assert starts == ["BLOCKED", "cors_wsgi:", "Fix:", "In"]


def test_check_json_carries_the_configuration_fix() -> None:
    result = run("check", "tests.test_cli:wrapped_app", "--origin", "http://127.0.0.1:9110", "--json")
    data = json.loads(result.stdout)
    assert (data["option"], data["nearest_origin"]) == ("allow_origins", "http://localhost:9110")
    assert data["configuration_fix"].startswith("add 'http://127.0.0.1:9110' to allow_origins")
    assert data["fix"].startswith("send `Access-Control-Allow-Origin: http://127.0.0.1:9110`")


@pytest.mark.parametrize(("target", "message"), [
    ("no_such_module_xyz:app", "cannot import 'no_such_module_xyz': No module named 'no_such_module_xyz'"),
    ("tests.test_cli:missing", "'tests.test_cli' has no attribute 'missing'"),
    ("tests.test_cli:not_an_app", "is not a WSGI application: a dict is not callable"),
    ("tests.test_cli:failing_factory()", "the factory raised RuntimeError: no database"),
    ("tests.test_cli:make_app(PAGE)", "the factory's arguments must be Python literals"),
    ("tests.test_cli:1 +", "is not 'module:name' or 'module:factory(...)'"),
    (":app", "is not 'module:name' or 'module:factory(...)'"),
    ("no-such-file.ini", "is neither a file nor 'module:callable'"),
], ids=["no-module", "no-attribute", "not-callable", "factory-raises", "non-literal-argument", "bad-expression",
        "no-module-name", "no-such-file"])
def test_check_target_errors_are_one_line(target: str, message: str) -> None:
    result = run("check", target, "--origin", PAGE)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_check_module_raising_on_import_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "exploding_app_xyz.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run("check", "exploding_app_xyz:app", "--origin", PAGE)
    assert result.exit_code == 2
    assert "cannot import 'exploding_app_xyz': RuntimeError: boom" in result.stderr


def test_check_name_option_is_only_for_ini_files() -> None:
    result = run("check", "tests.test_cli:wrapped_app", "--name", "api", "--origin", PAGE)
    assert result.exit_code == 2
    assert "only for an ini file" in result.stderr


def test_find_middleware_looks_through_wrappers() -> None:
    from cors_wsgi.cli import find_middleware

    class Wrapper:
        def __init__(self, app: Any) -> None:
            self.app = app

    inner = make_app()
    assert find_middleware(Wrapper(Wrapper(inner))) is inner
    assert find_middleware(hello_app) is None


# -- probe: live servers -------------------------------------------------------------------------------

ACAO = ("Access-Control-Allow-Origin", PAGE)
#: path -> (preflight answer, actual answer): servers misconfigured the ways real ones are.
MISCONFIGURED: dict[str, tuple[tuple[str, list[tuple[str, str]]], tuple[str, list[tuple[str, str]]]]] = {
    "/no-acao": (("204 No Content", []), ("200 OK", [])),
    "/acao-twice": (("204 No Content", []), ("200 OK", [ACAO, ACAO])),
    "/star-with-credentials": (("204 No Content", []), ("200 OK", [("Access-Control-Allow-Origin", "*"),
                                                                  ("Access-Control-Allow-Credentials", "true")])),
    "/trailing-slash": (("204 No Content", []), ("200 OK", [("Access-Control-Allow-Origin", PAGE + "/")])),
    "/acah-missing-header": (("204 No Content", [ACAO, ("Access-Control-Allow-Methods", "PUT"),
                                                 ("Access-Control-Allow-Headers", "Content-Type")]), ("200 OK", [ACAO])),
    "/preflight-404": (("404 Not Found", [ACAO]), ("200 OK", [ACAO])),
    "/preflight-401": (("401 Unauthorized", [("WWW-Authenticate", "Bearer")]), ("200 OK", [ACAO])),
    "/acac-capitalised": (("204 No Content", []), ("200 OK", [ACAO, ("Access-Control-Allow-Credentials", "True")])),
    "/authorization-star": (("204 No Content", [ACAO, ("Access-Control-Allow-Headers", "*")]), ("200 OK", [ACAO])),
    "/hostile": (("204 No Content", []), ("200 OK", [("Access-Control-Allow-Origin", "https://x\x1b[2J")])),
}


def misconfigured_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    preflight, actual = MISCONFIGURED[environ["PATH_INFO"]]
    is_preflight = environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
    status, headers = preflight if is_preflight else actual
    start_response(status, [*headers, ("Content-Length", "0")])
    return []


@pytest.fixture(scope="module")
def misconfigured() -> Iterator[str]:
    with serve_wsgiref(misconfigured_app) as (host, port):
        yield f"http://{host}:{port}"


@pytest.fixture(scope="module")
def cors_wsgi_server() -> Iterator[str]:
    policy = CORSPolicy(allow_origins=[PAGE], allow_methods=["PUT"], allow_headers=["Content-Type"])
    with serve_wsgiref(CORSMiddleware(hello_app, {"/api/*": policy})) as (host, port):
        yield f"http://{host}:{port}"


PROBES = [
    # (id, path, extra args, exit status, step, reason fragment)
    ("no-acao", "/no-acao", [], 1, "cors-check", "no Access-Control-Allow-Origin header"),
    ("acao-twice", "/acao-twice", [], 1, "cors-check", "2 Access-Control-Allow-Origin values"),
    ("star-with-credentials", "/star-with-credentials", ["--credentials"], 1, "cors-check", "`*` cannot be used with credentials"),
    ("trailing-slash", "/trailing-slash", [], 1, "cors-check", "trailing slash"),
    ("acah-missing-header", "/acah-missing-header", ["--method", "PUT", "--header", "X-Token: t"], 1,
     "preflight-headers", "`x-token` is not in Access-Control-Allow-Headers"),
    ("preflight-404", "/preflight-404", ["--method", "DELETE"], 1, "preflight-status", "status is 404"),
    ("preflight-401", "/preflight-401", ["--method", "DELETE"], 1, "preflight-cors-check", "its status is 401"),
    ("acac-capitalised", "/acac-capitalised", ["--credentials"], 1, "cors-check", "exactly `true`"),
    ("authorization-star", "/authorization-star", ["--header", "Authorization: Bearer t"], 1,
     "preflight-authorization", "`*` never covers Authorization"),
]


@pytest.mark.parametrize(("path", "extra", "status", "step", "fragment"), [row[1:] for row in PROBES],
                         ids=[row[0] for row in PROBES])
def test_probe_misconfigured_server(misconfigured: str, path: str, extra: list[str], status: int, step: str,
                                    fragment: str) -> None:
    result = run("probe", misconfigured + path, "--origin", PAGE, *extra, "--json")
    assert result.exit_code == status, result.output
    data = json.loads(result.stdout)
    assert (data["allowed"], data["step"]) == (False, step)
    assert fragment in data["reason"]
    assert data["fix"]


def test_probe_human_output_names_step_reason_and_fix(misconfigured: str) -> None:
    result = run("probe", misconfigured + "/acao-twice", "--origin", PAGE)
    assert result.exit_code == 1
    assert f"< Access-Control-Allow-Origin: {PAGE}\n  < Access-Control-Allow-Origin: {PAGE}" in result.stdout
    assert "BLOCKED at step cors-check: the response has 2 Access-Control-Allow-Origin values" in result.stdout
    assert "Fix: send the header exactly once" in result.stdout


def test_probe_says_current_browsers_still_allow_authorization_under_star(misconfigured: str) -> None:
    result = run("probe", misconfigured + "/authorization-star", "--origin", PAGE, "--header", "Authorization: t")
    assert result.exit_code == 1
    assert "Blocked by the standard; current browsers still allow it and will stop." in result.stdout
    assert "AuthorizationCoveredByWildcard" in result.stdout
    # Browsers still send the actual request, so the probe does too.
    assert "Request:\n  > GET /authorization-star" in result.stdout
    assert "< 200 OK" in result.stdout


def test_probe_escapes_hostile_header_values(misconfigured: str) -> None:
    result = run("probe", misconfigured + "/hostile", "--origin", PAGE)
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout
    assert "\\x1b[2J" in result.stdout


def test_probe_cors_wsgi_allows_a_json_put(cors_wsgi_server: str) -> None:
    result = run("probe", cors_wsgi_server + "/api/items", "--origin", PAGE, "--method", "PUT",
                 "--header", "Content-Type: application/json", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["allowed"] is True
    assert data["preflight"]["status"] == 204
    assert data["response"]["status"] == 200


def test_probe_cors_wsgi_refuses_an_unlisted_header(cors_wsgi_server: str) -> None:
    result = run("probe", cors_wsgi_server + "/api/items", "--origin", PAGE, "--method", "PUT",
                 "--header", "X-Token: t")
    assert result.exit_code == 1
    assert "BLOCKED at step preflight-cors-check" in result.stdout
    assert "< 403 Forbidden" in result.stdout
    assert "(body) CORS preflight refused: request header not allowed" in result.stdout


def test_probe_cors_wsgi_uncovered_path_is_blocked(cors_wsgi_server: str) -> None:
    result = run("probe", cors_wsgi_server + "/elsewhere", "--origin", PAGE, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["step"] == "cors-check"


# -- probe: errors, never a traceback ---------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_probe_connection_refused_exits_2(cors_wsgi_server: str) -> None:
    result = run("probe", f"http://127.0.0.1:{free_port()}/", "--origin", PAGE, "--json")
    assert result.exit_code == 2
    assert "connection refused by 127.0.0.1" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


@pytest.mark.parametrize("url", ["ftp://example.com/", "example.com/api", "http://:80/", "http://127.0.0.1:99999/"])
def test_probe_bad_url_exits_2(url: str) -> None:
    result = run("probe", url, "--origin", PAGE)
    assert result.exit_code == 2
    assert "Invalid value for URL" in result.stderr


def test_probe_timeout_prints_progress_and_exits_2() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        result = run("probe", f"http://127.0.0.1:{port}/", "--origin", PAGE, "--timeout", "1.5", "--json")
    assert result.exit_code == 2
    assert "waiting for GET http://127.0.0.1" in result.stderr
    assert "no answer from 127.0.0.1" in result.stderr
    assert "within 1.5 s (--timeout)" in result.stderr
    assert result.stdout == ""


def test_probe_not_http_exits_2() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        import threading

        def answer_garbage() -> None:
            server.settimeout(5)
            connection, _ = server.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")

        thread = threading.Thread(target=answer_garbage, daemon=True)
        thread.start()
        result = run("probe", f"http://127.0.0.1:{port}/", "--origin", PAGE, "--timeout", "5")
        thread.join(timeout=5)
    assert result.exit_code == 2
    assert "did not answer with valid HTTP" in result.stderr


# -- the installed commands ------------------------------------------------------------------------------

def test_python_m_cors_wsgi_runs_check_with_exit_status(ini: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "cors_wsgi", "check", str(ini), "--origin", "https://evil.example",
         "--path", "/api/x", "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env, check=False,
    )
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["step"] == "cors-check"


def test_console_script_is_installed() -> None:
    script = shutil.which("cors-wsgi", path=str(Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert "check" in result.stdout
    assert "probe" in result.stdout


def test_check_names_the_rule_and_refusal_when_cors_wsgi_is_outermost() -> None:
    from pathlib import Path

    ini = Path(__file__).resolve().parent.parent / "examples" / "app.ini"
    args = ["check", str(ini), "--origin", "http://localhost:8080", "--method", "PUT",
            "--header", "X-Token: t", "--path", "/api/items/1"]
    text = CliRunner().invoke(main, args)
    assert "cors_wsgi: origin allowed by allow_origins entry 'http://localhost:8080'; refused: header-not-allowed" in text.stdout
    data = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)
    assert data["refusal"] == "header-not-allowed"


def test_check_read_header_that_is_hidden_names_expose_headers() -> None:
    result = run("check", "examples.flask_app:create_app()", "--origin", "http://localhost:8080",
                 "--path", "/api/items", "--read-header", "X-Request-Id", "--read-header", "X-Trace")
    assert result.exit_code == 0
    assert "ALLOWED" in result.stdout
    assert "Fix: add 'X-Trace' to expose_headers in the policy for '/api/*'" in result.stdout


def test_check_read_header_that_is_exposed_needs_no_fix() -> None:
    result = run("check", "examples.flask_app:create_app()", "--origin", "http://localhost:8080",
                 "--path", "/api/items", "--read-header", "X-Request-Id")
    assert result.exit_code == 0
    assert "Fix:" not in result.stdout
