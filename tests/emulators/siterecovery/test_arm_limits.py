"""ARM's per-subscription token buckets, met through the real SDK over a socket.

Most tests run on a frozen simulated clock (``speed=0``, ``clock: simulated``): buckets refill only
when the test advances the clock, so counts are exact whatever the machine's speed. The wall-clock
test asserts outcomes only.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import ArmLimits, ArmLimitsError, EmulatorHandle, TopologyError, start_emulator
from emulators.siterecovery.arm_limits import ArmLimiter, operation_type, parse_arm_limits
from emulators.siterecovery.client import emulator_client
from emulators.siterecovery.clock import SimClock
from emulators.siterecovery.topology import parse_topology
from tests.emulators.siterecovery.conftest import REPO_ROOT, TOPOLOGY
from tests.emulators.siterecovery.scenario import A2A, RG, SUB, VAULT

FABRICS_GET = "ReplicationFabrics_Get"
READS = "x-ms-ratelimit-remaining-subscription-reads"
WRITES = "x-ms-ratelimit-remaining-subscription-writes"
DELETES = "x-ms-ratelimit-remaining-subscription-deletes"
FROZEN = ArmLimits(clock="simulated")


def _small(
    reads: int = 5, writes: int = 3, deletes: int = 2, clock: str = "simulated", refill: float = 1
) -> dict[str, Any]:
    """Small buckets (settings as the topology spells them) so a test can empty one in a few calls."""
    return {
        "reads": {"bucket": reads, "refillPerSecond": refill},
        "writes": {"bucket": writes, "refillPerSecond": refill},
        "deletes": {"bucket": deletes, "refillPerSecond": refill},
        "clock": clock,
    }


def _header(name: str) -> Any:
    """A ``cls`` callback that returns one response header instead of the model."""
    return lambda pipeline_response, deserialized, headers: pipeline_response.http_response.headers.get(name)


def _fabric_get(client: SiteRecoveryManagementClient, header: str = READS) -> str | None:
    result: Any = client.replication_fabrics.get(RG, VAULT, A2A.fabric, cls=_header(header))
    return None if result is None else str(result)


def _throttled(call: Any) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as refused:
        call()
    assert refused.value.status_code == 429
    return refused.value


def _message(exc: HttpResponseError) -> str:
    """ARM's error message from the body (the SDK parses it with ARMErrorFormat)."""
    assert exc.error is not None and exc.error.message is not None
    return str(exc.error.message)


def _headers(exc: HttpResponseError) -> Any:
    response: Any = exc.response
    assert response is not None
    return response.headers


def _sub_stats(emu: EmulatorHandle, sub: str = SUB) -> dict[str, Any]:
    stats: dict[str, Any] = emu.arm_limit_stats()["subscriptions"][sub.lower()]
    return stats


@pytest.fixture
def frozen() -> Iterator[EmulatorHandle]:
    """Default (documented) buckets on a frozen simulated clock."""
    with start_emulator(TOPOLOGY, arm_limits=FROZEN) as handle:
        yield handle


@pytest.fixture
def strict(frozen: EmulatorHandle) -> SiteRecoveryManagementClient:
    """A client whose retry policy does not hide a 429."""
    return emulator_client(frozen.base_url, frozen.subscription_id, retry_total=0)


# -- the documented figures --------------------------------------------------------------------


def test_defaults_are_arms_documented_subscription_limits() -> None:
    limits = ArmLimits()
    assert (limits.reads.bucket, limits.reads.refill_per_second) == (250, 25.0)
    assert (limits.writes.bucket, limits.writes.refill_per_second) == (200, 10.0)
    assert (limits.deletes.bucket, limits.deletes.refill_per_second) == (200, 10.0)
    assert limits.clock == "wall"
    assert parse_arm_limits({}) == limits
    assert [operation_type(m) for m in ("GET", "head", "PUT", "POST", "PATCH", "DELETE")] == [
        "reads",
        "reads",
        "writes",
        "writes",
        "writes",
        "deletes",
    ]


# -- reads ----------------------------------------------------------------------------------------


