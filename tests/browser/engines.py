"""One thin driver per browser engine, behind the one small interface the tests use.

=========  ==========================  ======================================================
engine     browser (Debian package)    client (PyPI)
=========  ==========================  ======================================================
chromium   ``chromium``                Playwright for Python, ``executable_path`` given
firefox    ``firefox-esr``             ``marionette-driver``, Mozilla's own Marionette client
webkit     ``webkit2gtk-driver``       Selenium with ``WebKitWebDriver`` given explicitly,
                                       the GTK MiniBrowser on a private Xvfb display
=========  ==========================  ======================================================

No client ever downloads a browser or a driver: every path is given.  Each
engine is started once per test session; each test gets a :class:`Tab` with
its cookies cleared (Chromium: a fresh browser context), and uses URLs of its
own so the preflight cache, which survives navigations, never leaks between
tests.

What differs between engines and is not a CORS decision lives in
:class:`Engine`: the text of the ``TypeError`` a blocked ``fetch()`` rejects
with, and whether its console can be read from a test.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import free_port, stop_process

#: Debian's ``chromium`` runs headless with these flags (no sandbox as root in CI).
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
#: Upper bound for one script (a fetch, a wait for a page) in any engine, seconds.
SCRIPT_TIMEOUT = 20

# A JS function's source and its arguments become one async call whose outcome
# is handed to WebDriver's callback (the last argument), a JS error included.
_ASYNC_CALL = """
const done = arguments[arguments.length - 1];
const args = Array.from(arguments).slice(0, -1);
Promise.resolve().then(() => (%s)(...args)).then(done, error => done({__js_error__: String(error)}));
"""


class JSError(AssertionError):
    """A script run in the page threw; the message is the JS error."""


def _unwrap(result: Any) -> Any:
    if isinstance(result, dict) and "__js_error__" in result:
        raise JSError(result["__js_error__"])
    return result


def import_marionette() -> Any:
    """``marionette_driver.marionette``, imported with its dependencies' import-time
    DeprecationWarnings silenced (mozinfo calls ``distro.linux_distribution()``,
    mozdevice imports ``telnetlib``): third-party noise, not ours, and only here,
    so pytest's ``filterwarnings = error`` still holds everywhere else."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import marionette_driver.marionette

    return marionette_driver.marionette


def _binary(*candidates: str) -> str | None:
    for candidate in candidates:
        path = shutil.which(candidate) or candidate
        if os.path.isabs(path) and os.access(path, os.X_OK):
            return path
    return None


class Tab:
    """A page in one engine: navigate, run script, read cookies and console."""

    engine: Engine

    def goto(self, url: str) -> None:
        raise NotImplementedError

    def run(self, function: str, *args: Any) -> Any:
        """Call the JS ``function`` (source text; may be async) with JSON ``args``; return its result."""
        raise NotImplementedError

    def set_cookie(self, name: str, value: str) -> None:
        """Set a cookie for the current page's host (cookies ignore ports, so
        ``localhost:<page>`` and ``localhost:<api>`` share it)."""
        self.run("(name, value) => { document.cookie = `${name}=${value}; path=/`; }", name, value)

    def console(self) -> list[str]:
        """The console messages logged since the tab opened (engines with ``reads_console``)."""
        raise NotImplementedError

    def wait_for(self, expression: str, timeout_ms: int = 10_000) -> Any:
        """Poll the JS ``expression`` until it is truthy; return it (bounded by ``timeout_ms``)."""
        return self.run(
            """(expression, timeout) => new Promise((resolve, reject) => {
                 const deadline = Date.now() + timeout;
                 const poll = () => {
                   const value = eval(expression);
                   if (value) resolve(value);
                   else if (Date.now() > deadline) reject(new Error("timed out waiting for " + expression));
                   else setTimeout(poll, 50);
                 };
                 poll();
               })""",
            expression, timeout_ms,
        )

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def screenshot(self, path: Path) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class Engine:
    """A running browser of one engine; :meth:`tab` opens a clean tab."""

    name: str
    #: ``String(error)`` of the ``TypeError`` a ``fetch()`` blocked by CORS rejects with.
    blocked: str
    #: Whether :meth:`Tab.console` can read the engine's CORS console messages.
    reads_console: bool = True

    def tab(self, width: int = 1200, height: int = 900) -> Tab:
        raise NotImplementedError


