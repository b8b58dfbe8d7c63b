"""The callback delivery under the SDK's replay: its pauses, the receiver's Retry-After, its deadline, its stops.

A receiver that stays down for a day is a day of durable timers; replayed, the clock moves only with the events,
so each pause can be checked to the second against the POST it follows. ``post_callback`` is answered in the shape
it returns (``{"outcome", "status", "retryAfter", "message"}``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from orchestrators.deliver_callback import deliver_callback
from tests.orchestrators.replay import Replay, Work

Json = dict[str, Any]
URL = "https://logic.example/workflows/1/run?api-version=1&sig=s3cr3t"


def _answer(status: int, outcome: str = "retry", retry_after: float | None = None) -> Json:
    return {"outcome": outcome, "status": status, "retryAfter": retry_after, "message": f"HTTP {status}"}


DELIVERED = _answer(200, "delivered")


def _deliver(answers: list[Json]) -> tuple[Json, Replay]:
    """Run one delivery whose receiver answers ``answers`` in turn (the last one for ever)."""
    posts: list[Json] = []

    def post(name: str, payload: Any) -> Json:
        assert name == "post_callback" and payload["callbackUrl"] == URL
        posts.append(payload)
        return answers[min(len(posts), len(answers)) - 1]

    request = {"migrationId": "wave-1", "callbackUrl": URL, "result": {"status": "Migrated"}, "timeScale": 1.0}
    replay = Replay(deliver_callback, request, instance_id="migration~wave-1~callback", activity=post)
    state = replay.run()
    assert replay.outcome == "completed", state.get("error")
    assert all(p["body"] == {"migrationId": "wave-1", "status": "Migrated"} for p in posts)
    output: Json = state["output"]
    return output, replay


def _pauses(replay: Replay) -> list[float]:
    """Seconds from each POST's answer to the timer that leads to the next POST."""
    pauses = []
    for work in replay.issued:
        if work.kind == "timer":
            answered = max(w.completed_at for w in _posts(replay) if w.completed_at and w.id < work.id)
            assert work.fire_at is not None and work.issued_at == answered
            pauses.append((work.fire_at - answered).total_seconds())
    return pauses


def _posts(replay: Replay) -> list[Work]:
    return [w for w in replay.issued if w.name == "post_callback"]


def test_pauses_double_from_thirty_seconds_and_a_longer_retry_after_wins() -> None:
    """30 s, then 60 s unless the receiver asks for 600, then 120 s, then 240 s even when it asks for only 10;
    each pause is announced in the status before it is waited."""
    answers = [_answer(503), _answer(503, retry_after=600), _answer(429), _answer(503, retry_after=10), DELIVERED]
    output, replay = _deliver(answers)
    assert output == {"delivered": True, "attempts": 5, "lastStatus": 200, "outcome": "delivered"}
    assert _pauses(replay) == [30.0, 600.0, 120.0, 240.0]
    announced = [s["nextAttemptAt"] for s in replay.statuses if s and s["nextAttemptAt"]]
    fires = [w.fire_at for w in replay.issued if w.kind == "timer" and w.fire_at]
    assert sorted({datetime.fromisoformat(a) for a in announced}) == fires
    assert all("s3cr3t" not in str(status) for status in replay.statuses)


def test_a_receiver_that_stays_down_is_given_up_on_at_the_deadline() -> None:
    """Asked to wait two hours each time, the delivery tries as long as the next attempt still falls within a day
    of its start, then stops with ``gaveUp`` instead of waiting past it."""
    output, replay = _deliver([_answer(503, retry_after=7200)])
    started = replay.issued[0].issued_at
    deadline = started + timedelta(days=1)
    posts = _posts(replay)
    assert output["outcome"] == "gaveUp" and output["delivered"] is False
    assert output["attempts"] == len(posts) and output["lastStatus"] == 503
    assert set(_pauses(replay)) == {7200.0}
    assert all(w.fire_at and w.fire_at <= deadline for w in replay.issued if w.kind == "timer")
    last = posts[-1].completed_at
    assert last and last + timedelta(seconds=7200) > deadline >= last  # one more pause would pass the deadline
    assert replay.status["outcome"] == "gaveUp" and replay.status["nextAttemptAt"] is None


def test_a_final_answer_after_retries_stops_the_delivery() -> None:
    """A 4xx other than 408 or 429 means the URL is wrong or used: no further POST, however early in the day."""
    output, replay = _deliver([_answer(503), _answer(429), _answer(410, "final")])
    assert output == {"delivered": False, "attempts": 3, "lastStatus": 410, "outcome": "final"}
    assert len(_posts(replay)) == 3 and _pauses(replay) == [30.0, 60.0]
    assert replay.issued[-1].name == "post_callback"  # nothing scheduled after the final answer