def test_250_reads_pass_then_429_with_retry_after_and_arms_body(
    frozen: EmulatorHandle, strict: SiteRecoveryManagementClient
) -> None:
    remaining = [_fabric_get(strict) for _ in range(250)]
    assert remaining == [str(n) for n in range(249, -1, -1)]  # the header counts down to 0

    refused = _throttled(lambda: _fabric_get(strict))
    assert refused.error is not None and refused.error.code == "SubscriptionRequestsThrottled"
    assert f"'read' requests for subscription '{SUB}'" in _message(refused)
    headers = _headers(refused)
    assert headers["Retry-After"] == "1"  # 1 token at 25/s: 0.04 s, rounded up to ARM's whole seconds
    assert headers[READS] == "0"
    assert frozen.call_count(FABRICS_GET) == 251
    assert frozen.call_count(FABRICS_GET, accepted_only=True) == 250  # the 429 is recorded, not accepted

    frozen.advance(1.0)  # one second refills exactly 25 tokens
    assert [_fabric_get(strict) for _ in range(25)] == [str(n) for n in range(24, -1, -1)]
    _throttled(lambda: _fabric_get(strict))
    assert _sub_stats(frozen)["reads"] == {"allowed": 275, "throttled": 2, "lowestRemaining": 0, "remaining": 0}


def test_a_refused_request_takes_no_token(frozen: EmulatorHandle, strict: SiteRecoveryManagementClient) -> None:
    frozen.set_arm_limits(_small(reads=1))
    assert _fabric_get(strict) == "0"
    for _ in range(3):
        _throttled(lambda: _fabric_get(strict))
    frozen.advance(1.0)  # one token back: had the refusals taken any, the bucket would still be empty
    assert _fabric_get(strict) == "0"


def test_operation_polls_and_404s_count_as_reads() -> None:
    with start_emulator(TOPOLOGY, advance_on_poll=True, arm_limits=FROZEN) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
        client.replication_protected_items.begin_create(
            RG, VAULT, A2A.fabric, A2A.container, A2A.item, A2A.enable
        ).result()
        with pytest.raises(ResourceNotFoundError):
            client.replication_fabrics.get(RG, VAULT, "no-such-fabric")
        calls = emu.calls.calls()
        gets = [c for c in calls if c.method == "GET"]
        assert any(c.operation in ("OperationStatus_Get", "OperationResults_Get") for c in gets)
        stats = _sub_stats(emu)
        assert stats["reads"]["allowed"] == len(gets)
        assert stats["writes"]["allowed"] == len([c for c in calls if c.method in ("PUT", "POST")])


# -- writes, deletes, subscriptions ---------------------------------------------------------------


def test_writes_have_their_own_bucket_of_200(frozen: EmulatorHandle, strict: SiteRecoveryManagementClient) -> None:
    def cancel() -> None:  # a cheap write: ARM counts it before the resource provider answers 404
        strict.replication_jobs.begin_cancel(RG, VAULT, "no-such-job")

    for n in range(200):
        with pytest.raises(ResourceNotFoundError) as missing:
            cancel()
        assert _headers(missing.value)[WRITES] == str(199 - n)
    refused = _throttled(cancel)
    assert "'write' requests" in _message(refused)
    assert _headers(refused)["Retry-After"] == "1"  # 1 token at 10/s
    assert _fabric_get(strict) == "249"  # reads untouched
    assert _sub_stats(frozen)["writes"]["throttled"] == 1


def test_deletes_have_their_own_bucket(frozen: EmulatorHandle, strict: SiteRecoveryManagementClient) -> None:
    frozen.set_arm_limits(_small(reads=5, writes=3, deletes=2))

    def purge() -> None:  # DELETE on the item: a delete in ARM's terms
        strict.replication_protected_items.begin_purge(RG, VAULT, A2A.fabric, A2A.container, "no-such-item")

    for expected in ("1", "0"):
        with pytest.raises(ResourceNotFoundError) as missing:
            purge()
        assert _headers(missing.value)[DELETES] == expected
    refused = _throttled(purge)
    assert "'delete' requests" in _message(refused)
    assert _headers(refused)[DELETES] == "0"
    with pytest.raises(ResourceNotFoundError) as write:
        strict.replication_jobs.begin_cancel(RG, VAULT, "no-such-job")
    assert _headers(write.value)[WRITES] == "2"
    assert _fabric_get(strict) == "4"
    stats = _sub_stats(frozen)
    assert {kind: (s["allowed"], s["throttled"]) for kind, s in stats.items()} == {
        "reads": (1, 0),
        "writes": (1, 0),
        "deletes": (2, 1),
    }


def test_two_subscriptions_have_separate_buckets() -> None:
    other_sub = "99999999-8888-7777-6666-555555555555"
    document = yaml.safe_load(TOPOLOGY.read_text(encoding="utf-8"))
    document["vaults"].append({"subscriptionId": other_sub, "resourceGroup": "rg-other", "name": "vault-other"})
    document["armLimits"] = _small(reads=2)
    with start_emulator(document) as emu:
        first = emulator_client(emu.base_url, SUB, retry_total=0)
        second = emulator_client(emu.base_url, other_sub, retry_total=0)
        assert [_fabric_get(first), _fabric_get(first)] == ["1", "0"]
        _throttled(lambda: _fabric_get(first))

        assert list(second.replication_fabrics.list("rg-other", "vault-other")) == []  # the other bucket is full
        assert _sub_stats(emu, other_sub)["reads"]["allowed"] == 1
        assert _sub_stats(emu, SUB)["reads"] == {"allowed": 2, "throttled": 1, "lowestRemaining": 0, "remaining": 0}


