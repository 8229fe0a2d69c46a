"""Real servers on 127.0.0.1 for tests: started in a thread, always stopped."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
import wsgiref.simple_server
from collections.abc import Iterator
from typing import Any

from webtest.http import StopableWSGIServer


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Return once ``host:port`` accepts a connection; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def serve(app: Any) -> Iterator[tuple[str, int]]:
    """Serve ``app`` with waitress on a free loopback port; yield ``(host, port)``."""
    server = StopableWSGIServer.create(app, host="127.0.0.1", expose_tracebacks=False)
    try:
        host, port = "127.0.0.1", int(server.adj.port)
        wait_for_port(host, port)
        yield host, port
    finally:
        server.shutdown()


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    daemon_threads = True


@contextlib.contextmanager
def serve_wsgiref(app: Any) -> Iterator[tuple[str, int]]:
    """Serve ``app`` with the stdlib's threaded wsgiref server on a free loopback port.

    Unlike waitress, it passes any request method through as sent (browsers
    send ``fetch(url, {method: "patch"})`` as ``patch``; waitress answers 400).
    """
    server = wsgiref.simple_server.make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: Any) -> None:
    """Terminate a child process; kill it if it has not exited within 10 s."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def run_server(argv: list[str], port: int, cwd: str, env: dict[str, str], timeout: float = 30.0) -> Iterator[None]:
    """Run a server command (gunicorn, pserve, waitress-serve) until it listens
    on ``127.0.0.1:port``; stop it afterwards.  Fails with its output if it
    exits early or does not listen within ``timeout`` seconds."""
    import subprocess
    import tempfile

    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    output.seek(0)
                    raise RuntimeError(f"{argv[0]} did not start:\n{output.read().decode(errors='replace')}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                        break
                except OSError:
                    time.sleep(0.1)
            yield
        finally:
            stop_process(process)


class FreezingProxy:
    """A TCP proxy on loopback to ``port`` that can stop forwarding without
    closing anything: what a half-open connection looks like to a client
    (a firewall dropped its state, the server's host vanished)."""

    def __init__(self, port: int, freeze_on: bytes | None = None) -> None:
        self.upstream = port
        #: Freeze, holding the data back, when the client sends these bytes.
        self.freeze_on = freeze_on
        self.frozen = threading.Event()
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            for source, target in ((client, upstream), (upstream, client)):
                thread = threading.Thread(target=self._pump, args=(source, target), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        source.settimeout(0.05)
        with contextlib.suppress(OSError):
            while not self._stop.is_set():
                if self.frozen.is_set():
                    time.sleep(0.05)  # read nothing, forward nothing, close nothing
                    continue
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                if self.freeze_on is not None and self.freeze_on in data:
                    self.frozen.set()
                    while self.frozen.is_set() and not self._stop.is_set():
                        time.sleep(0.05)  # the bytes wait here until thawed
                target.sendall(data)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.close()

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        for thread in self._threads:
            thread.join(2)
