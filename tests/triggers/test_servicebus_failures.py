"""When the app cannot answer a message, the message is not lost: the broker redelivers it, then dead-letters it.

The namespace here has the request queue but no ``migration-events`` topic, so refusing an invalid plan (which
means publishing ``migration.rejected``) fails every time, as it would while the topic is unreachable. The trigger
must raise rather than complete: the message is abandoned on each attempt and, at the queue's MaxDeliveryCount,
moved to the dead-letter queue, where an operator finds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.servicebus import DEFAULT_CONFIG
from tests.triggers.stack import ApiStack, api_stack, wait_until

pytestmark = pytest.mark.slow


def _without_topics() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path(DEFAULT_CONFIG).read_text(encoding="utf-8"))
    document["UserConfig"]["Namespaces"][0]["Topics"] = []
    return document


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    with api_stack(tmp_path_factory.mktemp("no-topic"), bus_config=_without_topics()) as running:
        yield running


def test_a_refusal_that_cannot_be_published_ends_in_the_dead_letter_queue(stack: ApiStack) -> None:
    stack.send("migration-requests", json.dumps({"id": "dlq-1", "name": "x", "groups": []}), message_id="dlq-msg")
    inspect = stack.bus.inspect
    wait_until(lambda: inspect().dead_lettered("migration-requests") == 1, timeout=90)
    letters = inspect().dead_letters("migration-requests")
    assert [(letter.message_id, letter.reason) for letter in letters] == [("dlq-msg", "MaxDeliveryCountExceeded")]
    assert stack.call("GET", "/migrations/dlq-1").status == 404
