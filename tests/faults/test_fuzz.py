"""Malformed, oversized and hostile requests to `/slack/events` and every public route.

Hypothesis generates them; the app is the real Starlette app on PostgreSQL (in-process, so
thousands of requests fit in seconds). Whatever arrives: never a 500, and nothing changes —
not a row in any table, not the data version, not a call to Slack.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select
from starlette.exceptions import StarletteDeprecationWarning

from bot.config import Settings
from bot.db.models import Base
from bot.incidents import sync_components
from bot.runtime import Runtime
from bot.text.durations import parse_count
from tests.conftest import COMPONENTS, _truncate_pg
from tests.faults.procs import CHANNEL, SECRET, STATS
from tests.support.factories import make_incident
from tests.support.fakeslack import FakeSlack
from tests.support.publicdata import HOT
from web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=False,
)
PUBLIC_ID = ""  # set by the fixture: a real public incident id
HOOK_TOKEN = "fuzz-hook-token-0123456789"
HOOKS = ["/hooks/alertmanager"]


@pytest.fixture(scope="module")
def app_client(pg_url: str) -> Iterator[tuple[TestClient, Runtime, FakeSlack]]:
    global PUBLIC_ID
    _truncate_pg(pg_url)
    with FakeSlack() as fake:
        config = Settings(
            database_url=pg_url,
            components=COMPONENTS,
            public_url="https://status.example.test",
            slack_bot_token="xoxb-fuzz",
            slack_signing_secret=SECRET,
            slack_api_url=fake.url,
            incidents_channel=CHANNEL,
            hook_token=HOOK_TOKEN,
        )
        runtime = Runtime.create(config)
        with runtime.sessions.begin() as session:
            sync_components(session, config, runtime.now())
            incident = make_incident(session, config, runtime.now(), public=True)
            PUBLIC_ID = incident.public_id
        with TestClient(create_app(runtime, mode="web"), raise_server_exceptions=False) as client:
            yield client, runtime, fake
        runtime.close()


def fingerprint(runtime: Runtime, fake: FakeSlack) -> dict[str, Any]:
    """Every table's row count and the newest row of each, and what Slack was asked."""
    out: dict[str, Any] = {}
    with runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "rate_limit_hits":
                continue  # counting attempts (to refuse floods) is the point of that table
            out[table.name] = session.scalar(select(func.count()).select_from(table))
        out["state"] = sorted(
            (str(k), str(v))
            for k, v in session.execute(select(*Base.metadata.tables["state"].c[:2]))
        )
    out["slack_calls"] = len(fake.calls)
    return out


@pytest.fixture
def unchanged(app_client: tuple[TestClient, Runtime, FakeSlack]) -> Iterator[None]:
    _, runtime, fake = app_client
    before = fingerprint(runtime, fake)
    yield
    assert fingerprint(runtime, fake) == before


def signed(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(SECRET).generate_signature(
        timestamp=ts, body=body.decode("utf-8", "replace")
    )
    assert signature is not None
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def check(response: Any) -> None:
    STATS["fuzzed"] += 1
    assert response.status_code < 500, (response.status_code, response.text[:500])


junk_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), max_size=200
)  # any unicode, incl. control characters and RTL marks
hostile = st.sampled_from(
    [
        "<!channel>",
        "<script>alert(1)</script>",
        "'; DROP TABLE incidents; --",
        "\x00\x01\x02",
        "%00%ff",
        "../../etc/passwd",
        "{{7*7}}",
        "A" * 5000,
        "\u202e\u200b",
        "<@U0ALICE01|x>",
    ]
)
text_like = st.one_of(junk_text, hostile)

# Numbers as people never meant to type them: what isdigit(), `\d` or int() accept but an
# ASCII whole number is not (superscripts, other scripts' digits, fullwidth, mathematical,
# circled, Roman numerals, fractions), and the near misses around ASCII digits.
NUMERIC_EDGES = [
    "²", "³", "¹⁰", "٣", "١٢", "۴", "१", "০", "๓", "７", "１０", "𝟏", "𝟘", "⁵", "₅", "①",
    "Ⅻ", "ⅷ", "½", "¾", "〇", "三", "十", "߁", "፩", "0x10", "1e3", "1_0", "+5", "-1",
    "1.5", "٫", "\u200b1", "1\u200b", "\u202e1", "1\u00a0", "9" * 30, "",
]  # fmt: skip
unicode_digits = st.text(
    alphabet=st.characters(categories=("Nd", "No", "Nl")), min_size=1, max_size=6
)
odd_number = st.one_of(
    st.sampled_from(NUMERIC_EDGES),
    unicode_digits,
    st.builds(str.__add__, st.text("0123456789", min_size=1, max_size=3), unicode_digits),
    st.builds(str.__add__, unicode_digits, st.text("0123456789", min_size=1, max_size=3)),
).filter(lambda n: parse_count(n) is None)  # never a number Flare should accept


