"""A group's hooks end to end: a real HTTP receiver, the app on the local host, Site Recovery and Service Bus.

The second group's ``beforeCutover`` hook POSTs to a receiver on loopback (allowed as an explicit origin, the only
way ``CALLBACK_ALLOWED_HOSTS`` lets a call reach loopback) that answers 500: the first group stays migrated, the
second starts no failover and the wave holds; once the receiver answers 200 a ``retry`` runs the hook again and the
second group migrates. The first group's ``afterCutover`` hook runs a script on its migrated VM (a managed Run
Command on the Compute stand-in). What is checked is what the receiver, Site Recovery and the topic saw.

After a group's cutover, a migrated VM that fails its checks holds the next group until an approval when the plan
says ``onMigratedVmFailure: hold``, and is only reported when it says ``continue``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient

from emulators.functions import HostHandle, start_host
from emulators.servicebus import EmulatorHandle as BusHandle
from emulators.servicebus import start_emulator as start_bus
from emulators.siterecovery import EmulatorHandle as AsrHandle
from emulators.siterecovery import start_emulator as start_asr
from migration.instance_ids import wave_id
from migration.plan_clock import PlanClock
from migration.servicebus import close_client
from tests.e2e.stack import SPEED, fences
from tests.support.machines import EXAMPLES, REPO, example_plan
from tests.support.webhooks import SECRET, Receiver

pytestmark = pytest.mark.slow

MIXED = example_plan("mixed-wave.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)


@dataclass
class HookStack:
    asr: AsrHandle
    bus: BusHandle
    host: HostHandle
    received: list[dict[str, Any]] = field(default_factory=list)

    def status(self, instance: str) -> Any:
        return self.host.run(self.host.client().get_status(instance, show_history=False))

    def control(self, instance: str, action: str) -> None:
        payload = {"action": action, "actor": "operator@example.com", "reason": f"test {action}"}
        self.host.run(self.host.client().raise_event(instance, "control", payload))

    def wait_for(self, instance: str, predicate: Any, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(instance)
            custom = dict(status.custom_status or {})
            if predicate(custom):
                return custom
            runtime = getattr(status.runtime_status, "value", status.runtime_status)
            assert runtime in ("Running", "Pending"), f"{instance} ended {runtime}: {status.output}"
            assert time.monotonic() < deadline, f"still waiting: {custom}"
            time.sleep(0.2)

    def wait_final(self, instance: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(instance)
            runtime = getattr(status.runtime_status, "value", status.runtime_status)
            if runtime in ("Completed", "Failed", "Terminated"):
                assert runtime == "Completed", status.output
                output: dict[str, Any] = status.output
                return output
            assert time.monotonic() < deadline, f"{instance} still {runtime}: {status.custom_status}"
            time.sleep(0.2)

    def accepted_failovers(self) -> list[str]:
        return [
            call.item or ""
            for call in self.asr.calls.calls()
            if call.operation == "ReplicationProtectedItems_UnplannedFailover" and call.status < 300
        ]

    def events(self, event_type: str) -> list[dict[str, Any]]:
        """The CloudEvents of ``event_type`` the topic holds so far (kept across calls)."""
        with ServiceBusClient.from_connection_string(self.bus.connection_string) as client:
            with client.get_subscription_receiver("migration-events", "all-events", max_wait_time=1) as receiver:
                while batch := receiver.receive_messages(max_message_count=100, max_wait_time=1):
                    for message in batch:
                        self.received.append(json.loads(b"".join(message.body)))
                        receiver.complete_message(message)
        return [event for event in self.received if event["type"] == event_type]


@contextmanager
def hook_stack(data_dir: Path, receiver: Receiver) -> Iterator[HookStack]:
    asr = start_asr(EXAMPLES / "topology.yaml", speed=SPEED)
    try:
        bus = start_bus()
        try:
            settings = {
                "ASR_ARM_ENDPOINT": asr.base_url,
                **fences(asr),
                "ServiceBusConnection": bus.connection_string,
                "CALLBACK_ALLOWED_HOSTS": f"http://127.0.0.1:{receiver.port}",
            }
            host = start_host("function_app:app", app_dir=REPO, data_dir=data_dir, settings=settings)
            try:
                yield HookStack(asr, bus, host)
            finally:
                host.stop()
                # The in-process host's event publisher holds a link to this broker: closed here, not by the garbage
                # collector in whichever test runs next.
                close_client()
        finally:
            bus.stop()
    finally:
        asr.stop()


def two_groups(receiver: Receiver) -> dict[str, Any]:
    """db01 (group data), then web01 (group web), whose cutover a drain hook guards; db01's VM runs a script after."""
    plan = copy.deepcopy(MIXED)
    plan["id"] = "hooked-wave"
    plan["options"].pop("drAfterMigration", None)
    plan["options"]["approval"] = {"required": False}
    groups = []
    for group in plan["groups"]:
        machines = [m for m in group["machines"] if m["name"] in ("db01", "web01")]
        if machines:
            groups.append({**group, "machines": machines})
    data, web = groups
    data["hooks"] = {
        "afterCutover": [{"name": "db-ready", "type": "runCommand", "machines": ["db01"], "script": "echo ready"}]
    }
    drain = {"name": "drain-lb", "type": "http", "url": receiver.url, "retries": 1, "retryDelay": "PT2S"}
    web["hooks"] = {"beforeCutover": [drain]}
    plan["groups"] = [data, web]
    return plan


