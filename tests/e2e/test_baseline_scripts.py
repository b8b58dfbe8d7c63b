"""The at-scale scripts' baseline (``bench.baseline_scripts``): it migrates, it polls at a fixed interval, and a kill
mid-step leaves ASR operations its files know nothing of.

The emulator's clock is frozen and the baseline moves it by each wait (``speed=0``), so every figure here is counted
in simulated time, whatever the speed of the machine running the test.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.baseline_loss import assess_loss
from bench.baseline_scripts import STEPS, kill_baseline, run_baseline_on, start_baseline_process
from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.jobs import Job
from tests.support.machines import example_plan, fleet_machine, fleet_topology

POLL_SECONDS = 30.0
EVERY_STEP = {"EnableDr", "TestFailover", "TestFailoverCleanup", "UnplannedFailover", "CommitFailover", "DisableDr"}


def _machines(fleet: int, *mixed: str) -> list[dict[str, Any]]:
    plan = example_plan("mixed-wave.yaml")
    chosen = [plan.machine(name).model_dump(by_alias=True, mode="json", exclude_none=True) for name in mixed]
    return [fleet_machine(index) for index in range(fleet)] + chosen


def _jobs(asr: EmulatorHandle) -> list[Job]:
    with asr.store.lock:
        asr.store.settle()
        return [job for vault in asr.store.vaults.values() for job in vault.jobs.values()]


def _of(jobs: list[Job], item: str) -> list[Job]:
    return [job for job in jobs if job.resource_id.lower().endswith(f"/replicationprotecteditems/{item.lower()}")]


def test_the_baseline_migrates_every_machine_reading_each_one_every_interval_of_its_replication(
    tmp_path: Path,
) -> None:
    machines = _machines(2, "hv-file01", "app01")  # InMageRcm, Hyper-V and A2A bodies, from the product's builders
    names = [machine["name"] for machine in machines]
    with start_emulator(fleet_topology(2, disks_gb=[128]), speed=0) as asr:
        result = run_baseline_on(asr, machines, speed=0, poll_seconds=POLL_SECONDS, out_dir=tmp_path)
        jobs = _jobs(asr)
        left = {state["name"] for state in asr.items()}

    # Every machine went through every step, ending with commit and disable replication; no item is left.
    for name in names:
        succeeded = {job.scenario for job in _of(jobs, name) if job.settled == "Succeeded"}
        assert EVERY_STEP <= succeeded, (name, succeeded)
    assert not left & set(names)
    assert sorted(result.migrated) == sorted(names)
    assert len(result.csv_files) == len(STEPS)

    # From the last enable to the first test failover the operator re-ran the status script every interval, reading
    # every item each time: at least one request per machine per interval of the replication, far above 60.
    enabled = max(job.start for job in jobs if job.scenario == "EnableDr")
    tested = min(job.start for job in jobs if job.scenario == "TestFailover")
    intervals = int((tested - enabled) // POLL_SECONDS)
    assert intervals > 60
    assert result.requests_per_machine is not None
    assert min(result.requests_per_machine) >= intervals
    assert result.late_polls == 0
    assert result.sim_seconds >= tested - enabled


def test_killed_in_the_failover_step_the_baseline_has_no_record_of_a_failover_it_started(tmp_path: Path) -> None:
    machines = _machines(3)
    with start_emulator(fleet_topology(3), speed=0) as asr:
        # Each failover request waits a wall second at ARM's front door: once ASR has accepted the first one, the
        # step still has two rows to go, so the kill below lands before the step could write its CSV.
        asr.add_fault({"kind": "latency", "operation": "ReplicationProtectedItems_UnplannedFailover", "ms": 1000})
        process = start_baseline_process(
            asr.base_url,
            asr.subscription_id,
            asr.resource_group,
            asr.vault_name,
            machines,
            speed=0,
            poll_seconds=POLL_SECONDS,
            out_dir=tmp_path,
        )
        try:
            deadline = time.monotonic() + 120  # only guards against a hang
            while asr.calls.count("ReplicationProtectedItems_UnplannedFailover", accepted_only=True) == 0:
                assert process.poll() is None, (tmp_path / "baseline-stderr.txt").read_text()
                assert time.monotonic() < deadline, "the baseline never reached its failover step"
                time.sleep(0.005)
        finally:
            kill_baseline(process)
        loss = assess_loss(asr, machines, tmp_path, speed=0, poll_seconds=POLL_SECONDS)

    assert loss.step == "failover"
    assert loss.completed_steps == ["start_replication", "replication_status", "test_failover", "cleanup_test_failover"]
    assert "UnplannedFailover" in loss.unrecorded.get("vm00", []), loss.describe()
    assert loss.unrecorded_count >= 1
    # Re-running the step cannot recover it: the script's allowedOperations check refuses the machine that failed
    # over already, and its job id stays on no file.
    assert loss.rerun is not None
    assert "vm00" in loss.rerun.refused, loss.describe()
    assert "vm00" in loss.rerun.still_unrecorded
    assert loss.rerun.requests > 0
    assert "vm00" in loss.describe()