@FUZZ
@given(
    body=st.one_of(st.binary(max_size=3000), text_like.map(str.encode)),
    headers=st.dictionaries(
        st.sampled_from(
            ["X-Slack-Signature", "X-Slack-Request-Timestamp", "Content-Type", "X-Slack-Retry-Num"]
        ),
        text_like.map(lambda t: t.encode("latin-1", "replace")),
        max_size=4,
    ),
)
def test_fuzz_slack_events_forged_or_malformed(app_client, unchanged, body, headers):
    client, _, _ = app_client
    check(client.post("/slack/events", content=body, headers=headers))


@FUZZ
@given(
    form=st.dictionaries(
        st.sampled_from(
            ["command", "text", "user_id", "trigger_id", "payload", "type", "channel_id", "x"]
        ),
        text_like,
        max_size=6,
    ),
    stale=st.booleans(),
)
def test_fuzz_slack_events_signed_but_meaningless(app_client, unchanged, form, stale):
    """Validly signed (or signed too long ago) bodies that are not a meaningful invocation."""
    client, _, _ = app_client
    if form.get("command") == "/incident":
        form["command"] = "/elsewhere"
    body = urlencode(form).encode()
    headers = signed(body, timestamp=int(time.time()) - 3600 if stale else None)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    check(client.post("/slack/events", content=body, headers=headers))


payloads = st.recursive(
    st.none() | st.booleans() | st.integers() | text_like,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["type", "user", "actions", "view", "trigger_id", "team", "value", "id"]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@FUZZ
@given(
    payload=payloads,
    kind=st.sampled_from(["block_actions", "view_submission", "shortcut", "nonsense", None]),
)
def test_fuzz_slack_events_hostile_interactivity(app_client, unchanged, payload, kind):
    client, _, _ = app_client
    data = payload if isinstance(payload, dict) else {"junk": payload}
    if kind is not None:
        data = {**data, "type": kind}
    if kind == "block_actions":
        data["actions"] = [{"action_id": "nonexistent", "value": str(payload)[:50]}]
    body = urlencode({"payload": json.dumps(data)}).encode()
    headers = {**signed(body), "Content-Type": "application/x-www-form-urlencoded"}
    check(client.post("/slack/events", content=body, headers=headers))


@FUZZ
@given(
    sub=st.sampled_from(["show", "note", "update", "resolve", "sev", "owner", "snooze", "title"]),
    rest=text_like,
)
def test_fuzz_slack_commands_on_unknown_incidents(app_client, unchanged, sub, rest):
    """Signed commands whose reference is unknown or whose text is garbage: a usage, no change."""
    client, _, _ = app_client
    body = urlencode(
        {
            "command": "/incident",
            "user_id": "U0FUZZ001",
            "channel_id": CHANNEL,
            "text": f"{sub} INC-99999 {rest}",
            "trigger_id": f"fuzz-{time.monotonic_ns()}",
        }
    ).encode()
    headers = {**signed(body), "Content-Type": "application/x-www-form-urlencoded"}
    check(client.post("/slack/events", content=body, headers=headers))


@FUZZ
@given(
    number=odd_number,
    template=st.sampled_from(
        [
            "snooze 1 {n}",  # minutes: "²" was a 500, "١٠" snoozed incident 1
            "snooze {n} 10",
            "note {n} fuzzed note",  # refs: `\d` took "١" as incident 1
            "note INC-{n} fuzzed note",
            "note #{n} fuzzed note",
            "sev {n} sev1",
            "update {n} identified Fuzzed update.",
            "show {n}",
        ]
    ),
)
def test_fuzz_numbers_that_only_look_like_numbers(app_client, unchanged, number, template):
    """Every numeric word of the command grammar against incident 1, which exists: only
    ASCII whole numbers are numbers, so each of these is a usage and changes nothing."""
    client, _, _ = app_client
    body = urlencode(
        {
            "command": "/incident",
            "user_id": "U0FUZZ001",
            "channel_id": CHANNEL,
            "text": template.format(n=number),
            "trigger_id": f"fuzz-{time.monotonic_ns()}",
        }
    ).encode()
    headers = {**signed(body), "Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/slack/events", content=body, headers=headers)
    check(response)
    assert response.status_code == 200


@FUZZ
@given(number=odd_number, path=st.sampled_from(["/history?page={n}", "/incidents/{n}"]))
def test_fuzz_numeric_query_and_path_values(app_client, unchanged, number, path):
    client, _, _ = app_client
    response = client.get(path.format(n=quote(number, safe="")))
    check(response)
    assert response.status_code in (404, 405, 307, 308) or number.strip() == ""


@FUZZ
@given(number=odd_number)
def test_fuzz_slack_timestamps_that_only_look_numeric(app_client, unchanged, number):
    """A signed request whose timestamp is not ASCII digits is refused as forged (401)."""
    client, _, _ = app_client
    body = urlencode(
        {
            "command": "/incident",
            "user_id": "U0FUZZ001",
            "channel_id": CHANNEL,
            "text": "note 1 timestamp fuzz",
            "trigger_id": f"fuzz-{time.monotonic_ns()}",
        }
    ).encode()
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=number, body=body.decode())
    headers = {
        "X-Slack-Request-Timestamp": number.encode("utf-8"),
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    response = client.post("/slack/events", content=body, headers=headers)
    check(response)
    assert response.status_code == 401


def test_fuzz_oversized_bodies(app_client, unchanged):
    client, _, _ = app_client
    for size in (1_000_001, 5_000_000):
        body = b"text=" + b"A" * size
        headers = {**signed(body), "Content-Type": "application/x-www-form-urlencoded"}
        response = client.post("/slack/events", content=body, headers=headers)
        check(response)
        assert response.status_code == 413
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        for path in ("/subscriptions", "/subscriptions/unsubscribe/some-token"):
            response = client.post(path, content=body, headers=form)
            check(response)
            assert response.status_code == 413


PATHS = [
    *HOT,
    "/history",
    "/healthz",
    "/readyz",
    "/subscriptions",
    "/incidents/{id}",
    "/incidents/{junk}",
    "/history?page={junk}",
    "/subscriptions/confirm/{junk}",
    "/subscriptions/unsubscribe/{junk}",
    "/api/v2/{junk}",
    "/{junk}",
]


@FUZZ
@given(
    template=st.sampled_from(PATHS),
    junk=text_like,
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]),
    headers=st.dictionaries(
        st.sampled_from(["If-None-Match", "Accept-Encoding", "Accept", "Range", "Cookie", "Host"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=100),
        max_size=3,
    ),
    form=st.dictionaries(
        st.sampled_from(["email", "webhook_url", "components", "token", "x"]),
        text_like.filter(lambda t: "@" not in t and "://" not in t),
        max_size=3,
    ),
)
def test_fuzz_public_routes(app_client, unchanged, template, junk, method, headers, form):
    client, _, _ = app_client
    path = template.format(id=PUBLIC_ID, junk=quote(junk, safe=""))
    check(client.request(method, path, headers=headers, data=form if method == "POST" else None))