def test_a_failing_before_cutover_hook_holds_the_group_until_a_retry_passes(tmp_path: Path) -> None:
    receiver = Receiver(500)
    try:
        with hook_stack(tmp_path, receiver) as stack:
            plan = two_groups(receiver)
            clock = PlanClock(SPEED, stack.asr.clock.now(), datetime.now(UTC))
            instance = wave_id(plan["id"])
            stack.host.run(
                stack.host.client().start_new("migration_wave", instance, {"plan": plan, "clock": clock.to_dict()})
            )
            held = stack.wait_for(instance, lambda s: (s.get("hold") or {}).get("reason") == "hookFailed")

            # The hold names the group and the hook, never the URL; the first group migrated, the second did not
            # start a failover.
            assert (held["hold"]["group"], held["hold"]["phase"]) == ("web", "beforeCutover")
            assert "drain-lb" in held["hold"]["detail"] and "HTTP 500" in held["hold"]["detail"]
            assert held["counts"] == {"migrated": 1, "ready": 1}
            assert stack.accepted_failovers() == ["db01"]
            assert SECRET not in json.dumps(held)

            # The receiver got the hook's CloudEvent on each of its two calls: the same event both times.
            first = receiver.events()
            assert len(first) == 2 and first[0] == first[1]
            headers, event = receiver.requests[0]
            assert headers["content-type"] == "application/cloudevents+json; charset=utf-8"
            assert {k: event[k] for k in ("specversion", "type", "source", "datacontenttype")} == {
                "specversion": "1.0",
                "type": "migration.group.hook",
                "source": "/migrations/hooked-wave",
                "datacontenttype": "application/json",
            }
            assert event["data"] == {
                "migrationId": "hooked-wave",
                "group": "web",
                "machines": ["web01"],
                "phase": "beforeCutover",
                "hook": "drain-lb",
                "attempt": 0,
            }
            assert datetime.fromisoformat(event["time"]).tzinfo is not None

            time.sleep(1.0)
            assert stack.accepted_failovers() == ["db01"], "still held: no failover of the second group"
            assert len(receiver.requests) == 2, "no call without a retry"

            receiver.status = 200
            stack.control(instance, "retry")
            result = stack.wait_final(instance)

            assert result["status"] == "Migrated", result
            assert {m["outcome"] for m in result["machines"].values()} == {"migrated"}
            assert [m for m in stack.accepted_failovers()] == ["db01", "web01"]

            # The retry sent a new event (new id, attempt 1), once.
            retried = receiver.events()[2:]
            assert len(retried) == 1 and retried[0]["id"] != first[0]["id"] and retried[0]["data"]["attempt"] == 1

            hooks = result["hooks"]
            drain = hooks["web"]["beforeCutover"]
            assert (drain["outcome"], drain["attempt"]) == ("passed", 1)
            (call,) = drain["hooks"]
            assert (call["name"], call["type"], call["outcome"], call["attempts"]) == ("drain-lb", "http", "passed", 1)
            assert (call["host"], call["httpStatus"], call["excerpt"]) == ("127.0.0.1", 200, '{"drained": true}')
            assert call["durationSeconds"] >= 0
            ready = hooks["data"]["afterCutover"]
            assert ready["outcome"] == "passed", ready
            (script,) = ready["hooks"]
            assert script["type"] == "runCommand" and script["machines"][0]["machine"] == "db01"
            assert script["machines"][0]["exitCode"] == 0
            run_commands = [
                c for c in stack.asr.calls.calls() if c.operation == "VirtualMachineRunCommands_CreateOrUpdate"
            ]
            assert any("mig-g0-after-db-ready-a0" in c.path for c in run_commands)
            assert SECRET not in json.dumps(result)

            completed = stack.events("migration.group.hook_completed")
            summary = [
                (
                    e["data"]["group"],
                    e["data"]["hook"],
                    e["data"]["attempt"],
                    e["data"]["outcome"],
                    e["data"]["attempts"],
                )
                for e in completed
            ]
            assert sorted(summary) == [
                ("data", "db-ready", 0, "passed", 1),
                ("web", "drain-lb", 0, "failed", 2),
                ("web", "drain-lb", 1, "passed", 1),
            ]
            failed = next(e["data"] for e in completed if e["data"]["outcome"] == "failed")
            assert (failed["httpStatus"], failed["host"], failed["excerpt"]) == (
                500,
                "127.0.0.1",
                '{"error": "backend pool busy"}',
            )
            assert SECRET not in json.dumps(completed)
            assert [e["data"]["action"] for e in stack.events("migration.control")] == ["retry"]
    finally:
        receiver.close()


