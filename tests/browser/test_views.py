"""Per-view policies in real browsers: a page's fetch to an @cross_origin view
succeeds or fails as the view's policy says, its preflight decided by the view."""

from __future__ import annotations

from tests.browser.conftest import Page

PUT_JSON = {"method": "PUT", "headers": {"Content-Type": "application/json"}, "body": "{}"}


def preflight_statuses(page: Page, path: str, query: str) -> list[str]:
    return [s.status for s in page.origins.recorder.requests("OPTIONS", query) if s.path == path]


def test_put_to_a_view_whose_policy_lets_the_page_in_is_allowed(page: Page, query: str) -> None:
    # The app-wide policy refuses the page; the admin view's own policy allows it.
    result = page.fetch("/views-admin/api/admin/items/1", query, PUT_JSON)
    assert (result["ok"], result.get("status")) == (True, 200)
    assert preflight_statuses(page, "/views-admin/api/admin/items/1", query) == ["204 No Content"]


def test_put_to_another_view_of_that_app_is_blocked(page: Page, query: str) -> None:
    assert page.fetch("/views-admin/api/items/1", query, PUT_JSON) == page.blocked
    assert preflight_statuses(page, "/views-admin/api/items/1", query) == ["403 Forbidden"]


def test_put_to_a_view_whose_policy_keeps_the_page_out_is_blocked(page: Page, query: str) -> None:
    # The app-wide policy allows the page; the admin view's own policy does not.
    assert page.fetch("/views-site/api/admin/items/1", query, PUT_JSON) == page.blocked
    assert preflight_statuses(page, "/views-site/api/admin/items/1", query) == ["403 Forbidden"]


def test_put_to_a_view_without_a_decorator_takes_the_app_policy(page: Page, query: str) -> None:
    result = page.fetch("/views-site/api/items/1", query, PUT_JSON)
    assert (result["ok"], result.get("status")) == (True, 200)


def test_no_cross_origin_view_is_unreadable_and_its_preflight_refused(page: Page, query: str) -> None:
    assert page.fetch("/views-site/api/webhook", query, {"method": "POST", "body": "x"}) == page.blocked
    json_post = {"method": "POST", "headers": {"Content-Type": "application/json"}, "body": "{}"}
    assert page.fetch("/views-site/api/webhook", query, json_post) == page.blocked
    assert preflight_statuses(page, "/views-site/api/webhook", query) == ["403 Forbidden"]
