"""Request bodies are capped at every POST entry point: 413 from Content-Length before a byte
is read, and a body without one (chunked) is read only up to the limit. Nothing changes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request

from bot.db.models import Base
from bot.runtime import Runtime
from tests.conftest import with_settings
from tests.support.mailbox import TestClient
from web import slack_http, subscriptions
from web.app import create_app
from web.http import read_body

POSTS = {
    "/slack/events": slack_http.MAX_BODY,
    "/subscriptions": subscriptions.BODY_LIMIT,
    "/subscriptions/unsubscribe/some-token": subscriptions.BODY_LIMIT,
}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app(runtime: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    rt = with_settings(
        runtime,
        slack_bot_token="xoxb-bodies",
        slack_signing_secret="bodies-signing-secret",
        slack_api_url="http://127.0.0.1:1/",  # never called: nothing gets that far
        smtp_url="smtp://127.0.0.1:1",
        secret_key="test-secret",
    )
    yield TestClient(create_app(rt, mode="web")), rt


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions.begin() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


@pytest.mark.parametrize(("path", "limit"), list(POSTS.items()))
def test_bodies_over_the_limit_with_content_length_get_413(app, path: str, limit: int):
    client, runtime = app
    before = counts(runtime)
    body = b"email=a%40example.com&x=" + b"A" * limit
    response = client.post(path, content=body, headers=FORM)
    assert response.status_code == 413
    assert counts(runtime) == before


@pytest.mark.parametrize(("path", "limit"), list(POSTS.items()))
def test_bodies_over_the_limit_chunked_get_413(app, path: str, limit: int):
    client, runtime = app
    before = counts(runtime)

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        yield b"email=a%40example.com&x="
        for _ in range(limit // 4096 + 2):
            yield b"A" * 4096

    response = client.post(path, content=chunks(), headers=FORM)
    assert response.status_code == 413
    assert counts(runtime) == before


def test_bodies_within_the_limit_still_work(app):
    client, runtime = app
    response = client.post("/subscriptions", data={"email": "ana@example.com"})
    assert response.status_code == 200 and "Check your inbox" in response.text


def _request(headers: list[tuple[bytes, bytes]], chunk: bytes, pulled: list[int]) -> Request:
    async def receive() -> dict[str, Any]:
        pulled.append(len(chunk))  # an endless body: only the reader can stop it
        return {"type": "http.request", "body": chunk, "more_body": True}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    return Request(scope, receive)


def test_bodies_read_body_stops_streaming_past_the_limit():
    pulled: list[int] = []
    request = _request([], b"x" * 1000, pulled)
    with pytest.raises(HTTPException) as refused:
        asyncio.run(read_body(request, 10_000))
    assert refused.value.status_code == 413
    assert sum(pulled) <= 11_000  # stopped at the first chunk past the limit


def test_bodies_read_body_refuses_a_large_content_length_before_reading():
    pulled: list[int] = []
    request = _request([(b"content-length", b"50000")], b"x" * 1000, pulled)
    with pytest.raises(HTTPException) as refused:
        asyncio.run(read_body(request, 10_000))
    assert refused.value.status_code == 413 and pulled == []


@pytest.mark.parametrize("length", ["²", "１２", "٣", "-1", "1e9", " ", "9" * 5000])
def test_bodies_odd_content_length_is_not_trusted_nor_fatal(length: str):
    pulled: list[int] = []
    request = _request([(b"content-length", length.encode())], b"x" * 1000, pulled)
    with pytest.raises(HTTPException) as refused:
        asyncio.run(read_body(request, 10_000))
    assert refused.value.status_code == 413 and sum(pulled) <= 11_000