# -- the SDK's retry policy -----------------------------------------------------------------------


def test_sdk_default_retry_absorbs_a_429(frozen: EmulatorHandle) -> None:
    """Deterministic: the bucket is empty on a frozen clock, so the first try is certainly refused; a
    helper refills it once the refusal is seen and the SDK's retry (after Retry-After) gets through."""
    frozen.set_arm_limits(_small(reads=1))
    client = emulator_client(frozen.base_url, frozen.subscription_id, retry_backoff_factor=0.01)
    assert _fabric_get(client) == "0"
    done = threading.Event()

    def refill_after_refusal() -> None:
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            if _sub_stats(frozen)["reads"]["throttled"] >= 1:
                frozen.advance(1.0)
                return
            time.sleep(0.01)

    helper = threading.Thread(target=refill_after_refusal, daemon=True)
    helper.start()
    try:
        assert _fabric_get(client) == "0"  # refused at least once, retried, served
    finally:
        done.set()
        helper.join(timeout=10)
    statuses = [c.status for c in frozen.calls.calls() if c.operation == FABRICS_GET]
    assert statuses[0] == 200 and statuses[-1] == 200
    assert len(statuses) >= 3 and set(statuses[1:-1]) == {429}


def test_sdk_default_retry_on_the_wall_clock() -> None:
    """Outcomes only: every call succeeds and each is let through exactly once, however fast the machine."""
    with start_emulator(TOPOLOGY, arm_limits=_small(reads=2, clock="wall", refill=2)) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id, retry_backoff_factor=0.01)
        for _ in range(5):
            assert client.replication_fabrics.get(RG, VAULT, A2A.fabric).name == A2A.fabric
        reads = _sub_stats(emu)["reads"]
        assert reads["allowed"] == 5
        assert reads["throttled"] == emu.call_count(FABRICS_GET) - 5
        assert emu.call_count(FABRICS_GET, accepted_only=True) == 5


# -- switching it on and off ----------------------------------------------------------------------


def test_off_by_default_and_switchable_on_the_handle(emu: EmulatorHandle) -> None:
    client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
    assert emu.arm_limits is None
    assert _fabric_get(client) is None  # no header while the limits are off
    assert emu.arm_limit_stats() == {"enabled": False, "settings": None, "subscriptions": {}}
    emu.set_arm_limits({"clock": "simulated"})
    assert emu.arm_limits == FROZEN
    assert _fabric_get(client) == "249"
    emu.set_arm_limits(None)
    assert _fabric_get(client) is None


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"reads": {"bucket": 10, "refillPerSecond": -1}}, "reads.refillPerSecond: Input should be greater than 0"),
        ({"writes": {"bucket": 0, "refillPerSecond": 1}}, "writes.bucket: Input should be greater than or equal to 1"),
        ({"clock": "sundial"}, "clock: Input should be 'wall' or 'simulated'"),
        ({"deletes": {"bucket": 5}}, "deletes.refillPerSecond: Field required"),
        ({"reads": {"bucket": True, "refillPerSecond": 1}}, "reads.bucket: Input should be a valid integer"),
        ({"read": {}}, "read: Extra inputs are not permitted"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    frozen: EmulatorHandle, strict: SiteRecoveryManagementClient, settings: dict[str, Any], problem: str
) -> None:
    assert _fabric_get(strict) == "249"
    with pytest.raises(ArmLimitsError) as bad:
        frozen.set_arm_limits(settings)
    assert problem in bad.value.problems
    assert frozen.arm_limits == FROZEN
    assert _fabric_get(strict) == "248"  # same bucket, not a fresh one
    with pytest.raises(ArmLimitsError):
        start_emulator(TOPOLOGY, arm_limits=settings)


