"""The hot path: strong ETags, 304s, gzip by Accept-Encoding, headers, no query per request."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import timedelta

import anyio
import pytest
from sqlalchemy import event

from bot import incidents as svc
from bot.db.engine import make_engine, make_session_factory
from bot.incidents import CLI
from bot.runtime import Runtime
from bot.text.status import ComponentStatus
from tests.conftest import Clock
from tests.support.factories import responder
from tests.support.publicdata import HOT, client, seed, site
from web.public.negotiate import etag_matches

CACHE = "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"


def test_public_hot_routes_send_cache_headers_and_gzip_variants(runtime: Runtime) -> None:
    _, http = client(runtime)
    with http:
        for path in HOT:
            plain = http.get(path, headers={"accept-encoding": "identity"})
            packed = http.get(path, headers={"accept-encoding": "gzip, deflate"})
            for response in (plain, packed):
                assert response.status_code == 200, path
                assert response.headers["cache-control"] == CACHE
                assert response.headers["vary"] == "Accept-Encoding"
                assert response.headers["etag"].startswith('"')
                assert response.headers["x-content-type-options"] == "nosniff"
            assert "content-encoding" not in plain.headers
            assert packed.headers["content-encoding"] == "gzip"
            assert plain.headers["etag"] != packed.headers["etag"]
            assert packed.content == plain.content  # httpx decodes the gzip body
            assert int(packed.headers["content-length"]) < int(plain.headers["content-length"])
            api = path.startswith("/api/")
            assert (response.headers.get("access-control-allow-origin") == "*") is api


def test_public_if_none_match_gives_304_for_lists_weak_and_star(runtime: Runtime) -> None:
    _, http = client(runtime)
    with http:
        first = http.get("/", headers={"accept-encoding": "gzip"})
        tag = first.headers["etag"]
        for value in (tag, f'"nope", {tag}', f"W/{tag}", "*", f'W/"x",W/{tag}'):
            again = http.get("/", headers={"accept-encoding": "gzip", "if-none-match": value})
            assert again.status_code == 304, value
            assert again.content == b""
            assert again.headers["etag"] == tag
            assert again.headers["cache-control"] == CACHE
            assert again.headers["vary"] == "Accept-Encoding"
        # The identity variant has its own tag: the gzip one does not validate it.
        plain = http.get("/", headers={"accept-encoding": "identity", "if-none-match": tag})
        assert plain.status_code == 200
        miss = http.get("/", headers={"accept-encoding": "gzip", "if-none-match": '"other"'})
        assert miss.status_code == 200
        api = http.get("/api/v2/status.json", headers={"accept-encoding": "gzip"})
        not_modified = http.get(
            "/api/v2/status.json",
            headers={"accept-encoding": "gzip", "if-none-match": api.headers["etag"]},
        )
        assert not_modified.status_code == 304
        assert not_modified.headers["access-control-allow-origin"] == "*"


def test_public_etag_parsing() -> None:
    assert etag_matches(b'"a", "b"', b'"b"')
    assert etag_matches(b'W/"b"', b'"b"')
    assert not etag_matches(b'"bb"', b'"b"')
    assert not etag_matches(b"", b'"b"')


def test_public_gzip_body_is_real_gzip(runtime: Runtime) -> None:
    app, http = client(runtime)
    with http:
        snapshot = site(app).snapshot
        assert snapshot is not None
        rep = snapshot.static["/api/v2/summary.json"]
        assert gzip.decompress(rep.gzip.body["body"]) == rep.identity.body["body"]


def test_public_head_other_methods_and_preflight(runtime: Runtime) -> None:
    _, http = client(runtime)
    with http:
        head = http.head("/")
        assert head.status_code == 200 and head.content == b""
        assert http.post("/").status_code == 405
        assert http.post("/api/v2/summary.json").headers["allow"] == "GET, HEAD"
        preflight = http.options("/api/v2/summary.json")
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"


def test_public_html_has_a_strict_content_security_policy(runtime: Runtime) -> None:
    _, http = client(runtime)
    with http:
        policy = http.get("/").headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy


def test_public_unknown_incident_and_history_pages(runtime: Runtime, clock: Clock) -> None:
    scenario = seed(runtime, clock)
    _, http = client(runtime)
    with http:
        for path in (
            "/incidents/nosuchthing2",
            "/incidents/<script>",
            "/history?page=99",
            "/history?page=%C2%B2",  # "²": isdigit() said yes, int() raised (a 500)
            "/history?page=%EF%BC%91",  # fullwidth "１"
            "/history?page=%D9%A1",  # Arabic-Indic "١"
            "/history?page=%2B1",
            "/history?page=1_0",
        ):
            response = http.get(path)
            assert response.status_code == 404, path
            assert "Not found" in response.text
        for public_id in (scenario.internal_id, scenario.unpublished_id):
            assert http.get(f"/incidents/{public_id}").status_code == 404
        page = http.get(f"/incidents/{scenario.open_id}")
        assert page.status_code == 200 and "Partial outage: API, Dashboard" in page.text
        again = http.get(
            f"/incidents/{scenario.open_id}", headers={"if-none-match": page.headers["etag"]}
        )
        assert again.status_code == 304
        window = http.get(f"/incidents/{scenario.active_id}")
        assert window.status_code == 200 and "Database upgrade" in window.text
        history = http.get("/history")
        assert history.status_code == 200
        assert history.text == http.get("/history?page=1").text
        assert "November 2026" in history.text and "Partial outage: API, Dashboard" in history.text


def test_public_history_is_paginated_by_month(runtime: Runtime, clock: Clock) -> None:
    settings = runtime.settings
    with runtime.sessions.begin() as session:
        for months_ago in (0, 4, 7):
            at = clock() - timedelta(days=31 * months_ago)
            incident, _ = svc.declare(
                session, settings, title=f"t{months_ago}", actor=responder("U1"), now=at
            )
            svc.publish_update(
                session,
                settings,
                incident,
                message=f"Update {months_ago}",
                actor=responder("U1"),
                now=at,
            )
            svc.resolve(
                session,
                settings,
                incident,
                actor=responder("U1"),
                now=at + timedelta(hours=1),
                message=f"Update {months_ago}: this incident has been resolved.",
            )
    _, http = client(runtime)
    with http:
        first, second, third = (http.get(f"/history?page={n}").text for n in (1, 2, 3))
        assert http.get("/history?page=4").status_code == 404
    assert "Update 0" in first and "Page 1 of 3" in first and 'rel="next"' in first
    assert "Update 4" in second and "Update 0" not in second
    assert "Update 7" in third and 'rel="prev"' in third and 'rel="next"' not in third
    assert "No incidents reported this month." in second


def test_public_requests_never_query_the_database(runtime: Runtime, clock: Clock) -> None:
    scenario = seed(runtime, clock)
    queries: list[str] = []

    def count(*args: object) -> None:
        queries.append(str(args[2]))

    _, http = client(runtime)
    with http:
        paths = [*HOT, f"/incidents/{scenario.open_id}", "/history", "/incidents/zzzz"]
        for path in paths:  # warm the lazily rendered pages
            http.get(path)
        event.listen(runtime.engine, "before_cursor_execute", count)
        try:
            for _ in range(5):
                for path in paths:
                    assert http.get(path).status_code in (200, 404)
        finally:
            event.remove(runtime.engine, "before_cursor_execute", count)
    assert queries == []


def test_public_refresh_serves_a_change_and_keeps_the_last_snapshot_if_the_db_is_down(
    runtime: Runtime, clock: Clock
) -> None:
    app, http = client(runtime)
    public_site = site(app)
    with http:
        before = http.get("/api/v2/status.json").json()["status"]["indicator"]
        assert before == "none"
        with runtime.sessions.begin() as session:
            svc.set_manual_level(
                session, key="api", level=ComponentStatus.MAJOR_OUTAGE, actor=CLI, now=clock()
            )
        assert anyio.run(public_site.refresh) is True
        assert http.get("/api/v2/status.json").json()["status"]["indicator"] == "critical"
        assert anyio.run(public_site.refresh) is False  # version unchanged: nothing rebuilt

        # The database goes away: refreshing fails quietly, the last snapshot keeps serving.
        dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
        public_site.runtime = replace(runtime, sessions=make_session_factory(dead))
        assert anyio.run(lambda: public_site.refresh(force=True)) is False
        assert public_site.failing
        response = http.get("/api/v2/status.json")
        assert response.status_code == 200
        assert response.json()["status"]["indicator"] == "critical"
        dead.dispose()
        public_site.runtime = runtime
        assert anyio.run(lambda: public_site.refresh(force=True)) is True
        assert not public_site.failing


def test_public_database_down_at_start_gives_an_honest_503(runtime: Runtime) -> None:
    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    broken = replace(runtime, sessions=make_session_factory(dead))
    _, http = client(broken)
    with http:
        response = http.get("/")
    dead.dispose()
    assert response.status_code == 503
    assert response.headers["cache-control"] == "no-store"
    assert "temporarily unavailable" in response.text


@pytest.mark.parametrize("path", ["/incidents/", "/api/v2/nothing.json"])
def test_public_unrouted_paths_are_404(runtime: Runtime, path: str) -> None:
    _, http = client(runtime)
    with http:
        assert http.get(path).status_code == 404
