"""The callback POST and its retry schedule, against a real local HTTP receiver (no network beyond loopback)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from activities.post_callback import classify, post
from orchestrators.deliver_callback import MAX_PAUSE_SECONDS, pause_seconds, shown_url


class Receiver:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.bodies: list[Any] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cb?sig=abc"

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
    result = post(receiver.url, {"status": "Migrated"})
    assert result["outcome"] == outcome and result["retryAfter"] == retry_after
    assert receiver.bodies == [{"status": "Migrated"}], "one POST, never replayed elsewhere"


def test_no_answer_is_worth_a_retry_and_names_no_secret() -> None:
    result = post("http://127.0.0.1:9/cb?sig=s3cr3t", {}, timeout=5)
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
