"""Idempotency under crashes for agentless VMware machines (``VMwareCbt`` migration items): SIGKILL the Functions
host while a mutating migration-item call is on the wire, restart it.

The machinery is ``test_crash_recovery``'s: the host runs as a child process over a SQLite task hub in a temporary
folder and reaches the Site Recovery emulator (in this process, so the call log spans every life of the host)
through a forwarding proxy. Armed for one operation, the proxy lets ASR accept the call and withholds the answer;
the test then kills the host. The activity ran, the operation happened, and the host recorded nothing: the
restarted host runs the activity again, and must adopt ASR's job (or find the step done) instead of calling twice.

Each kill point is armed before the host that will send the call starts, so no call can pass before the proxy
watches for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.functions import start_host_process
from emulators.functions.process import HostProcess
from emulators.siterecovery import start_emulator
from tests.e2e.stack import (
    MIGRATION_ITEM_MUTATING_OPERATIONS,
    SPEED,
    accepted_migration_calls,
    fences,
    migration_calls_once_each,
)
from tests.e2e.test_crash_recovery import WithholdingProxy, _accepted_items, _item_of, _request, _wait_until
from tests.support.machines import REPO, agentless_input, agentless_name, agentless_topology

pytestmark = pytest.mark.slow

# Where the host dies: the operation whose answer is withheld (method, path end), and the stage that sent it.
KILL_POINTS = [
    ("ReplicationMigrationItems_Create", ("PUT", r"/replicationMigrationItems/[^/]+"), "enableReplication"),
    ("ReplicationMigrationItems_TestMigrate", ("POST", r"/testMigrate"), "testFailover"),
    ("ReplicationMigrationItems_Migrate", ("POST", r"/migrate"), "unplannedFailover"),
]
MACHINES = [0, 1]


def test_sigkill_while_asr_accepts_each_mutating_migration_item_call_then_restart(tmp_path: Path) -> None:
    asr = start_emulator(agentless_topology(len(MACHINES)), speed=SPEED)
    proxy = WithholdingProxy(asr.base_url)
    env = {"ASR_ARM_ENDPOINT": proxy.base_url, **fences(asr)}
    data = tmp_path / "data"
    instances = {index: f"agentless-crash:{agentless_name(index)}" for index in MACHINES}
    victims: dict[str, str] = {}
    host: HostProcess | None = None
    try:
        for operation, (method, path_end), stage in KILL_POINTS:
            assert operation in MIGRATION_ITEM_MUTATING_OPERATIONS, operation
            proxy.arm(method, path_end)
            host = start_host_process("function_app:app", app_dir=REPO, data_dir=data, env=env)
            if not victims:
                for index, instance in instances.items():
                    payload = agentless_input(index, SPEED)
                    reply = _request(host, "POST", f"orchestrators/machine_runbook/{instance}", payload)
                    assert reply["id"] == instance, reply
            _wait_until(proxy.withheld.is_set, f"ASR to accept a {operation}")
            host.kill()
            proxy.release()
            victims[stage] = _item_of(proxy.withheld_path, "replicationMigrationItems")
            assert victims[stage] in _accepted_items(asr, operation), (operation, victims[stage])
        host = start_host_process("function_app:app", app_dir=REPO, data_dir=data, env=env)
        alive = host

        def finished() -> bool:
            return all(
                _request(alive, "GET", f"instances/{i}")["runtimeStatus"] in ("Completed", "Failed", "Terminated")
                for i in instances.values()
            )

        _wait_until(finished, "every migration to finish", timeout=240)
        statuses = {index: _request(host, "GET", f"instances/{i}") for index, i in instances.items()}
    finally:
        if host is not None:
            host.stop()
        proxy.stop()
        asr.stop()

    for index, status in statuses.items():
        name = agentless_name(index)
        assert status["runtimeStatus"] == "Completed", (name, status)
        record = status["output"]
        assert record["outcome"] == "migrated", (name, record.get("error"))
        assert record["recoveryPointId"], name
        assert accepted_migration_calls(asr, name) == migration_calls_once_each(), name
    assert not asr.migration_items(), "completed agentless migrations leave no migration item behind"
    # The step whose call was on the wire at each kill ran again after the restart, and adopted ASR's job (or
    # found the step done) instead of starting it a second time.
    by_name = {agentless_name(index): status["output"] for index, status in statuses.items()}
    assert set(victims) == {stage for *_, stage in KILL_POINTS}
    for stage, victim in victims.items():
        decision = by_name[victim]["stages"][stage]["decision"]
        assert decision in ("adopt", "done"), (stage, victim, decision)