@pytest.mark.parametrize("on_failure", ["hold", "continue"])
def test_a_migrated_vm_that_fails_its_checks_holds_the_next_group_when_the_plan_says_hold(
    tmp_path: Path, on_failure: str
) -> None:
    receiver = Receiver(200)
    try:
        with hook_stack(tmp_path, receiver) as stack:
            plan = two_groups(receiver)
            plan["id"] = f"checked-{on_failure}"
            for group in plan["groups"]:
                group.pop("hooks", None)
            smoke = {"scripts": [{"name": "service-up", "script": "systemctl is-active app", "expectOutput": "."}]}
            plan["options"]["checks"] = {"migratedVm": smoke, "onMigratedVmFailure": on_failure}
            stack.asr.add_fault({"kind": "runCommand", "vm": "db01", "exitCode": 3, "stderr": "inactive", "times": 9})
            clock = PlanClock(SPEED, stack.asr.clock.now(), datetime.now(UTC))
            instance = wave_id(plan["id"])
            stack.host.run(
                stack.host.client().start_new("migration_wave", instance, {"plan": plan, "clock": clock.to_dict()})
            )
            if on_failure == "hold":
                held = stack.wait_for(
                    instance, lambda s: (s.get("hold") or {}).get("reason") == "migratedVmChecksFailed"
                )
                assert "db01" in held["hold"]["detail"], held["hold"]
                assert held["counts"] == {"migrated": 1, "ready": 1}
                time.sleep(1.0)
                assert stack.accepted_failovers() == ["db01"], "held: the next group starts no failover"
                stack.control(instance, "approve")
            result = stack.wait_final(instance)
            assert result["status"] == "Migrated", result
            assert stack.accepted_failovers() == ["db01", "web01"]
            db01 = result["machines"]["db01"]
            assert db01["outcome"] == "migrated" and db01["checks"]["migratedVm"]["outcome"] == "failed"
            assert db01["checks"]["migratedVm"]["checks"][-1]["errorOutput"] == "inactive"
            assert result["machines"]["web01"]["checks"]["migratedVm"]["outcome"] == "passed"
            assert "db01" in str(result["migratedVmChecksFailed"])
            actions = [c["action"] for c in result["controls"]]
            assert actions == (["approve"] if on_failure == "hold" else [])
            checked = [
                (e["data"]["machine"], e["data"]["phase"], e["data"]["outcome"])
                for e in stack.events("migration.machine.checked")
            ]
            assert ("db01", "migratedVm", "failed") in checked and ("web01", "migratedVm", "passed") in checked
            completed = {e["data"]["machine"]: e["data"] for e in stack.events("migration.machine.completed")}
            assert completed["db01"]["outcome"] == "Migrated"
            assert completed["db01"]["checks"] == {"testVm": "passed", "migratedVm": "failed"}
    finally:
        receiver.close()
