"""Every payload that crosses a function boundary reads back what its sender wrote, and names what is missing."""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
from datetime import UTC, datetime
from typing import Any

import pytest

import migration.payloads
from migration.payloads.asr_steps import ItemReading, JobReadInput, MachineRequest, StartStepInput, StepStarted
from migration.payloads.callbacks import CallbackDelivery, CallbackPost, PostAnswer
from migration.payloads.claims import ClaimInput, ReleaseRequest
from migration.payloads.fields import PayloadError
from migration.payloads.hooks import HookAnswer, HookCommandInput, HookCommandOutput, HookPost
from migration.payloads.idempotency import KeyRecord
from migration.payloads.instances import CANCEL_REASON, InstancesRequest
from migration.payloads.publishing import EventRequest
from migration.payloads.runbook import (
    BatchEntry,
    BatchInput,
    BatchOutput,
    RollbackInput,
    RollbackResult,
    RunbookInput,
)
from migration.payloads.target_fit import Finding, TargetFit, TargetFitRequest
from migration.payloads.vm_checks import RunCommandRead, RunCommandStart, VmRead
from migration.payloads.waits import JobWaitInput, ReplicationWaitInput
from migration.payloads.wave import WaveInput
from migration.plan_clock import PlanClock
from migration.progress import ProgressState
from migration.steps import Step

VAULT = {"subscriptionId": "00000000-0000-0000-0000-000000000001", "resourceGroup": "rg-asr", "name": "vault-1"}
MACHINE = {"name": "vm-01", "scenario": "hyperv"}
NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

