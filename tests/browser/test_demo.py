"""The demo page, opened in headless Chromium: every row behaves as the policy says.

Set ``CORS_WSGI_SCREENSHOT=docs/demo.png`` to write the README's screenshot.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.demo import PageApp, create_api_app
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
def rows(browser: Any, demo_url: str, tmp_path: Path) -> list[dict[str, str]]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.goto(demo_url)
        page.wait_for_selector("#summary[data-done=true]", timeout=20_000)
        shot = Path(os.environ.get("CORS_WSGI_SCREENSHOT") or tmp_path / "demo.png")
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        result: list[dict[str, str]] = page.eval_on_selector_all(
            "#results tbody tr", "rows => rows.map(r => ({...r.dataset}))"
        )
        return result
    finally:
        context.close()


def test_demo_table_lists_every_case(rows: list[dict[str, str]]) -> None:
    assert {row["name"]: row["expected"] for row in rows} == EXPECTED


def test_demo_every_request_behaves_as_the_policy_says(rows: list[dict[str, str]]) -> None:
    assert {row["name"]: row["result"] for row in rows} == EXPECTED
