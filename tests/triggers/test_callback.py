"""The callback POST and its retry schedule, against a real local HTTP receiver (no network beyond loopback)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from activities.post_callback import classify, post
from migration.outbound import CallbackPolicy
from orchestrators.deliver_callback import MAX_PAUSE_SECONDS, deliver_callback, pause_seconds, shown_url
from tests.orchestrators.replay import START, Replay, _parse


class Receiver:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.bodies: list[Any] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                receiver.hosts.append(self.headers.get("Host", ""))
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]
        self.hosts: list[str] = []
        self.url = f"http://127.0.0.1:{self.port}/cb?sig=abc"
        # The receiver is an internal address: only an explicit origin on the allow list reaches it.
        self.policy = CallbackPolicy.from_settings({"CALLBACK_ALLOWED_HOSTS": f"http://127.0.0.1:{self.port}"})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    status, headers = request.param
    running = Receiver(status, headers)
    yield running
    running.close()


@pytest.mark.parametrize(
    ("receiver", "outcome", "retry_after"),
    [
        ((200, None), "delivered", None),
        ((202, None), "delivered", None),
        ((503, {"Retry-After": "120"}), "retry", 120.0),
        ((429, None), "retry", None),
        ((408, None), "retry", None),
        ((404, None), "final", None),
        ((302, {"Location": "http://127.0.0.1:9/elsewhere"}), "final", None),
    ],
    indirect=["receiver"],
)
def test_each_answer_is_classified(receiver: Receiver, outcome: str, retry_after: float | None) -> None:
    result = post(receiver.url, {"status": "Migrated"}, policy=receiver.policy)
    assert result["outcome"] == outcome and result["retryAfter"] == retry_after
    assert receiver.bodies == [{"status": "Migrated"}], "one POST, never replayed elsewhere"


@pytest.mark.parametrize("receiver", [(200, None)], indirect=True)
def test_the_post_goes_to_the_address_that_was_checked(receiver: Receiver) -> None:
    """A second lookup could answer differently (DNS rebinding): the connection uses the checked address."""
    lookups: list[str] = []

    def resolve(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    allowed = CallbackPolicy.from_settings({"CALLBACK_ALLOWED_HOSTS": f"http://callback.test:{receiver.port}"}).allowed
    result = post(f"http://callback.test:{receiver.port}/cb?sig=abc", {"n": 1}, policy=CallbackPolicy(allowed, resolve))
    assert result["outcome"] == "delivered" and lookups == ["callback.test"]
    assert receiver.hosts == [f"callback.test:{receiver.port}"] and receiver.bodies == [{"n": 1}]


@pytest.mark.parametrize("receiver", [(200, None)], indirect=True)
def test_a_destination_no_longer_allowed_is_refused_at_delivery_without_a_request(receiver: Receiver) -> None:
    result = post(receiver.url, {"status": "Migrated"}, policy=CallbackPolicy.from_settings({}))
    assert result["outcome"] == "final" and result["status"] is None
    assert "not on the callback allow list" in result["message"] and "sig=" not in result["message"]
    assert receiver.bodies == []


def test_no_answer_is_worth_a_retry_and_names_no_secret() -> None:
    closed = CallbackPolicy.from_settings({"CALLBACK_ALLOWED_HOSTS": "http://127.0.0.1:9"})
    result = post("http://127.0.0.1:9/cb?sig=s3cr3t", {}, timeout=5, policy=closed)
    assert result["outcome"] == "retry" and result["status"] is None
    assert "s3cr3t" not in json.dumps(result)


def test_classification_and_pauses() -> None:
    assert [classify(s) for s in (None, 200, 204, 400, 401, 408, 410, 429, 500, 503)] == [
        "retry", "delivered", "delivered", "final", "final", "retry", "final", "retry", "retry", "retry",
    ]  # fmt: skip
    pauses = [pause_seconds(attempt, None) for attempt in range(1, 10)]
    assert pauses[:3] == [30.0, 60.0, 120.0] and pauses == sorted(pauses) and max(pauses) == MAX_PAUSE_SECONDS
    assert pause_seconds(1, 600.0) == 600.0
    assert shown_url("https://x.example/workflows/1/run?api-version=1&sig=abc") == "https://x.example/workflows/1/run"


# -- the orchestration, replayed through the SDK with a built history (the clock moves only with the events) --


def _replay(answers: list[dict[str, Any]]) -> tuple[dict[str, Any], Replay]:
    calls: list[Any] = []

    def activity(name: str, payload: Any) -> dict[str, Any]:
        assert name == "post_callback"
        calls.append(payload)
        return answers[min(len(calls) - 1, len(answers) - 1)]

    request = {
        "migrationId": "w",
        "callbackUrl": "https://logic.example/run?sig=abc",
        "result": {"status": "Migrated", "note": "Bearer abc.def"},
    }
    replay = Replay(deliver_callback, request, activity=activity)
    state = replay.run()
    assert all(call["body"] == {"migrationId": "w", "status": "Migrated", "note": "Bearer ***"} for call in calls)
    return state, replay


DOWN = {"outcome": "retry", "status": 503, "retryAfter": None}


def test_a_receiver_that_stays_down_is_given_up_on_after_a_day_with_growing_pauses() -> None:
    state, replay = _replay([DOWN])
    output = state["output"]
    assert output["delivered"] is False and output["outcome"] == "gaveUp"
    fires = [_parse(a["fireAt"]) for a in replay.scheduled if a["actionType"] == 5]
    gaps = [(b - a).total_seconds() for a, b in zip([START, *fires], fires, strict=False)]
    assert gaps == sorted(gaps) and max(gaps) <= MAX_PAUSE_SECONDS + 5
    assert fires[-1] - START <= timedelta(days=1)
    assert output["attempts"] == len(fires) + 1
    assert all("sig=" not in json.dumps(status) for status in replay.statuses if status)


def test_delivery_stops_at_the_first_success_or_final_refusal() -> None:
    delivered, _ = _replay([DOWN, {"outcome": "delivered", "status": 200, "retryAfter": None}])
    assert delivered["output"] == {"delivered": True, "attempts": 2, "lastStatus": 200, "outcome": "delivered"}
    refused, _ = _replay([{"outcome": "final", "status": 410, "retryAfter": None}])
    assert refused["output"] == {"delivered": False, "attempts": 1, "lastStatus": 410, "outcome": "final"}