# -- Chromium: Playwright ------------------------------------------------------------

class ChromiumTab(Tab):
    engine: ChromiumEngine

    def __init__(self, engine: ChromiumEngine, width: int, height: int) -> None:
        self.engine = engine
        self.context = engine.browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.page.set_default_timeout(SCRIPT_TIMEOUT * 1000)
        self.messages: list[str] = []
        self.page.on("console", lambda message: self.messages.append(message.text))

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def run(self, function: str, *args: Any) -> Any:
        return _unwrap(self.page.evaluate(
            f"async args => {{ try {{ return await ({function})(...args); }}"
            " catch (error) { return {__js_error__: String(error)}; } }",
            list(args),
        ))

    def console(self) -> list[str]:
        return list(self.messages)

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=str(path), full_page=True)

    def close(self) -> None:
        self.context.close()


class ChromiumEngine(Engine):
    name = "chromium"
    blocked = "TypeError: Failed to fetch"

    def __init__(self, browser: Any) -> None:
        self.browser = browser

    def tab(self, width: int = 1200, height: int = 900) -> Tab:
        return ChromiumTab(self, width, height)


@contextlib.contextmanager
def chromium(path: str) -> Iterator[Engine]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh, temporary user-data dir.
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield ChromiumEngine(browser)
        finally:
            browser.close()


# -- Firefox: marionette-driver -------------------------------------------------------------

class FirefoxTab(Tab):
    engine: FirefoxEngine

    def __init__(self, engine: FirefoxEngine, width: int, height: int) -> None:
        self.engine = engine
        client = engine.client
        client.navigate("about:blank")
        client.set_window_rect(width=width, height=height)
        with client.using_context(client.CONTEXT_CHROME):
            # A clean slate: no cookies from an earlier test, an empty console.
            client.execute_script("Services.cookies.removeAll(); Services.console.reset();")

    def goto(self, url: str) -> None:
        self.engine.client.navigate(url)

    def run(self, function: str, *args: Any) -> Any:
        # sandbox=None: run in the page's own global, where window.probe lives.
        return _unwrap(self.engine.client.execute_async_script(
            _ASYNC_CALL % function, script_args=list(args), sandbox=None, script_timeout=SCRIPT_TIMEOUT * 1000,
        ))

    def console(self) -> list[str]:
        client = self.engine.client
        with client.using_context(client.CONTEXT_CHROME):
            messages: list[str] = client.execute_script(
                "return Services.console.getMessageArray().map(m => m.errorMessage || m.message);"
            )
        return messages

    def screenshot(self, path: Path) -> None:
        path.write_bytes(self.engine.client.screenshot(format="binary", full=True))


class FirefoxEngine(Engine):
    name = "firefox"
    blocked = "TypeError: NetworkError when attempting to fetch resource."

    def __init__(self, client: Any) -> None:
        self.client = client

    def tab(self, width: int = 1200, height: int = 900) -> Tab:
        return FirefoxTab(self, width, height)


@contextlib.contextmanager
def firefox(path: str) -> Iterator[Engine]:
    Marionette = import_marionette().Marionette  # noqa: N806

    with tempfile.TemporaryDirectory(prefix="cors-wsgi-firefox-") as logs:
        # A free loopback port for Marionette (Firefox listens on 127.0.0.1 only);
        # the profile is a fresh temporary one.
        with warnings.catch_warnings():
            # Marionette polls the port with sockets it never closes while Firefox
            # starts: third-party ResourceWarnings, collected here while ignored.
            warnings.simplefilter("ignore", ResourceWarning)
            client = Marionette(bin=path, port=free_port(), headless=True, gecko_log=str(Path(logs) / "gecko.log"),
                                startup_timeout=90)
            gc.collect()
        try:
            client.start_session()
            client.timeout.page_load = SCRIPT_TIMEOUT
            yield FirefoxEngine(client)
        finally:
            client.cleanup()
            if client.instance is not None and client.instance.profile is not None:
                client.instance.profile.cleanup()


# -- WebKitGTK: Selenium + WebKitWebDriver, under Xvfb -----------------------------------------