# /hooks/*: without the token nothing is read and nothing changes; with it, any JSON that
# is not a payload Flare knows is a 400 (never a 500), and a known one a 200.
alert_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | text_like,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["status", "labels", "annotations", "fingerprint", "startsAt", "endsAt",
                 "component", "severity", "flare_level", "alertname", "x"]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)  # fmt: skip
hook_bodies = st.one_of(
    st.fixed_dictionaries(
        {
            "version": st.sampled_from(["4", "1", 4, "5", None]),
            "alerts": st.lists(alert_junk, max_size=5) | alert_junk,
        },
        optional={"truncatedAlerts": alert_junk, "status": alert_junk},
    ),
    payloads,
)


@FUZZ
@given(
    path=st.sampled_from(HOOKS),
    body=st.one_of(st.binary(max_size=2000), hook_bodies.map(lambda d: json.dumps(d).encode())),
    auth=st.one_of(
        text_like,
        st.sampled_from(["Bearer ", "Bearer x", f"Bearer {HOOK_TOKEN}x", "Basic !!", "Basic "]),
    ),
)
def test_fuzz_hooks_without_the_token(app_client, unchanged, path, body, auth):
    client, _, _ = app_client
    header = auth.encode("latin-1", "replace").replace(b"\r", b"").replace(b"\n", b"")
    response = client.post(path, content=body, headers={b"Authorization": header})
    check(response)
    assert response.status_code == 401


@FUZZ
@given(path=st.sampled_from(HOOKS), body=hook_bodies)
def test_fuzz_hooks_with_the_token(app_client, path, body):
    client, _, _ = app_client
    response = client.post(
        path,
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {HOOK_TOKEN}", "Content-Type": "application/json"},
    )
    check(response)
    assert response.status_code in (200, 400), response.text[:300]