def test_topology_key_switches_it_on_and_is_validated() -> None:
    document = yaml.safe_load(TOPOLOGY.read_text(encoding="utf-8"))
    document["armLimits"] = {"reads": {"bucket": 3, "refillPerSecond": 0.5}, "clock": "simulated"}
    with start_emulator(document) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
        assert [_fabric_get(client) for _ in range(3)] == ["2", "1", "0"]
        refused = _throttled(lambda: _fabric_get(client))
        assert _headers(refused)["Retry-After"] == "2"  # one token at 0.5/s; frozen clock: the simulated wait
        settings = emu.arm_limit_stats()["settings"]
        assert settings["writes"] == {"bucket": 200, "refillPerSecond": 10.0}
    document["armLimits"] = {"reads": {"bucket": -3, "refillPerSecond": 0}, "clock": "sometimes"}
    with pytest.raises(TopologyError) as bad:
        parse_topology(document)
    assert bad.value.problems == [
        "armLimits.reads.bucket: Input should be greater than or equal to 1",
        "armLimits.reads.refillPerSecond: Input should be greater than 0",
        "armLimits.clock: Input should be 'wall' or 'simulated'",
    ]


def test_control_endpoint(frozen: EmulatorHandle, strict: SiteRecoveryManagementClient) -> None:
    url = f"{frozen.base_url}/_emulator/arm-limits"
    _fabric_get(strict)
    stats = requests.get(url, timeout=10).json()
    assert stats["enabled"] is True and stats["settings"]["clock"] == "simulated"
    assert stats["subscriptions"][SUB]["reads"]["allowed"] == 1
    bad = requests.post(url, json={"reads": {"bucket": 1, "refillPerSecond": -2}}, timeout=10)
    assert bad.status_code == 400
    assert "reads.refillPerSecond" in bad.json()["error"]["message"]
    assert requests.get(url, timeout=10).json() == stats  # unchanged
    fresh = requests.post(url, json=_small(reads=2), timeout=10).json()
    assert fresh["settings"]["reads"] == {"bucket": 2, "refillPerSecond": 1.0} and fresh["subscriptions"] == {}
    assert _fabric_get(strict) == "1"
    assert requests.delete(url, timeout=10).json()["enabled"] is False
    assert _fabric_get(strict) is None


def test_command_line_flag() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "emulators.siterecovery", "--topology", str(TOPOLOGY), "--speed", "0"]
        + ["--arm-limits", "simulated"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            client = emulator_client(base_url, SUB, retry_total=0)
            assert _fabric_get(client) == "249"
            stats = requests.get(f"{base_url}/_emulator/arm-limits", timeout=10).json()
            assert stats["settings"]["clock"] == "simulated" and stats["settings"]["reads"]["bucket"] == 250
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert process.returncode == 0


# -- the limiter alone ----------------------------------------------------------------------------


def test_wall_clock_buckets_refill_with_real_time() -> None:
    now = [100.0]
    limiter = ArmLimiter(SimClock(0), ArmLimits(), wall=lambda: now[0])
    for _ in range(200):
        assert limiter.take("s", "PUT") is not None
    refused = limiter.take("s", "POST")
    assert refused is not None and not refused.allowed and refused.retry_after == 1
    now[0] += 0.35  # 3.5 tokens at 10/s
    assert [d.allowed for d in (limiter.take("S", "PATCH") for _ in range(4)) if d is not None] == [
        True,
        True,
        True,
        False,
    ]
    now[0] += 3600
    took = limiter.take("s", "PUT")
    assert took is not None and took.remaining == 199  # never more than the bucket


def test_simulated_retry_after_is_converted_with_the_clock_speed() -> None:
    slow = SimClock(0.5)  # half a simulated second per wall second: waits take twice as long in wall time
    limiter = ArmLimiter(slow, parse_arm_limits({"reads": {"bucket": 1, "refillPerSecond": 0.1}, "clock": "simulated"}))
    assert limiter.take("s", "GET") is not None
    refused = limiter.take("s", "GET")
    assert refused is not None and refused.retry_after == 20  # 10 simulated s at speed 0.5
    fast = SimClock(600)
    limiter = ArmLimiter(
        fast, parse_arm_limits({"reads": {"bucket": 1, "refillPerSecond": 0.001}, "clock": "simulated"})
    )
    limiter.take("s", "GET")
    refused = limiter.take("s", "GET")
    assert refused is not None and refused.retry_after is not None and 1 <= refused.retry_after <= 2


def test_the_limiter_is_thread_safe() -> None:
    limiter = ArmLimiter(
        SimClock(0), parse_arm_limits({"deletes": {"bucket": 100, "refillPerSecond": 1}, "clock": "simulated"})
    )
    results: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            decision = limiter.take("s", "DELETE")
            assert decision is not None
            with lock:
                results.append(decision.allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 100 and results.count(False) == 300
    deletes = limiter.stats()["subscriptions"]["s"]["deletes"]
    assert (deletes["allowed"], deletes["throttled"], deletes["lowestRemaining"]) == (100, 300, 0)
