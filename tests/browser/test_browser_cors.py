"""What headless Chromium allows, for every behaviour a user depends on.

Each test states the policy's intent and asserts what the browser did: the
response readable, or a network error; which headers script can read; and,
seen on the API server, whether a preflight was sent.
"""

from __future__ import annotations

import json

from tests.browser.conftest import Page

BLOCKED = "TypeError: Failed to fetch"
JSON_BODY = {"method": "POST", "headers": {"Content-Type": "application/json"}, "body": "{}"}


def preflights(page: Page, query: str) -> list[str]:
    return [seen.status for seen in page.origins.recorder.requests("OPTIONS", query)]


# -- simple requests ----------------------------------------------------------------

def test_simple_get_from_allowed_origin_is_readable(page: Page, query: str) -> None:
    result = page.fetch("/simple/ok", query)
    assert result["ok"], result
    assert json.loads(result["body"])["ok"] is True


def test_simple_get_from_other_origin_is_blocked(page: Page, query: str) -> None:
    result = page.fetch("/elsewhere/ok", query)
    assert result == {"ok": False, "error": BLOCKED}


def test_simple_get_needs_no_preflight(page: Page, query: str) -> None:
    page.fetch("/simple/ok", query)
    assert preflights(page, query) == []


def test_xmlhttprequest_get_from_allowed_origin_is_readable(page: Page, query: str) -> None:
    status = page.page.evaluate(
        """url => new Promise(resolve => {
             const xhr = new XMLHttpRequest();
             xhr.open("GET", url);
             xhr.onload = () => resolve(xhr.status);
             xhr.onerror = () => resolve("blocked");
             xhr.send();
           })""",
        page.origins.url("/simple/ok", query),
    )
    assert status == 200


# -- preflighted requests --------------------------------------------------------------

def test_json_post_is_preflighted_and_allowed_when_content_type_listed(page: Page, query: str) -> None:
    result = page.fetch("/json/ok", query, JSON_BODY)
    assert result["ok"], result
    assert preflights(page, query) == ["204 No Content"]


def test_json_post_is_blocked_when_content_type_not_listed(page: Page, query: str) -> None:
    result = page.fetch("/simple/ok", query, JSON_BODY)
    assert result == {"ok": False, "error": BLOCKED}
    assert preflights(page, query) == ["403 Forbidden"]
    assert page.origins.recorder.requests("POST", query) == []


def test_put_is_allowed_when_listed(page: Page, query: str) -> None:
    assert page.fetch("/methods/ok", query, {"method": "PUT"})["ok"]


def test_delete_is_allowed_when_listed(page: Page, query: str) -> None:
    assert page.fetch("/methods/ok", query, {"method": "DELETE"})["ok"]


def test_put_is_blocked_when_not_listed(page: Page, query: str) -> None:
    assert page.fetch("/simple/ok", query, {"method": "PUT"}) == {"ok": False, "error": BLOCKED}


def test_lower_case_patch_is_allowed_when_listed_lower_case(page: Page, query: str) -> None:
    assert page.fetch("/methods/ok", query, {"method": "patch"})["ok"]


def test_lower_case_patch_is_blocked_by_upper_case_listing(page: Page, query: str) -> None:
    # Browsers upper-case only the six standard methods: fetch asks for "patch".
    assert page.fetch("/upper-patch/ok", query, {"method": "patch"}) == {"ok": False, "error": BLOCKED}
    (seen,) = page.origins.recorder.requests("OPTIONS", query)
    assert seen.headers["access-control-request-method"] == "patch"


def test_custom_request_header_is_allowed_when_listed(page: Page, query: str) -> None:
    assert page.fetch("/headers/ok", query, {"headers": {"X-Token": "t"}})["ok"]


def test_custom_request_header_is_blocked_when_not_listed(page: Page, query: str) -> None:
    result = page.fetch("/headers/ok", query, {"headers": {"X-Token": "t", "X-Other": "o"}})
    assert result == {"ok": False, "error": BLOCKED}


def test_authorization_is_blocked_by_star_headers(page: Page, query: str) -> None:
    result = page.fetch("/any-headers/ok", query, {"headers": {"Authorization": "Bearer t"}})
    assert result == {"ok": False, "error": BLOCKED}


def test_star_headers_allow_other_custom_headers(page: Page, query: str) -> None:
    assert page.fetch("/any-headers/ok", query, {"headers": {"X-Anything": "1"}})["ok"]


def test_authorization_is_allowed_when_listed_beside_star(page: Page, query: str) -> None:
    result = page.fetch("/any-headers-auth/ok", query, {"headers": {"Authorization": "Bearer t"}})
    assert result["ok"], result


def test_preflight_to_a_url_the_app_does_not_route_succeeds(page: Page, query: str) -> None:
    result = page.fetch("/methods/nowhere", query, {"method": "PUT"})
    assert preflights(page, query) == ["204 No Content"]
    assert (result["ok"], result.get("status")) == (True, 404), result


# -- credentials -------------------------------------------------------------------

def test_credentialed_fetch_sends_cookies_when_allowed(page: Page, query: str) -> None:
    page.page.context.add_cookies([{"name": "session", "value": "abc", "url": page.origins.api}])
    result = page.fetch("/creds/ok", query, {"credentials": "include"})
    assert result["ok"], result
    assert json.loads(result["body"])["cookie"] == "session=abc"