# One payload with every field set and one with only what is required, per class.
FULL_AND_MINIMAL: dict[type[Any], tuple[Any, Any]] = {
    MachineRequest: (MachineRequest(MACHINE, stage="preflight", dr=True), MachineRequest(MACHINE)),
    StartStepInput: (
        StartStepInput(MACHINE, Step.UNPLANNED_FAILOVER, {"drAfterMigration": True}, "cutover", "rp-1", "why"),
        StartStepInput(MACHINE, Step.COMMIT),
    ),
    StepStarted: (StepStarted("started", "a job", "job-1", "/jobs/job-1", 30.0), StepStarted("done", "already")),
    ItemReading: (ItemReading(True, {"state": "Protected"}, "rp-2"), ItemReading(False)),
    JobReadInput: (JobReadInput(VAULT, "job-1", "cutover"), JobReadInput(VAULT, "job-1")),
    CallbackDelivery: (
        CallbackDelivery("wave-1", "https://example.logic.azure.com/x", {"status": "Migrated"}, 60.0),
        CallbackDelivery("wave-1", "https://example.logic.azure.com/x"),
    ),
    CallbackPost: (CallbackPost("https://example.logic.azure.com/x", {"a": [1]}), CallbackPost("https://h/x")),
    PostAnswer: (PostAnswer("retry", 503, 12.0, "HTTP 503"), PostAnswer("delivered")),
    InstancesRequest: (InstancesRequest(("a", "b"), "operator said so", 2), InstancesRequest(("a",))),
    EventRequest: (
        EventRequest(
            "migration.machine.stage_changed", "k/1", "2026-11-27T12:00:00+00:00", "wave-1", {"x": 1}, "vm", "ok"
        ),
        EventRequest("migration.rejected", "k/2", "2026-11-27T12:00:00+00:00", None, {}),
    ),
    RunbookInput: (
        RunbookInput("wave-1", MACHINE, {"o": 1}, 60.0, 2, {"stages": {}}, "cutover", "approval"),
        RunbookInput("wave-1", MACHINE),
    ),
    RollbackInput: (RollbackInput("wave-1", MACHINE, {"o": 1}, 60.0, 1), RollbackInput("wave-1", MACHINE)),
    RollbackResult: (
        RollbackResult("vm-01", "cancelled", {"code": "X"}, ("j1", "j2")),
        RollbackResult("vm-01", "failed"),
    ),
    BatchEntry: (BatchEntry(MACHINE, 1, {"stages": {}}, "cutover"), BatchEntry(MACHINE)),
    BatchInput: (
        BatchInput("wave-1", "prepare", (BatchEntry(MACHINE, 1), BatchEntry({"name": "vm-02"})), 5, 60.0, {"o": 1}),
        BatchInput("wave-1", "cutover", ()),
    ),
    BatchOutput: (BatchOutput({"vm-01": {"outcome": "migrated"}}, ("vm-02",)), BatchOutput({})),
    JobWaitInput: (
        JobWaitInput(VAULT, "job-1", "/jobs/job-1", Step.COMMIT, "commit", NOON, 60.0, 15.0, 3, 40.0),
        JobWaitInput(VAULT, "job-1", None, Step.COMMIT, None, NOON),
    ),
    ReplicationWaitInput: (
        ReplicationWaitInput(MACHINE, 300, 3600, NOON, 60.0, 4, True, None, 120.0),
        ReplicationWaitInput(MACHINE, 300, 3600, NOON),
    ),
    ClaimInput: (ClaimInput("wave-1", "web01", "source VM", "/subscriptions/s/vm", NOON),) * 2,
    ReleaseRequest: (ReleaseRequest("wave-1"),) * 2,
    KeyRecord: (KeyRecord("submissions", "k-1", "ab" * 32, "wave-1", "the plan"),) * 2,
    Finding: (Finding("QuotaExceeded", "cores: 8 free", ("vm-01",), ("groups[0].machines[0].target.vmSize",)),) * 2,
    TargetFit: (
        TargetFit((Finding("SizeNotOffered", "no", ("vm-01",), ("groups[0].machines[0].target.vmSize",)),), (), ()),
        TargetFit((), (), ()),
    ),
    TargetFitRequest: (TargetFitRequest({"id": "wave-1", "groups": []}),) * 2,
    VmRead: (
        VmRead(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-01", "validateTestVm"
        ),
        VmRead("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-01"),
    ),
    RunCommandRead: (
        RunCommandRead(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-01",
            "mig-test-ping-a0",
            "validateTestVm",
        ),
        RunCommandRead("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-01", "c"),
    ),
    RunCommandStart: (
        RunCommandStart(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-01",
            "westeurope",
            "c",
            None,
            "https://x/s.sh",
            [("port", "80")],
            300,
            "validateTestVm",
        ),
        RunCommandStart(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-01",
            "westeurope",
            "c",
            "echo ok",
            None,
        ),
    ),
    HookPost: (HookPost({"name": "drain", "type": "http", "url": "https://h/x"}, {"specversion": "1.0"}),) * 2,
    HookAnswer: (
        HookAnswer("failed", True, 503, "h.example", "busy", "HTTP 503, expected a 2xx"),
        HookAnswer("passed"),
    ),
    HookCommandInput: (
        HookCommandInput("vm-01", "/subscriptions/s/vm", {"name": "smoke"}, "mig-g0-after-smoke-a0", "migrated", 60.0),
        HookCommandInput("vm-01", "/subscriptions/s/vm", {"name": "smoke"}, "mig-g0-after-smoke-a0", "migrated"),
    ),
    HookCommandOutput: (
        HookCommandOutput("vm-01", "failed", "exit code 1", 1, "boom"),
        HookCommandOutput("vm-01", "ok"),
    ),
    WaveInput: (
        WaveInput({"id": "wave-1", "groups": []}, PlanClock(60.0, NOON, NOON), "ab" * 32, "key-1", "http"),
        WaveInput({"id": "wave-1", "groups": []}, PlanClock.identity(NOON)),
    ),
}


def _payload_classes() -> set[type[Any]]:
    found: set[type[Any]] = set()
    for module_info in pkgutil.iter_modules(migration.payloads.__path__):
        module = importlib.import_module(f"migration.payloads.{module_info.name}")
        for exported in getattr(module, "__all__", ()):
            value = getattr(module, exported)
            if dataclasses.is_dataclass(value) and isinstance(value, type) and hasattr(value, "from_dict"):
                found.add(value)
    return found


