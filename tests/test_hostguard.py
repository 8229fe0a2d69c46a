"""HostGuard (DNS rebinding), WebSocketOriginGuard (cross-site WebSocket
hijacking), Local Network Access notes, Cross-Origin-Resource-Policy and the
legacy allow_private_network warning."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import socket
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cors_wsgi import CORSConfigError, CORSMiddleware, CORSPolicy, HostGuard, WebSocketOriginGuard
from cors_wsgi import policy as policy_module
from cors_wsgi.cli import main
from cors_wsgi.fetch import address_space, local_network_note
from cors_wsgi.refusals import Refusal
from tests.conftest import RecordingApp, StartResponse
from tests.servers import serve, serve_wsgiref

API = "https://app.example.com"


def call(app: Any, host: str | None = None, origin: str | None = None, **extra: Any) -> tuple[str, list[tuple[str, str]]]:
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", **extra}
    if host is not None:
        environ["HTTP_HOST"] = host
    if origin is not None:
        environ["HTTP_ORIGIN"] = origin
    start_response = StartResponse()
    app(environ, start_response)
    ((status, headers),) = start_response.calls
    return status, headers


# -- HostGuard: the decision table ---------------------------------------------------------

ALLOWED_HOSTS = ["api.example.com", "*.tenants.example.com", "127.0.0.1:8000", "[::1]:*", "bücher.example"]

DECISIONS = [
    ("exact-name", "api.example.com", True),
    ("exact-name-any-port", "api.example.com:8443", True),
    ("name-upper-case", "API.Example.COM", True),
    ("other-name", "attacker.example", False),
    ("suffix-trick", "api.example.com.attacker.example", False),
    ("prefix-trick", "evilapi.example.com", False),
    ("wildcard-one-label", "a.tenants.example.com", True),
    ("wildcard-two-labels", "a.b.tenants.example.com", True),
    ("wildcard-not-the-apex", "tenants.example.com", False),
    ("wildcard-empty-label", ".tenants.example.com", False),
    ("listed-port", "127.0.0.1:8000", True),
    ("other-port", "127.0.0.1:8001", False),
    ("no-port-when-a-port-is-listed", "127.0.0.1", False),
    ("ipv4-shorthand", "127.1:8000", False),
    ("ipv4-hex", "0x7f.0.0.1:8000", False),
    ("ipv6-any-port", "[::1]:9000", True),
    ("ipv6-no-port", "[::1]", True),
    ("ipv6-long-form", "[0:0:0:0:0:0:0:1]", False),
    ("ipv6-unbracketed", "::1", False),
    ("trailing-dot", "api.example.com.", False),
    ("leading-zero-port", "127.0.0.1:08000", False),
    ("port-out-of-range", "api.example.com:70000", False),
    ("empty-port", "api.example.com:", False),
    ("userinfo", "evil@api.example.com", False),
    ("whitespace", "api.example.com ", False),
    ("idn-punycode", "xn--bcher-kva.example", True),
    ("idn-unicode-raw", "bücher.example", False),
    ("empty", "", False),
]


@pytest.mark.parametrize(("host", "allowed"), [pytest.param(h, a, id=i) for i, h, a in DECISIONS])
def test_host_decision_table(host: str, allowed: bool) -> None:
    app = RecordingApp()
    guard = HostGuard(app, allowed_hosts=ALLOWED_HOSTS)
    assert guard.allows_host(host) is allowed
    status, _ = call(guard, host)
    assert (status == "200 OK", app.calls) == ((True, 1) if allowed else (False, 0))
    if not allowed:
        assert status == "421 Misdirected Request"


LOOPBACK_DECISIONS = [
    ("localhost", "localhost:8000", True), ("localhost-no-port", "localhost", True),
    ("ipv4", "127.0.0.1:5000", True), ("ipv6", "[::1]:5000", True),
    ("other-loopback-address", "127.0.0.2:5000", False), ("subdomain-of-localhost", "a.localhost", False),
    ("rebinding-name", "attacker.example:5000", False), ("zero-address", "0.0.0.0:5000", False),
    ("localhost-trailing-dot", "localhost.:5000", False), ("upper-case", "LOCALHOST:5000", True),
]


@pytest.mark.parametrize(("host", "allowed"), [pytest.param(h, a, id=i) for i, h, a in LOOPBACK_DECISIONS])
def test_loopback_preset_decision_table(host: str, allowed: bool) -> None:
    assert HostGuard.loopback(RecordingApp()).allows_host(host) is allowed


def test_host_falls_back_to_server_name_and_port() -> None:
    guard = HostGuard.loopback(RecordingApp())
    assert call(guard, SERVER_NAME="localhost", SERVER_PORT="8000")[0] == "200 OK"
    assert call(guard, SERVER_NAME="attacker.example", SERVER_PORT="80")[0] == "421 Misdirected Request"
    assert call(guard)[0] == "421 Misdirected Request"  # neither: malformed


ORIGIN_DECISIONS = [
    ("no-origin", None, "200 OK"), ("listed", API, "200 OK"), ("other", "https://evil.example", "403 Forbidden"),
    ("null", "null", "403 Forbidden"), ("upper-case", "HTTPS://APP.example.com", "403 Forbidden"),
    ("userinfo", "https://evil@app.example.com", "403 Forbidden"), ("loopback", "http://localhost:3000", "200 OK"),
    ("loopback-other-scheme", "ws://localhost:3000", "403 Forbidden"),
    ("loopback-port-out-of-range", "http://localhost:99999", "403 Forbidden"),
]


@pytest.mark.parametrize(("origin", "status"), [pytest.param(o, s, id=i) for i, o, s in ORIGIN_DECISIONS])
def test_origin_decision_table(origin: str | None, status: str) -> None:
    guard = HostGuard(RecordingApp(), allowed_hosts="loopback", allowed_origins=[API])
    loopback_guard = HostGuard.loopback(RecordingApp(), allowed_origins="loopback")
    target = loopback_guard if origin is not None and "localhost" in origin else guard
    assert call(target, "localhost:8000", origin)[0] == status


def test_report_mode_logs_escaped_and_lets_the_request_through(caplog: pytest.LogCaptureFixture) -> None:
    app = RecordingApp()
    seen: list[Refusal] = []
    guard = HostGuard.loopback(app, mode="report", on_refusal=seen.append)
    with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
        status, _ = call(guard, "evil.example\x1b[2J\r\nforged", "https://x.example\n")
    assert status == "200 OK"
    assert app.calls == 1
    assert [r.reason for r in seen] == ["host-not-allowed"]
    (record,) = caplog.records
    message = record.getMessage()
    assert "would refuse" in message
    assert "\\x1b[2J\\r\\nforged" in message
    assert "\n" not in message
    assert "\x1b" not in message


def test_hook_that_raises_does_not_change_the_refusal(caplog: pytest.LogCaptureFixture) -> None:
    def broken(refusal: Refusal) -> None:
        raise RuntimeError("down")

    with caplog.at_level(logging.ERROR, logger="cors_wsgi"):
        assert call(HostGuard.loopback(RecordingApp(), on_refusal=broken), "evil.example")[0].startswith("421")
    assert "hook raised" in caplog.records[0].getMessage()


# -- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "codes"), [
    pytest.param({"allowed_hosts": []}, ["no-hosts"], id="no-hosts"),
    pytest.param({"allowed_hosts": ["*"]}, ["invalid-host-pattern"], id="bare-star"),
    pytest.param({"allowed_hosts": ["https://api.example.com"]}, ["invalid-host-pattern"], id="scheme"),
    pytest.param({"allowed_hosts": ["user@api.example.com"]}, ["invalid-host-pattern"], id="userinfo"),
    pytest.param({"allowed_hosts": ["api.example.com."]}, ["invalid-host-pattern"], id="trailing-dot"),
    pytest.param({"allowed_hosts": ["*.127.0.0.1"]}, ["invalid-host-pattern"], id="wildcard-address"),
    pytest.param({"allowed_hosts": ["a.*.example.com"]}, ["invalid-host-pattern"], id="inner-star"),
    pytest.param({"allowed_hosts": ["api.example.com:0"]}, ["bad-port"], id="port-zero"),
    pytest.param({"allowed_hosts": ["api.example.com:080"]}, ["bad-port"], id="port-leading-zero"),
    pytest.param({"allowed_hosts": ["1.2.3.256"]}, ["invalid-host"], id="bad-ipv4"),
    pytest.param({"allowed_hosts": ["[fe80::1%eth0]"]}, ["invalid-host"], id="zone-id"),
    pytest.param({"allowed_hosts": "loopback", "allowed_origins": ["*"]}, ["wildcard-origin-mixed"], id="origin-star"),
    pytest.param({"allowed_hosts": "loopback", "allowed_origins": ["null"]}, ["null-origin"], id="origin-null"),
    pytest.param({"allowed_hosts": "loopback", "allowed_origins": ["https://APP.example.com"]},
                 ["origin-not-serialized"], id="origin-case"),
    pytest.param({"allowed_hosts": "loopback", "allowed_origins": []}, ["no-origins"], id="origins-empty"),
    pytest.param({"allowed_hosts": "loopback", "mode": "log"}, ["invalid-mode"], id="mode"),
    pytest.param({"allowed_hosts": "loopback", "on_refusal": 3}, ["invalid-type"], id="hook"),
    pytest.param({"allowed_hosts": 5}, ["invalid-type"], id="hosts-type"),
])
def test_host_guard_validation(kwargs: dict[str, Any], codes: list[str]) -> None:
    with pytest.raises(CORSConfigError) as raised:
        HostGuard(RecordingApp(), **kwargs)
    assert raised.value.codes == codes


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(CORSConfigError) as raised:
        HostGuard(RecordingApp(), allowed_hosts=["*", "a.example:0"], allowed_origins=["null"], mode="x")
    assert raised.value.codes == ["invalid-host-pattern", "bad-port", "null-origin", "invalid-mode"]


# -- Hypothesis: hostile Host spellings --------------------------------------------------------

EXACT = {"localhost", "127.0.0.1", "[::1]"}


def exactly_allowed(host: str) -> bool:
    """The loopback preset's rule, restated: one of three hosts, lower-cased,
    with no port or a port 1..65535 written without leading zeros."""
    lowered = host.lower()
    for name in EXACT:
        if lowered == name:
            return True
        if lowered.startswith(name + ":"):
            port = lowered[len(name) + 1:]
            return port.isascii() and port.isdigit() and port[0] != "0" and int(port) <= 65535
    return False


SPELLINGS = st.one_of(
    st.text(max_size=300),
    st.builds(lambda base, pre, post: pre + base + post,
              st.sampled_from(["localhost", "LocalHost", "127.0.0.1", "[::1]", "[0::1]", "127.1", "2130706433",
                               "0x7f000001", "localhost.", "[::ffff:127.0.0.1]", "127.0.0.1.", "::1"]),
              st.sampled_from(["", " ", "\t", "evil@", "user:pw@", ".", "a.", "\x00", "\u0130"]),
              st.sampled_from(["", ":80", ":0", ":080", ":65536", ":", ": 80", "\r\nX: y", ".", "/", "%00",
                               ":8000:8000", "#", "\u00a0", ":" + "9" * 300, "." + "a" * 300])),
)


@given(SPELLINGS)
@settings(max_examples=400, deadline=None)
def test_no_hostile_host_spelling_passes_unless_exactly_allowed(host: str) -> None:
    app = RecordingApp()
    guard = HostGuard.loopback(app)
    status, _ = call(guard, host)
    assert (status == "200 OK") is exactly_allowed(host), host
    assert app.calls == (1 if exactly_allowed(host) else 0)


# -- DNS rebinding against a real loopback server ------------------------------------------------

def raw_request(port: int, lines: list[str]) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


def test_dns_rebinding_simulation_on_a_real_loopback_server() -> None:
    app = RecordingApp()
    with serve(HostGuard.loopback(app)) as (host, port):
        # The attacker's page, its name re-pointed at 127.0.0.1, sends its own name as Host.
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", "/secrets", headers={"Host": "attacker.example", "Origin": "http://attacker.example"})
        refused = connection.getresponse()
        assert refused.status == 421
        assert app.calls == 0
        refused.read()
        connection.request("GET", "/secrets", headers={"Host": f"localhost:{port}"})
        answered = connection.getresponse()
        assert answered.status == 200
        assert app.calls == 1
        connection.close()


# -- WebSocket handshakes --------------------------------------------------------------------

def handshake(port: int, origin: str | None) -> list[str]:
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    lines = ["GET /socket HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    return [*lines, f"Origin: {origin}"] if origin is not None else lines


WS_POLICY = CORSPolicy(allow_origins=[API, "https://*.example.org"], allow_credentials=True)


@pytest.mark.parametrize(("origin", "reaches"), [
    pytest.param("https://evil.example", False, id="foreign"),
    pytest.param("null", False, id="null"),
    pytest.param("http://evil@app.example.com", False, id="userinfo"),
    pytest.param(API, True, id="allowed"),
    pytest.param("https://chat.example.org", True, id="allowed-by-wildcard"),
    pytest.param(None, True, id="no-origin-non-browser"),
])
def test_raw_socket_websocket_handshake(origin: str | None, reaches: bool) -> None:
    app = RecordingApp()
    with serve(WebSocketOriginGuard(app, policy=WS_POLICY)) as (_, port):
        status, _ = raw_request(port, handshake(port, origin))
    assert (status, app.calls) == ((200, 1) if reaches else (403, 0))
    if reaches:
        assert app.environ is not None
        assert app.environ["HTTP_UPGRADE"] == "websocket"


def test_websocket_guard_require_origin_and_explicit_list() -> None:
    app = RecordingApp()
    guard = WebSocketOriginGuard(app, allowed_origins=[API], require_origin=True)
    upgrade = {"HTTP_UPGRADE": "WebSocket", "HTTP_CONNECTION": "Upgrade"}
    assert call(guard, "h", None, **upgrade)[0] == "403 Forbidden"
    assert call(guard, "h", "https://evil.example", **upgrade)[0] == "403 Forbidden"
    assert call(guard, "h", API, **upgrade)[0] == "200 OK"
    assert call(guard, "h", "https://evil.example")[0] == "200 OK"  # not a handshake: CORS's business
    assert call(guard, "h", "https://evil.example", HTTP_UPGRADE="h2c, websocket")[0] == "403 Forbidden"
    assert app.calls == 2


@pytest.mark.parametrize(("kwargs", "codes"), [
    pytest.param({}, ["websocket-origins-missing"], id="neither"),
    pytest.param({"allowed_origins": [API], "policy": WS_POLICY}, ["websocket-origins-missing"], id="both"),
    pytest.param({"policy": CORSPolicy(allow_origins="*")}, ["wildcard-origin-websocket"], id="star-policy"),
    pytest.param({"allowed_origins": ["https://a.example/"]}, ["origin-not-serialized"], id="origin-path"),
    pytest.param({"allowed_origins": [API], "require_origin": "yes"}, ["invalid-type"], id="require-origin"),
])
def test_websocket_guard_validation(kwargs: dict[str, Any], codes: list[str]) -> None:
    with pytest.raises(CORSConfigError) as raised:
        WebSocketOriginGuard(RecordingApp(), **kwargs)
    assert raised.value.codes == codes


# -- Local Network Access ------------------------------------------------------------------------

@pytest.mark.parametrize(("host", "space"), [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("[::1]", "loopback"), ("localhost", "loopback"),
    ("app.localhost", "loopback"), ("0.0.0.0", "loopback"), ("[::ffff:127.0.0.1]", "loopback"),
    ("10.0.0.1", "local"), ("172.16.0.1", "local"), ("172.31.255.255", "local"), ("192.168.1.1", "local"),
    ("169.254.169.254", "local"), ("[fd12::1]", "local"), ("[fe80::1]", "local"), ("100.64.0.1", "local"),
    ("172.32.0.1", "public"), ("8.8.8.8", "public"), ("[2001:db8::1]", "public"), ("11.0.0.1", "public"),
    ("example.com", None), ("", None),
])
def test_address_space_classification(host: str, space: str | None) -> None:
    assert address_space(host) == space


@pytest.mark.parametrize(("page", "target", "expected"), [
    ("https://app.example.com", "http://127.0.0.1:8000/api", "loopback"),
    ("https://app.example.com", "http://192.168.1.20/", "local"),
    ("http://192.168.1.5", "http://localhost:3000/", "loopback"),
    ("http://192.168.1.5", "http://192.168.1.6/", None),
    ("http://localhost:3000", "http://127.0.0.1:8000/", None),
    ("https://app.example.com", "https://api.example.com/", None),
    ("https://app.example.com", "https://8.8.8.8/", None),
])
def test_local_network_note(page: str, target: str, expected: str | None) -> None:
    note = local_network_note(page, target)
    if expected is None:
        assert note is None
    else:
        assert note is not None
        assert "Chrome 142+ and Firefox 153+" in note
        assert "permission" in note
        assert f'targetAddressSpace: "{expected}"' in note
        assert f'allow="{expected}-network"' in note


def test_explain_with_a_whole_url_notes_local_network_access() -> None:
    policy = CORSPolicy(allow_origins=API)
    assert "Local Network Access" in str(policy.explain(API, path="http://10.0.0.7:8080/api?x=1"))
    assert "Local Network Access" not in str(policy.explain(API, path="/api"))


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


def test_cli_probe_of_a_loopback_server_from_a_public_page_prints_the_lna_note() -> None:
    with serve_wsgiref(CORSMiddleware(hello, CORSPolicy(allow_origins=API))) as (host, port):
        human = CliRunner().invoke(main, ["probe", f"http://{host}:{port}/", "--origin", API])
        data = CliRunner().invoke(main, ["probe", f"http://{host}:{port}/", "--origin", API, "--json"])
        local_page = CliRunner().invoke(main, ["probe", f"http://{host}:{port}/", "--origin", "http://localhost:3000"])
    assert human.exit_code == 0, human.output
    assert "Note: Local Network Access: 127.0.0.1 is a loopback address" in human.stdout
    assert 'targetAddressSpace: "loopback"' in human.stdout
    assert any("Local Network Access" in note for note in json.loads(data.stdout)["notes"])
    assert "Local Network Access" not in local_page.stdout


# -- allow_private_network: legacy, warned once --------------------------------------------------

def test_allow_private_network_still_works_and_warns_once(caplog: pytest.LogCaptureFixture,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy_module, "_LEGACY_WARNED", set())
    with caplog.at_level(logging.WARNING, logger="cors_wsgi"):
        policy = CORSPolicy(allow_origins=API, allow_private_network=True)
        CORSPolicy(allow_origins="https://other.example", allow_private_network=True)
        CORSPolicy(allow_origins=API)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "Chrome 142+" in warnings[0]
    assert "Local Network Access" in warnings[0]
    app = CORSMiddleware(RecordingApp(), policy)
    start_response = StartResponse()
    app({"REQUEST_METHOD": "OPTIONS", "PATH_INFO": "/", "HTTP_ORIGIN": API,
         "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET", "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK": "true"},
        start_response)
    assert ("Access-Control-Allow-Private-Network", "true") in start_response.headers[0]


# -- Cross-Origin-Resource-Policy ------------------------------------------------------------

@pytest.mark.parametrize("value", ["same-origin", "same-site", "cross-origin"])
def test_cross_origin_resource_policy_is_sent_on_every_actual_response(value: str) -> None:
    for allow in ([API], "*"):
        app = CORSMiddleware(RecordingApp(), CORSPolicy(allow_origins=allow, cross_origin_resource_policy=value))
        for origin in (API, "https://evil.example", None):
            _, headers = call(app, "h", origin)
            assert [v for n, v in headers if n == "Cross-Origin-Resource-Policy"] == [value], (allow, origin)
        preflight_response = StartResponse()
        app({"REQUEST_METHOD": "OPTIONS", "PATH_INFO": "/", "HTTP_ORIGIN": API,
             "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET"}, preflight_response)
        assert "Cross-Origin-Resource-Policy" not in dict(preflight_response.headers[0])


@pytest.mark.parametrize("value", ["same_site", "Same-Origin", "", "none", 1, True])
def test_cross_origin_resource_policy_is_validated(value: object) -> None:
    with pytest.raises(CORSConfigError) as raised:
        CORSPolicy(allow_origins=API, cross_origin_resource_policy=value)  # type: ignore[arg-type]
    assert raised.value.codes == ["invalid-resource-policy"]


def test_cross_origin_resource_policy_from_settings() -> None:
    policy = CORSPolicy.from_settings({"CORS_ALLOW_ORIGINS": API, "CORS_CROSS_ORIGIN_RESOURCE_POLICY": "same-site"})
    assert policy == CORSPolicy(allow_origins=API, cross_origin_resource_policy="same-site")
    assert CORSPolicy(allow_origins=API).cross_origin_resource_policy is None


@pytest.mark.parametrize(("host", "allowed"), [
    ("api.example.com", True), ("localhost:5000", True), ("[::1]:5000", True), ("attacker.example", False),
])
def test_loopback_may_be_listed_with_other_names(host: str, allowed: bool) -> None:
    guard = HostGuard(RecordingApp(), allowed_hosts=["loopback", "api.example.com"])
    assert guard.allows_host(host) is allowed


@pytest.mark.parametrize("value", [8000, None, b"api.example.com"])
def test_allowed_hosts_of_the_wrong_type_are_refused(value: object) -> None:
    with pytest.raises(CORSConfigError):
        HostGuard(RecordingApp(), allowed_hosts=value)  # type: ignore[arg-type]
