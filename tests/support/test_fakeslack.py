"""Tests for tests/support/fakeslack.py, driven through the real slack_sdk WebClient."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from tests.support.fakeslack import FakeSlack, RemoteFakeSlack

REPO = Path(__file__).resolve().parents[2]
TS_RE = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server
    assert server.errors == []


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url)


def _error_of(exc: pytest.ExceptionInfo[SlackApiError]) -> Any:
    return exc.value.response["error"]


def test_fakeslack_url_is_api_base_with_trailing_slash(fake: FakeSlack) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", fake.url)
    assert fake.port != 0


def test_fakeslack_auth_test_returns_bot_identity(fake: FakeSlack, client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["ok"] is True
    assert resp["user_id"] == fake.bot_user_id
    assert resp["bot_id"] == fake.bot_id
    assert resp["team_id"] == fake.team_id


def test_fakeslack_post_message_records_message_and_returns_slack_shape(
    fake: FakeSlack, client: WebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*SEV1*"}}]
    resp = client.chat_postMessage(channel="C1", text="incident", blocks=blocks)
    assert resp["channel"] == "C1"
    assert TS_RE.match(resp["ts"])
    assert resp["message"]["ts"] == resp["ts"]
    assert resp["message"]["text"] == "incident"
    assert resp["message"]["blocks"] == blocks
    [msg] = fake.channel_messages("C1")
    assert (msg.ts, msg.text, msg.blocks, msg.user) == (
        resp["ts"],
        "incident",
        blocks,
        fake.bot_user_id,
    )
    [call] = fake.calls_to("chat.postMessage")
    assert call.status == 200
    assert call.args["channel"] == "C1"
    assert call.token == "xoxb-test"
    assert "token" not in call.args
    assert call.response["ts"] == resp["ts"]


def test_fakeslack_ts_values_are_unique_increasing_slack_format(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(20)]
    assert all(TS_RE.match(ts) for ts in stamps)
    assert len(set(stamps)) == 20
    assert [float(ts) for ts in stamps] == sorted(float(ts) for ts in stamps)
    assert stamps == sorted(stamps)


def test_fakeslack_post_message_without_content_is_no_text(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        # api_call: chat_postMessage() would warn client-side before sending
        client.api_call("chat.postMessage", json={"channel": "C1"})
    assert _error_of(exc) == "no_text"


def test_fakeslack_post_to_missing_channel_is_channel_not_found(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.missing_channels.add("CGONE")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="CGONE", text="hello?")
    assert _error_of(exc) == "channel_not_found"
    assert exc.value.response.status_code == 200
    assert fake.channel_messages("CGONE") == []


def test_fakeslack_not_in_channel_until_joined(fake: FakeSlack, client: WebClient) -> None:
    fake.not_in_channel.add("CPRIV")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="CPRIV", text="hi")
    assert _error_of(exc) == "not_in_channel"
    joined = client.conversations_join(channel="CPRIV")
    assert joined["channel"]["id"] == "CPRIV"
    assert "warning" not in joined
    client.chat_postMessage(channel="CPRIV", text="hi")
    assert [m.text for m in fake.channel_messages("CPRIV")] == ["hi"]
    again = client.conversations_join(channel="CPRIV")
    assert again["warning"] == "already_in_channel"


def test_fakeslack_archived_channel_rejects_posts(fake: FakeSlack, client: WebClient) -> None:
    fake.archived_channels.add("COLD")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="COLD", text="late update")
    assert _error_of(exc) == "is_archived"
    assert client.conversations_info(channel="COLD")["channel"]["is_archived"] is True


def test_fakeslack_update_edits_text_and_blocks(fake: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "v1"}}]
    ts = client.chat_postMessage(channel="C1", text="v1", blocks=blocks)["ts"]
    new_blocks = [{"type": "section", "text": {"type": "plain_text", "text": "v2"}}]
    resp = client.chat_update(channel="C1", ts=ts, text="v2", blocks=new_blocks)
    assert (resp["channel"], resp["ts"], resp["text"]) == ("C1", ts, "v2")
    assert resp["message"]["blocks"] == new_blocks
    msg = fake.get_message("C1", ts)
    assert msg is not None
    assert (msg.text, msg.blocks, msg.edit_count) == ("v2", new_blocks, 1)
    # Slack drops the old blocks when an update carries text only.
    client.chat_update(channel="C1", ts=ts, text="v3")
    assert (msg.text, msg.blocks, msg.edit_count) == ("v3", None, 2)
    assert len(fake.channel_messages("C1")) == 1


def test_fakeslack_update_of_missing_or_deleted_message_is_message_not_found(
    fake: FakeSlack, client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C1", ts="1700000000.000001", text="x")
    assert _error_of(exc) == "message_not_found"
    ts = client.chat_postMessage(channel="C1", text="status")["ts"]
    fake.delete_message("C1", ts)
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C1", ts=ts, text="x")
    assert _error_of(exc) == "message_not_found"


def test_fakeslack_delete_marks_deleted_and_drops_pin(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="bye")["ts"]
    client.pins_add(channel="C1", timestamp=ts)
    resp = client.chat_delete(channel="C1", ts=ts)
    assert (resp["channel"], resp["ts"]) == ("C1", ts)
    msg = fake.get_message("C1", ts)
    assert msg is not None and msg.deleted
    assert fake.channel_messages("C1") == []
    assert not fake.is_pinned("C1", ts)
    with pytest.raises(SlackApiError) as exc:
        client.chat_delete(channel="C1", ts=ts)
    assert _error_of(exc) == "message_not_found"


def test_fakeslack_pins_add_list_remove_with_real_error_codes(
    fake: FakeSlack, client: WebClient
) -> None:
    first = client.chat_postMessage(channel="C1", text="first")["ts"]
    second = client.chat_postMessage(channel="C1", text="second")["ts"]
    assert client.pins_add(channel="C1", timestamp=first)["ok"] is True
    client.pins_add(channel="C1", timestamp=second)
    assert fake.pins["C1"] == {first, second}

    with pytest.raises(SlackApiError) as exc:
        client.pins_add(channel="C1", timestamp=first)
    assert _error_of(exc) == "already_pinned"
    with pytest.raises(SlackApiError) as exc:
        client.pins_add(channel="C1", timestamp="1700000000.000009")
    assert _error_of(exc) == "message_not_found"

    items = client.pins_list(channel="C1")["items"]
    assert [i["message"]["ts"] for i in items] == [second, first]  # newest pin first
    assert items[0]["type"] == "message"
    assert items[0]["channel"] == "C1"
    assert items[0]["created_by"] == fake.bot_user_id

    client.pins_remove(channel="C1", timestamp=first)
    assert fake.pins["C1"] == {second}
    with pytest.raises(SlackApiError) as exc:
        client.pins_remove(channel="C1", timestamp=first)
    assert _error_of(exc) == "no_pin"


def test_fakeslack_human_delete_and_unpin_are_visible_to_the_api(
    fake: FakeSlack, client: WebClient
) -> None:
    pinned = client.chat_postMessage(channel="C1", text="pinned")["ts"]
    doomed = client.chat_postMessage(channel="C1", text="doomed")["ts"]
    client.pins_add(channel="C1", timestamp=pinned)
    client.pins_add(channel="C1", timestamp=doomed)

    fake.unpin("C1", pinned)
    fake.delete_message("C1", doomed)

    assert client.pins_list(channel="C1")["items"] == []
    with pytest.raises(SlackApiError) as exc:
        client.pins_remove(channel="C1", timestamp=pinned)
    assert _error_of(exc) == "no_pin"
    with pytest.raises(SlackApiError) as exc:
        client.pins_add(channel="C1", timestamp=doomed)
    assert _error_of(exc) == "message_not_found"
    assert [m.text for m in fake.channel_messages("C1")] == ["pinned"]
    # human actions are not API calls
    assert [c.method for c in fake.calls].count("pins.remove") == 1


def test_fakeslack_thread_replies_are_separate_from_channel_messages(
    fake: FakeSlack, client: WebClient
) -> None:
    root = client.chat_postMessage(channel="C1", text="root")["ts"]
    r1 = client.chat_postMessage(channel="C1", text="r1", thread_ts=root)
    r2 = client.chat_postMessage(channel="C1", text="r2", thread_ts=root)
    # replying to a reply lands in the root's thread, as in Slack
    client.chat_postMessage(channel="C1", text="r3", thread_ts=r1["ts"])
    client.chat_postMessage(channel="C1", text="other")
    assert r2["message"]["thread_ts"] == root
    assert [m.text for m in fake.thread("C1", root)] == ["r1", "r2", "r3"]
    assert [m.text for m in fake.channel_messages("C1")] == ["root", "other"]

    replies = client.conversations_replies(channel="C1", ts=root)["messages"]
    assert [m["text"] for m in replies] == ["root", "r1", "r2", "r3"]
    assert replies[0]["reply_count"] == 3
    history = client.conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in history] == ["other", "root"]


def test_fakeslack_form_encoded_blocks_are_json_decoded(fake: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "divider"}]
    # params= makes slack_sdk send application/x-www-form-urlencoded
    resp = client.api_call(
        "chat.postMessage", params={"channel": "C1", "blocks": json.dumps(blocks)}
    )
    assert resp["message"]["blocks"] == blocks
    assert fake.channel_messages("C1")[0].blocks == blocks
    assert fake.calls_to("chat.postMessage")[0].args["blocks"] == blocks


def test_fakeslack_token_in_form_field_is_accepted(fake: FakeSlack) -> None:
    body = f"token=xoxb-form&channel=C1&text=hi&blocks={json.dumps([])}".encode()
    req = urllib.request.Request(
        fake.url + "chat.postMessage",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        data = json.loads(resp.read())
    assert data["ok"] is True
    assert fake.calls_to("chat.postMessage")[0].token == "xoxb-form"


def test_fakeslack_missing_token_is_not_authed_and_bad_token_invalid_auth(
    fake: FakeSlack,
) -> None:
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=fake.url).chat_postMessage(channel="C1", text="x")
    assert _error_of(exc) == "not_authed"
    with pytest.raises(SlackApiError) as exc:
        WebClient(token="xoxb-invalid", base_url=fake.url).auth_test()
    assert _error_of(exc) == "invalid_auth"
    assert fake.channel_messages("C1") == []


def test_fakeslack_unknown_method(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.frobnicate", json={"channel": "C1"})
    assert _error_of(exc) == "unknown_method"
    assert fake.calls[-1].method == "chat.frobnicate"


def test_fakeslack_rate_limit_raises_429_with_retry_after(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "7"
    assert _error_of(exc) == "ratelimited"
    assert fake.channel_messages("C1") == []  # a rate-limited call changes nothing
    # only `times` calls are affected
    assert client.chat_postMessage(channel="C1", text="x")["ok"] is True
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]


def test_fakeslack_rate_limit_retry_handler_succeeds(fake: FakeSlack) -> None:
    client = WebClient(
        token="xoxb-test",
        base_url=fake.url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake.rate_limit("chat.postMessage", retry_after=1, times=1)
    started = time.monotonic()
    resp = client.chat_postMessage(channel="C1", text="eventually")
    assert resp["ok"] is True
    assert time.monotonic() - started >= 1.0  # honoured Retry-After
    calls = fake.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert [m.text for m in fake.channel_messages("C1")] == ["eventually"]


def test_fakeslack_server_error_is_non_json_5xx(fake: FakeSlack, client: WebClient) -> None:
    fake.server_error("chat.update", status=503)
    ts = client.chat_postMessage(channel="C1", text="v1")["ts"]
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C1", ts=ts, text="v2")
    assert exc.value.response.status_code == 503
    assert "non-JSON" in exc.value.response["error"]
    msg = fake.get_message("C1", ts)
    assert msg is not None and msg.text == "v1"
    assert "<html>" in fake.calls_to("chat.update")[0].response["_raw"]


def test_fakeslack_fail_injects_error_for_n_calls_then_recovers(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.fail("pins.add", "too_many_pins", times=2)
    ts = client.chat_postMessage(channel="C1", text="x")["ts"]
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc:
            client.pins_add(channel="C1", timestamp=ts)
        assert _error_of(exc) == "too_many_pins"
    client.pins_add(channel="C1", timestamp=ts)
    assert fake.is_pinned("C1", ts)


def test_fakeslack_fail_wildcard_and_custom_status_and_clear(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.fail("*", "internal_error", times=5, status=500)
    with pytest.raises(SlackApiError) as exc:
        client.auth_test()
    assert exc.value.response.status_code == 500
    assert _error_of(exc) == "internal_error"
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="x")
    fake.clear_faults()
    assert client.auth_test()["ok"] is True


def test_fakeslack_delayed_requests_run_concurrently(fake: FakeSlack, client: WebClient) -> None:
    fake.delay("chat.postMessage", 1.0)
    durations: list[float] = []

    def post(text: str) -> None:
        started = time.monotonic()
        client.chat_postMessage(channel="C1", text=text)
        durations.append(time.monotonic() - started)

    started = time.monotonic()
    threads = [threading.Thread(target=post, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    # an undelayed method is not blocked behind the sleeping requests
    quick_started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - quick_started < 0.5
    for t in threads:
        t.join(timeout=10)
    elapsed = time.monotonic() - started
    assert len(durations) == 2 and min(durations) >= 0.95
    assert elapsed < 1.8, f"two 1s delays took {elapsed:.2f}s: requests were serialized"
    assert sorted(m.text for m in fake.channel_messages("C1")) == ["a", "b"]


def test_fakeslack_delay_times_limits_and_clear_releases_sleepers(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.delay("auth.test", 0.5, times=1)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.45
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started < 0.4

    fake.delay("auth.test", 30.0)  # until cleared
    done = threading.Event()

    def call_then_signal() -> None:
        client.auth_test()
        done.set()

    worker = threading.Thread(target=call_then_signal)
    worker.start()
    assert not done.wait(0.3)
    fake.clear_faults()
    assert done.wait(5)
    worker.join(timeout=5)


def test_fakeslack_delay_after_processing_models_client_timeout(fake: FakeSlack) -> None:
    impatient = WebClient(token="xoxb-test", base_url=fake.url, timeout=1, retry_handlers=[])
    fake.delay("chat.postMessage", 3.0, times=1, phase="after")
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="C1", text="did it post?")
    # Slack did the work even though the client never saw the answer.
    assert [m.text for m in fake.channel_messages("C1")] == ["did it post?"]
    fake.clear_faults()
    [call] = fake.wait_for_calls("chat.postMessage", timeout=5)
    assert call.status == 200


def test_fakeslack_post_ephemeral_and_permalink(fake: FakeSlack, client: WebClient) -> None:
    resp = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert TS_RE.match(resp["message_ts"])
    assert fake.ephemerals == [
        {
            "channel": "C1",
            "user": "U1",
            "text": "only you",
            "blocks": None,
            "attachments": None,
            "thread_ts": None,
            "message_ts": resp["message_ts"],
        }
    ]
    assert fake.channel_messages("C1") == []
    ts = client.chat_postMessage(channel="C1", text="link me")["ts"]
    link = client.chat_getPermalink(channel="C1", message_ts=ts)["permalink"]
    assert link == f"https://fake.slack/archives/C1/p{ts.replace('.', '')}"


def test_fakeslack_conversations_open_dm_and_post(fake: FakeSlack, client: WebClient) -> None:
    opened = client.conversations_open(users="U123")
    assert opened["channel"]["id"] == "DU123"
    assert "already_open" not in opened
    assert client.conversations_open(users="U123")["already_open"] is True
    client.chat_postMessage(channel="DU123", text="you are IC")
    assert [m.text for m in fake.channel_messages("DU123")] == ["you are IC"]
    assert client.conversations_info(channel="DU123")["channel"]["is_im"] is True


def test_fakeslack_users_info_and_usergroups(fake: FakeSlack, client: WebClient) -> None:
    fake.users["U1"] = {"name": "ada", "real_name": "Ada Lovelace", "tz": "Europe/London"}
    fake.usergroups["S1"] = ["U1", "U2"]
    user = client.users_info(user="U1")["user"]
    assert (user["id"], user["name"], user["real_name"], user["tz"]) == (
        "U1",
        "ada",
        "Ada Lovelace",
        "Europe/London",
    )
    assert user["profile"]["real_name"] == "Ada Lovelace"
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError) as exc:
        client.usergroups_users_list(usergroup="SNOPE")
    assert _error_of(exc) == "no_such_subteam"
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="UNOPE")
    assert _error_of(exc) == "user_not_found"


def test_fakeslack_views_open_update_push_publish(fake: FakeSlack, client: WebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": "Declare"},
        "blocks": [],
    }
    opened = client.views_open(trigger_id="trig-1", view=modal)["view"]
    assert opened["id"].startswith("V")
    assert opened["callback_id"] == "declare"
    assert opened["root_view_id"] == opened["id"]

    updated = client.views_update(
        view_id=opened["id"], hash=opened["hash"], view={**modal, "callback_id": "declare2"}
    )["view"]
    assert updated["id"] == opened["id"]
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    assert _error_of(exc) == "hash_conflict"
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id="VNOPE", view=modal)
    assert _error_of(exc) == "not_found"

    pushed = client.views_push(trigger_id="trig-2", view=modal)["view"]
    home = client.views_publish(user_id="U1", view={"type": "home", "blocks": []})["view"]
    assert home["type"] == "home"
    assert [v["id"] for v in fake.views] == [opened["id"], opened["id"], pushed["id"], home["id"]]
    assert fake.views[1]["callback_id"] == "declare2"


def test_fakeslack_response_url_records_bolt_respond(fake: FakeSlack) -> None:
    url = fake.response_url("cmd-1")
    assert url.startswith(f"http://127.0.0.1:{fake.port}/response/")
    resp = Respond(response_url=url)(text="Incident declared", replace_original=True)
    assert resp.status_code == 200
    assert fake.responses["cmd-1"] == [{"text": "Incident declared", "replace_original": True}]
    assert fake.calls_to("response_url")[0].path == "/response/cmd-1"


def test_fakeslack_response_url_faults_only_when_targeted(fake: FakeSlack) -> None:
    url = fake.response_url("k")
    fake.fail("*", "internal_error", times=1)  # Web API methods only
    assert Respond(response_url=url)(text="a").status_code == 200
    fake.fail("response_url", "expired_url", status=404)
    assert Respond(response_url=url)(text="b").status_code == 404
    assert fake.responses["k"] == [{"text": "a"}]


def test_fakeslack_calls_are_ordered_and_resettable(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    client.chat_postMessage(channel="C1", text="x")
    calls = fake.calls
    assert [c.method for c in calls] == ["auth.test", "chat.postMessage"]
    assert calls[0].ts <= calls[1].ts
    assert calls[0].seq < calls[1].seq
    fake.reset_calls()
    assert fake.calls == []
    assert len(fake.channel_messages("C1")) == 1  # state survives reset_calls


def test_fakeslack_wait_for_calls_from_background_thread(
    fake: FakeSlack, client: WebClient
) -> None:
    timer = threading.Timer(0.2, lambda: client.chat_postMessage(channel="C1", text="later"))
    timer.start()
    try:
        [call] = fake.wait_for_calls("chat.postMessage", timeout=5)
    finally:
        timer.join()
    assert call.args["text"] == "later"
    with pytest.raises(TimeoutError):
        fake.wait_for_calls("pins.add", timeout=0.1)


def test_fakeslack_http_control_endpoints(fake: FakeSlack, client: WebClient) -> None:
    remote = RemoteFakeSlack(fake.url)
    remote.fail("chat.postMessage", "restricted_action")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="x")
    assert _error_of(exc) == "restricted_action"

    remote.rate_limit("auth.test", retry_after=3)
    with pytest.raises(SlackApiError) as exc:
        client.auth_test()
    assert exc.value.response.status_code == 429

    remote.configure(usergroups={"S1": ["U9"]}, missing_channels={"CX"})
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U9"]
    assert fake.missing_channels == {"CX"}

    ts = client.chat_postMessage(channel="C1", text="x")["ts"]
    remote.delete_message("C1", ts)
    assert fake.channel_messages("C1") == []

    with urllib.request.urlopen(f"http://127.0.0.1:{fake.port}/_calls", timeout=5) as resp:
        raw = json.loads(resp.read())
    assert [c["method"] for c in raw] == [
        "chat.postMessage",
        "auth.test",
        "usergroups.users.list",
        "chat.postMessage",
    ]
    assert [c.status for c in remote.calls_to("chat.postMessage")] == [200, 200]
    assert remote.state()["messages"]["C1"][0]["deleted"] is True


@pytest.mark.slow
def test_fakeslack_cli_runs_in_separate_process_and_records(tmp_path: Path) -> None:
    record = tmp_path / "calls.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fakeslack", "--port", "0", "--record", str(record)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", url)
        client = WebClient(token="xoxb-test", base_url=url)
        remote = RemoteFakeSlack(url)

        remote.server_error("chat.postMessage", times=1)
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel="C1", text="x")
        assert exc.value.response.status_code == 500
        ts = client.chat_postMessage(channel="C1", text="from another process")["ts"]

        lines = [json.loads(line) for line in record.read_text().splitlines()]
        assert [(c["method"], c["status"]) for c in lines] == [
            ("chat.postMessage", 500),
            ("chat.postMessage", 200),
        ]
        assert lines[1]["response"]["ts"] == ts
        assert remote.state()["messages"]["C1"][0]["text"] == "from another process"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()


def test_fake_files_external_upload_flow_shares_the_file_in_a_thread():
    import httpx

    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        root = client.chat_postMessage(channel="C0FAKE0001", text="root")["ts"]
        with pytest.raises(SlackApiError) as error:
            client.files_getUploadURLExternal(filename="", length=0)
        assert error.value.response["error"] == "invalid_arguments"
        url = client.files_getUploadURLExternal(filename="pm.md", length=5)
        with pytest.raises(SlackApiError) as error:
            client.files_completeUploadExternal(files=[{"id": url["file_id"]}])
        assert error.value.response["error"] == "file_not_found"  # no bytes yet
        assert httpx.post(url["upload_url"], content=b"hello").status_code == 200
        done = client.files_completeUploadExternal(
            files=[{"id": url["file_id"], "title": "PM"}], channel_id="C0FAKE0001", thread_ts=root
        )
        assert done["files"][0]["title"] == "PM"
        stored = fake.files[url["file_id"]]
        assert stored.text == "hello" and stored.thread_ts == root and stored.shared
        [reply] = [m for m in fake.thread("C0FAKE0001", root) if m.files]
        assert reply.files is not None and reply.files[0]["id"] == url["file_id"]
