"""The demo page, opened in each engine: every row behaves as the policy says.

Set ``CORS_WSGI_SCREENSHOT=docs/demo.png`` to write the README's screenshot
(Chromium's; the other engines write theirs under ``tmp_path``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.demo import PageApp, create_api_app
from tests.browser.engines import Engine
from tests.servers import serve

EXPECTED = {
    "GET /api/items": "allowed",
    "POST /api/items with a JSON body": "allowed",
    "PUT /api/items/1": "allowed",
    "DELETE /api/items/999 (no such item)": "allowed",
    "GET /api/fail (the app answers 500)": "allowed",
    "PUT /api/nowhere (a URL the app does not route)": "allowed",
    'GET /api/items with credentials: "include"': "allowed",
    "Read the X-Request-Id response header": "allowed",
    "Read the Server response header": "blocked",
    "PATCH /api/items/1": "blocked",
    "GET /api/items with an X-Debug header": "blocked",
    "GET /api/items from a sandboxed iframe": "blocked",
}


@pytest.fixture(scope="module")
def demo_url(origins: Any) -> Iterator[str]:
    page_app = PageApp()
    with serve(page_app) as (_, page_port):
        page_origin = f"http://127.0.0.1:{page_port}"
        with serve(create_api_app(page_origin)) as (_, api_port):
            page_app.api_origin = f"http://localhost:{api_port}"
            yield page_origin + "/"


@pytest.fixture
def rows(browser: Engine, demo_url: str, tmp_path: Path) -> list[dict[str, str]]:
    tab = browser.tab(width=1200, height=900)
    try:
        tab.goto(demo_url)
        tab.wait_for("document.querySelector('#summary[data-done=true]')", timeout_ms=20_000)
        wanted = os.environ.get("CORS_WSGI_SCREENSHOT") if browser.name == "chromium" else None
        shot = Path(wanted or tmp_path / f"demo-{browser.name}.png")
        tab.screenshot(shot)
        assert shot.stat().st_size > 10_000
        result: list[dict[str, str]] = tab.run(
            "() => Array.from(document.querySelectorAll('#results tbody tr'), r => ({...r.dataset}))"
        )
        return result
    finally:
        tab.close()


def test_demo_table_lists_every_case(rows: list[dict[str, str]]) -> None:
    assert {row["name"]: row["expected"] for row in rows} == EXPECTED


def test_demo_every_request_behaves_as_the_policy_says(rows: list[dict[str, str]]) -> None:
    assert {row["name"]: row["result"] for row in rows} == EXPECTED