class WebKitTab(Tab):
    engine: WebKitEngine

    def __init__(self, engine: WebKitEngine, width: int, height: int) -> None:
        self.engine = engine
        engine.driver.get("about:blank")
        engine.driver.set_window_size(width, height)
        self.cleared = False

    def goto(self, url: str) -> None:
        self.engine.driver.get(url)
        if not self.cleared:
            # WebDriver deletes the cookies of the current document's host; every
            # page and API here is on localhost or its subdomains.
            self.engine.driver.delete_all_cookies()
            self.cleared = True

    def run(self, function: str, *args: Any) -> Any:
        return _unwrap(self.engine.driver.execute_async_script(_ASYNC_CALL % function, *args))

    def console(self) -> list[str]:
        raise NotImplementedError("WebKitWebDriver has no console log endpoint")

    def screenshot(self, path: Path) -> None:
        path.write_bytes(self.engine.driver.get_screenshot_as_png())


class WebKitEngine(Engine):
    name = "webkit"
    blocked = "TypeError: Load failed"
    # WebDriver has no console endpoint and MiniBrowser's automation views do not
    # write console messages to stdout: WebKit's CORS messages cannot be read here.
    reads_console = False

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def tab(self, width: int = 1200, height: int = 900) -> Tab:
        return WebKitTab(self, width, height)


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    """A private X display (Xvfb picks a free number itself, ``-displayfd``); stopped afterwards."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "1280x1024x24"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 20)
        number = os.read(read_end, 16).decode().strip() if ready else ""
        if not number:
            raise RuntimeError("Xvfb did not report a display within 20 s")
        yield f":{number}"
    finally:
        os.close(read_end)
        stop_process(process)


@contextlib.contextmanager
def webkit(driver_path: str) -> Iterator[Engine]:
    from selenium import webdriver
    from selenium.webdriver.remote.client_config import ClientConfig
    from selenium.webdriver.remote.remote_connection import RemoteConnection
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service

    with xvfb() as display:
        options = Options()
        options.binary_location = MINIBROWSER
        options.add_argument("--automation")
        # The driver's path is given and the service started here, so Selenium
        # never looks for (or downloads) a driver.  webdriver.WebKitGTK would hand
        # RemoteConnection a bare URL, which Selenium itself deprecates; a
        # ClientConfig is the supported way.
        service = Service(executable_path=driver_path, env={**os.environ, "DISPLAY": display})
        service.start()
        try:
            connection = RemoteConnection(client_config=ClientConfig(remote_server_addr=service.service_url))
            driver = webdriver.Remote(command_executor=connection, options=options)
            try:
                driver.set_script_timeout(SCRIPT_TIMEOUT)
                driver.set_page_load_timeout(SCRIPT_TIMEOUT)
                yield WebKitEngine(driver)
            finally:
                driver.quit()
        finally:
            service.stop()


# -- which engines exist, and how to start one ------------------------------------------------

ENGINES = ("chromium", "firefox", "webkit")


def require(name: str) -> tuple[Any, str]:
    """The starter and binary for engine ``name``; skip (fail under ``CI=true``) when absent."""
    missing: list[str] = []

    def need_module(module: str, package: str) -> None:
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{package} (pip install -e '.[testing]')")

    if name == "chromium":
        binary = _binary("chromium", "/usr/bin/chromium")
        if binary is None:
            missing.append("Debian's chromium (apt-get install chromium)")
        need_module("playwright.sync_api", "playwright")
        starter: Any = chromium
    elif name == "firefox":
        binary = _binary("firefox-esr", "/usr/bin/firefox-esr")
        if binary is None:
            missing.append("Debian's firefox-esr (apt-get install firefox-esr)")
        try:
            import_marionette()
        except ImportError:
            missing.append("marionette-driver (pip install -e '.[testing]')")
        starter = firefox
    else:
        binary = _binary("WebKitWebDriver", "/usr/bin/WebKitWebDriver")
        if binary is None or not os.access(MINIBROWSER, os.X_OK):
            missing.append("Debian's webkit2gtk-driver (apt-get install webkit2gtk-driver)")
        if _binary("Xvfb") is None:
            missing.append("Debian's xvfb (apt-get install xvfb)")
        need_module("selenium.webdriver", "selenium")
        starter = webkit
    if missing:
        reason = f"{name} tests need " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must install them", pytrace=False)
        pytest.skip(reason)
    assert binary is not None
    return starter, binary
