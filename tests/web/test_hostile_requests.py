"""Requests a hostile client sends: headers too large to parse on the event loop, repeated
headers, a Host to echo back; and the headers every response carries (nosniff, HSTS)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from bot.runtime import Runtime
from tests.conftest import Clock
from tests.support.publicdata import seed
from web.app import create_app
from web.public.negotiate import MAX_ITEMS, MAX_VALUE, choose_encoding, etag_matches
from web.slashes import _location

PATHS = ["/", "/history"]  # the front's hot path, and a Starlette route


def test_hostile_header_values_count_as_absent() -> None:
    huge = b"gzip, " * 1_000_000  # 6 MB: 0.6 s of parsing on the event loop before
    assert choose_encoding(huge) == "identity"
    assert choose_encoding(b"x;q=0, " * MAX_ITEMS + b"br") == "identity"
    assert choose_encoding(b"br;q=1" + b" " * (MAX_VALUE - 6)) == "br"  # at the bound: read
    assert etag_matches(b'"a", ' * 1_000_000 + b'"x"', b'"x"') is False
    assert etag_matches(b'"a", ' * (MAX_ITEMS - 1) + b'"x"', b'"x"') is True


@pytest.mark.parametrize("path", PATHS)
def test_hostile_headers_repeated_are_joined_and_huge_ones_ignored(
    runtime: Runtime, clock: Clock, path: str
) -> None:
    seed(runtime, clock)
    with TestClient(create_app(runtime)) as http:
        joined = http.get(path, headers=[("accept-encoding", "br"), ("accept-encoding", "x")])
        assert joined.headers.get("content-encoding") == "br"  # not only the last one read
        huge = http.get(path, headers={"accept-encoding": "gzip, " * 1_000_000})
        assert huge.status_code == 200 and "content-encoding" not in huge.headers
        etag = http.get(path, headers={"accept-encoding": "identity"}).headers["etag"]
        both = [("accept-encoding", "identity"), ("if-none-match", etag)]
        assert http.get(path, headers=[*both, ("if-none-match", '"nope"')]).status_code == 304
        many = ", ".join(['"nope"'] * 100_000 + [etag])
        matched = http.get(path, headers={"accept-encoding": "identity", "if-none-match": many})
        assert matched.status_code == 200


def test_hostile_host_is_never_echoed_by_a_slash_redirect(runtime: Runtime, clock: Clock) -> None:
    seed(runtime, clock)
    with TestClient(create_app(runtime), follow_redirects=False) as http:
        for path, location in (
            ("/api/v2/status.json/", "/api/v2/status.json"),
            ("/history/?page=2", "/history?page=2"),
            ("/subscriptions/", "/subscriptions"),
        ):
            response = http.get(path, headers={"host": "evil.example"})
            assert response.status_code == 307, path
            assert response.headers["location"] == location
            assert "evil" not in str(response.headers) and "evil" not in response.text
        for path in ("/nowhere/", "/\\evil.example/"):
            response = http.get(path, headers={"host": "evil.example"})
            assert response.status_code == 404, path
            assert "evil" not in str(response.headers)
    # Whatever matched, a Location never names another host (`//host`, `/\\host`).
    hostile = [(b"//evil.example/", b"/evil.example"), (b"/\\evil/", b"/%5Cevil")]
    for raw_path, relative in hostile:
        assert _location({"raw_path": raw_path, "path": raw_path.decode()}, True) == relative


@pytest.mark.parametrize(
    ("public_url", "hsts"),
    [("http://localhost:8000", None), ("https://status.example.com", "max-age=31536000")],
)
def test_hostile_every_response_carries_nosniff_and_hsts_on_https(
    runtime: Runtime, clock: Clock, public_url: str, hsts: str | None
) -> None:
    seed(runtime, clock)
    rt = Runtime(
        replace(runtime.settings, public_url=public_url),
        runtime.engine,
        runtime.sessions,
        runtime.clock,
    )
    with TestClient(create_app(rt), follow_redirects=False) as http:
        etag = http.get("/").headers["etag"]
        responses = [
            http.get("/"),
            http.get("/", headers={"if-none-match": etag}),
            http.head("/api/v2/summary.json"),
            http.get("/history"),
            http.get("/nowhere"),  # Starlette's plain-text 404
            http.post("/"),  # 405
            http.options("/api/v2/summary.json"),  # CORS preflight
            http.get("/history/"),  # the slash redirect
            http.get("/healthz"),
        ]
    assert [r.status_code for r in responses] == [200, 304, 200, 200, 404, 405, 204, 307, 200]
    for response in responses:
        assert response.headers.get_list("x-content-type-options") == ["nosniff"], response.url
        assert response.headers.get("strict-transport-security") == hsts, response.url
