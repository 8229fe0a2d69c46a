"""Smoke test of an installed cors_wsgi (a wheel in a fresh venv), run by ``nox -s package``.

Run with ``python -I`` from a directory outside the checkout, so only the
installed package can be imported.  It checks the public API, the
``egg:cors_wsgi`` PasteDeploy filter and every console script the
distribution declares.  Not collected by pytest (no ``test_`` prefix).

    python -I tests/smoke_installed.py cors_wsgi-0.1.0-py3-none-any.whl
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tempfile
import wsgiref.util
from importlib import metadata
from pathlib import Path
from typing import Any

PAGE = "https://app.example.com"


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def app_factory(global_conf: dict[str, str], **local_conf: str) -> Any:
    return hello


def call(app: Any, method: str, headers: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": "/api/items"}
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    wsgiref.util.setup_testing_defaults(environ)
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer["status"], answer["headers"] = status, dict(response_headers)
        return lambda data: None

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"smoke test failed: {what}")
    print(f"ok  {what}")


def main(wheel_name: str) -> None:
    import cors_wsgi
    from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy, Problem

    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    check(Path(cors_wsgi.__file__).resolve().is_relative_to(site), f"cors_wsgi imported from {site}")
    version = metadata.version("cors_wsgi")
    check(cors_wsgi.__version__ == version and f"-{version}-" in wheel_name,
          f"version {version} in the module, metadata and wheel name")
    check((Path(cors_wsgi.__file__).parent / "py.typed").is_file(), "py.typed is installed")
    public = {"CORSConfigError", "CORSMiddleware", "CORSPolicy", "Problem", "__version__"}
    check(public <= set(cors_wsgi.__all__), "the public names are exported")

    app = CORSMiddleware(hello, {"/api/*": CORSPolicy(allow_origins=PAGE, allow_methods="PUT", max_age=600)})
    status, headers, body = call(app, "OPTIONS", {"Origin": PAGE, "Access-Control-Request-Method": "PUT"})
    check(status.startswith("204") and headers["Access-Control-Allow-Origin"] == PAGE
          and headers["Access-Control-Max-Age"] == "600" and body == b"", "allowed preflight answered 204")
    status, headers, body = call(app, "GET", {"Origin": "https://evil.example.net"})
    check(status == "200 OK" and "Access-Control-Allow-Origin" not in headers and body == b"hello",
          "other origin gets no CORS header")

    try:
        CORSPolicy(allow_origins="*", allow_credentials=True, max_age=-1)
    except CORSConfigError as error:
        codes = [problem.code for problem in error.problems]
        check(all(isinstance(p, Problem) for p in error.problems) and len(codes) >= 2,
              f"CORSConfigError lists every problem ({', '.join(codes)})")
    else:
        check(False, "an insecure policy is refused")

    from paste.deploy import loadapp

    with tempfile.TemporaryDirectory() as directory:
        ini = Path(directory) / "app.ini"
        ini.write_text(
            "[app:hello]\nuse = call:__main__:app_factory\n\n"
            f"[filter:cors]\nuse = egg:cors_wsgi\nallow_origins = {PAGE}\nallow_methods = PUT\npaths = /api/*\n\n"
            "[pipeline:main]\npipeline = cors hello\n"
        )
        pasted = loadapp(f"config:{ini}")
    status, headers, _ = call(pasted, "OPTIONS", {"Origin": PAGE, "Access-Control-Request-Method": "PUT"})
    check(status.startswith("204") and headers["Access-Control-Allow-Origin"] == PAGE,
          "use = egg:cors_wsgi loads the filter from the installed entry point")

    scripts = [ep for ep in metadata.distribution("cors_wsgi").entry_points if ep.group == "console_scripts"]
    for script in scripts:
        path = Path(sysconfig.get_paths()["scripts"]) / script.name
        done = subprocess.run([str(path), "--help"], capture_output=True, text=True, timeout=60, check=False)
        check(done.returncode == 0 and done.stdout.strip() != "", f"console script {script.name} --help")
    print(f"smoke test passed ({len(scripts)} console script(s))")


if __name__ == "__main__":
    main(sys.argv[1])