def test_every_payload_class_is_covered_here() -> None:
    assert _payload_classes() == set(FULL_AND_MINIMAL)


@pytest.mark.parametrize("kind", list(FULL_AND_MINIMAL), ids=lambda kind: kind.__name__)
@pytest.mark.parametrize("which", [0, 1], ids=["full", "minimal"])
def test_what_is_sent_reads_back_equal_through_json(kind: type[Any], which: int) -> None:
    payload = FULL_AND_MINIMAL[kind][which]
    wire = json.loads(json.dumps(payload.to_dict()))  # the history holds JSON, nothing richer
    assert kind.from_dict(wire) == payload
    assert kind.from_dict(wire).to_dict() == wire


@pytest.mark.parametrize("kind", list(FULL_AND_MINIMAL), ids=lambda kind: kind.__name__)
def test_a_payload_that_is_not_an_object_is_refused_by_name(kind: type[Any]) -> None:
    with pytest.raises(PayloadError, match="takes a JSON object, not list"):
        kind.from_dict([1, 2])


@pytest.mark.parametrize("kind", list(FULL_AND_MINIMAL), ids=lambda kind: kind.__name__)
def test_each_required_key_that_is_missing_is_named(kind: type[Any]) -> None:
    wire = FULL_AND_MINIMAL[kind][1].to_dict()
    required = [key for key in wire if _refused_without(kind, wire, key)]
    assert required, f"{kind.__name__} requires nothing: a payload without keys would pass"
    for key in required:
        with pytest.raises(PayloadError, match=key):
            kind.from_dict({k: v for k, v in wire.items() if k != key})


def _refused_without(kind: type[Any], wire: dict[str, Any], key: str) -> bool:
    try:
        kind.from_dict({k: v for k, v in wire.items() if k != key})
    except PayloadError:
        return True
    return False


def test_defaults_live_in_from_dict_alone() -> None:
    request = RunbookInput.from_dict({"migrationId": "wave-1", "machine": MACHINE, "timeScale": None})
    assert (request.time_scale, request.attempt, request.options, request.from_stage) == (1.0, 0, {}, None)
    assert InstancesRequest.from_dict({"instanceIds": ["a"]}).reason == CANCEL_REASON
    assert BatchInput.from_dict({"migrationId": "w", "phase": "prepare", "machines": []}).cap == 1
    assert StartStepInput(MACHINE, Step.COMMIT).stage_name == Step.COMMIT.value


def test_a_batch_entry_without_a_machine_name_is_refused() -> None:
    with pytest.raises(PayloadError, match="'name'"):
        BatchInput.from_dict({"migrationId": "w", "phase": "prepare", "machines": [{"machine": {}}]})


def test_a_job_read_names_the_vault_key_it_lacks() -> None:
    with pytest.raises(PayloadError, match="read_asr_job input vault: lacks the required key 'resourceGroup'"):
        JobReadInput.from_dict({"vault": {"subscriptionId": "s", "name": "v"}, "jobName": "j"})


def test_event_requests_refuse_unknown_keys_and_wrong_types() -> None:
    good = FULL_AND_MINIMAL[EventRequest][0].to_dict()
    with pytest.raises(PayloadError, match="unknown colour"):
        EventRequest.from_dict({**good, "colour": "red"})
    with pytest.raises(PayloadError, match="publish_event input machine: Input should be a valid string"):
        EventRequest.from_dict({**good, "machine": 7})
    with pytest.raises(PayloadError, match="publish_event input migrationId: Input should be a valid string"):
        EventRequest.from_dict({**good, "migrationId": 7})


def test_a_continued_replication_wait_carries_its_readings() -> None:
    progress = ProgressState(NOON, 10, NOON, 35, 123_456_789)
    wait = ReplicationWaitInput(MACHINE, 300, 3600, NOON, polls=2, progress=progress, next_delay_seconds=5.0)
    assert ReplicationWaitInput.from_dict(json.loads(json.dumps(wait.to_dict()))) == wait