def test_credentialed_fetch_is_blocked_by_a_non_credentialed_policy(page: Page, query: str) -> None:
    page.page.context.add_cookies([{"name": "session", "value": "abc", "url": page.origins.api}])
    result = page.fetch("/simple/ok", query, {"credentials": "include"})
    assert result == {"ok": False, "error": BLOCKED}


# -- response headers ----------------------------------------------------------------

def test_exposed_header_is_readable(page: Page, query: str) -> None:
    headers = page.fetch("/expose/ok", query)["headers"]
    assert headers["x-exposed"] == "1"


def test_non_exposed_header_is_not_readable(page: Page, query: str) -> None:
    headers = page.fetch("/expose/ok", query)["headers"]
    assert "x-hidden" not in headers
    assert headers["content-type"] == "application/json"


# -- preflight cache -------------------------------------------------------------------

#: Chromium caches a preflight for 5 s when Access-Control-Max-Age is absent.
PAST_DEFAULT_CACHE_MS = 5_500


def test_preflight_cached_with_max_age(page: Page, query: str) -> None:
    assert page.fetch("/cached/ok", query, {"method": "PUT"})["ok"]
    page.page.wait_for_timeout(PAST_DEFAULT_CACHE_MS)
    assert page.fetch("/cached/ok", query, {"method": "PUT"})["ok"]
    assert preflights(page, query) == ["204 No Content"]


def test_preflight_repeated_without_max_age_after_the_default_5_seconds(page: Page, query: str) -> None:
    assert page.fetch("/default-cache/ok", query, {"method": "PUT"})["ok"]
    page.page.wait_for_timeout(PAST_DEFAULT_CACHE_MS)
    assert page.fetch("/default-cache/ok", query, {"method": "PUT"})["ok"]
    assert preflights(page, query) == ["204 No Content", "204 No Content"]


def test_preflight_repeated_with_max_age_zero(page: Page, query: str) -> None:
    for _ in range(2):
        assert page.fetch("/uncached/ok", query, {"method": "PUT"})["ok"]
    assert preflights(page, query) == ["204 No Content", "204 No Content"]


# -- error responses -------------------------------------------------------------------

def test_app_404_is_readable(page: Page, query: str) -> None:
    result = page.fetch("/simple/missing", query)
    assert (result["ok"], result["status"], result["body"]) == (True, 404, "not found")


def test_app_500_is_readable(page: Page, query: str) -> None:
    result = page.fetch("/simple/boom", query)
    assert (result["ok"], result["status"]) == (True, 500)


# -- origins -------------------------------------------------------------------------

def sandboxed_fetch(page: Page, path: str, query: str) -> str:
    target = page.origins.url(path, query)
    page.page.goto(f"{page.origins.page}/sandbox?target={target.replace('?', '%3F').replace('=', '%3D')}")
    page.page.wait_for_function("window.result !== null", timeout=10_000)
    return str(page.page.evaluate("window.result"))


def test_sandboxed_iframe_null_origin_is_refused(page: Page, query: str) -> None:
    assert sandboxed_fetch(page, "/simple/ok", query) == "blocked"
    (seen,) = page.origins.recorder.requests("GET", query)
    assert seen.headers["origin"] == "null"


def test_sandboxed_iframe_is_allowed_by_allow_all(page: Page, query: str) -> None:
    assert sandboxed_fetch(page, "/public/ok", query) == "allowed"


def test_subdomain_wildcard_allows_a_subdomain_page(page: Page, query: str) -> None:
    page.page.goto(f"http://app.localhost:{page.origins.page_port}/")
    result = page.fetch("/subdomains/ok", query)
    assert result["ok"], result


def test_subdomain_wildcard_does_not_allow_the_base_origin(page: Page, query: str) -> None:
    # The page fixture's origin is http://localhost:<port>, the wildcard's base.
    assert page.fetch("/subdomains/ok", query) == {"ok": False, "error": BLOCKED}


def test_allow_all_lets_any_page_read(page: Page, query: str) -> None:
    assert page.fetch("/public/ok", query, {"method": "PUT"})["ok"]


# -- debug mode and PasteDeploy ------------------------------------------------------------

def test_without_debug_the_console_only_says_the_preflight_failed(page: Page, query: str) -> None:
    page.fetch("/cached/ok", query, {"method": "DELETE"})
    page.page.wait_for_timeout(200)
    errors = [text for text in page.console if "blocked by CORS policy" in text]
    assert errors
    assert "Response to preflight request doesn't pass access control check" in errors[0]
    assert "Method DELETE" not in errors[0]


def test_debug_makes_the_console_name_the_disallowed_method(page: Page, query: str) -> None:
    page.fetch("/debug/ok", query, {"method": "DELETE"})
    page.page.wait_for_timeout(200)
    errors = [text for text in page.console if "blocked by CORS policy" in text]
    assert errors
    assert "Method DELETE is not allowed by Access-Control-Allow-Methods in preflight response" in errors[0]


def test_paste_configured_api_allows_a_preflighted_put(page: Page, query: str) -> None:
    result = page.fetch("/paste/ok", query, {"method": "PUT", "headers": {"Content-Type": "application/json"}})
    assert result["ok"], result
    assert preflights(page, query) == ["204 No Content"]


def test_paste_configured_api_blocks_a_disallowed_method(page: Page, query: str) -> None:
    assert page.fetch("/paste/ok", query, {"method": "DELETE"}) == {"ok": False, "error": BLOCKED}
