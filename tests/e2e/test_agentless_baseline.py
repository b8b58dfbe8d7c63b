"""The agentless baseline (``bench.agentless_baseline``): Az.Migrate's at-scale scripts migrate every agentless
machine, reading each one's discovered server and migration item every interval of its initial seeding.

As for ``test_baseline_scripts``, the emulator's clock is frozen and the baseline moves it by each wait
(``speed=0``), so every figure is counted in simulated time, whatever the speed of the machine running the test.
"""

from __future__ import annotations

from pathlib import Path

from bench.agentless_baseline import AGENTLESS_STEPS, agentless_topology_for, run_agentless_baseline_on
from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.jobs import Job
from tests.e2e.stack import accepted_migration_calls, migration_calls_once_each
from tests.support.machines import agentless_machine, fleet_machine

POLL_SECONDS = 30.0
EVERY_STEP = {"EnableMigration", "TestMigrate", "TestMigrateCleanup", "Migrate", "DisableMigration"}


def _jobs(asr: EmulatorHandle) -> list[Job]:
    with asr.store.lock:
        asr.store.settle()
        return [job for vault in asr.store.vaults.values() for job in vault.jobs.values()]


def test_the_agentless_baseline_migrates_every_machine_reading_each_one_every_interval_of_its_seeding(
    tmp_path: Path,
) -> None:
    machines = [agentless_machine(index) for index in range(2)]
    names = [machine["name"] for machine in machines]
    with start_emulator(agentless_topology_for(2, hours=2.0), speed=0) as asr:
        result = run_agentless_baseline_on(asr, machines, speed=0, poll_seconds=POLL_SECONDS, out_dir=tmp_path)
        jobs = _jobs(asr)
        left = {item_id.rsplit("/", 1)[-1] for item_id in asr.migration_items()}
        accepted = {name: accepted_migration_calls(asr, name) for name in names}
        discovery = {
            name: sum(1 for call in asr.calls.calls() if call.path.lower().endswith(f"/machines/{name}"))
            for name in names
        }

    # Every machine went through every script, ending with stop replication; no migration item is left, and each
    # migration-item operation was accepted exactly once (the scripts' own checks kept them from repeating any).
    for name in names:
        succeeded = {job.scenario for job in jobs if job.target_object_name == name and job.settled == "Succeeded"}
        assert EVERY_STEP <= succeeded, (name, succeeded)
        assert accepted[name] == migration_calls_once_each(), name
    assert not left & set(names)
    assert sorted(result.migrated) == sorted(names)
    assert len(result.csv_files) == len(AGENTLESS_STEPS)

    # From the last enable to the first test migration the operator re-ran the status script every interval, reading
    # every machine's discovered server and its migration item each time: two requests per machine per interval.
    enabled = max(job.start for job in jobs if job.scenario == "EnableMigration")
    tested = min(job.start for job in jobs if job.scenario == "TestMigrate")
    intervals = int((tested - enabled) // POLL_SECONDS)
    assert intervals > 60
    assert result.requests_per_machine is not None
    assert min(result.requests_per_machine) >= 2 * intervals
    assert min(discovery.values()) >= intervals
    assert result.late_polls == 0
    assert result.sim_seconds >= tested - enabled


def test_the_start_script_does_not_check_for_replication_and_refuses_a_machine_that_is_not_agentless(
    tmp_path: Path,
) -> None:
    machine = agentless_machine(0)
    with start_emulator(agentless_topology_for(1, hours=2.0), speed=0) as asr:
        first = run_agentless_baseline_on(
            asr, [machine], speed=0, poll_seconds=POLL_SECONDS, out_dir=tmp_path, steps=["start_replication"]
        )
        again = run_agentless_baseline_on(
            asr, [machine], speed=0, poll_seconds=POLL_SECONDS, out_dir=tmp_path, steps=["start_replication"]
        )
        creates = asr.calls.count("ReplicationMigrationItems_Create", machine["name"])
        accepted = asr.calls.count("ReplicationMigrationItems_Create", machine["name"], accepted_only=True)
        try:
            run_agentless_baseline_on(asr, [fleet_machine(0)], speed=0, out_dir=tmp_path)
        except ValueError as error:
            refused = str(error)
        else:
            refused = ""

    assert first.steps["start_replication"][0]["result"] == "Started"
    # AzMigrate_StartReplication starts replication again on a machine that already replicates: ASR refuses it and
    # the row is marked as an exception, as the script's catch marks it.
    row = again.steps["start_replication"][0]
    assert row["result"] == "Exception" and "EXCEPTION PROCESSING ITEM" in row["message"], row
    assert (creates, accepted) == (2, 1)
    assert "vm00" in refused and "bench.baseline_scripts" in refused
