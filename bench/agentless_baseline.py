"""The agentless baseline: Azure Migrate's "migrate VMware VMs at scale (agentless)" scripts, re-enacted.

``bench.baseline_scripts`` re-enacts the Site Recovery scripts, which know protected items only. Agentless VMware
machines (provider ``VMwareCbt``) migrate through migration items, and people script them with Az.Migrate: the
``AzMigrate_*.ps1`` set of ``Azure/azure-docs-powershell-samples`` (``azure-migrate/migrate-at-scale-vmware-agentles``)
runs over a CSV of machines, one script after another. This module plays that operator against the Site Recovery
emulator through the real SDK, with the same operator, clock, CSVs and counting as ``bench.baseline_scripts``
(:class:`AgentlessOperator` is its :class:`~bench.baseline_scripts.Operator` with the agentless scripts' rows):

- **Steps** (the scripts): start replication (``AzMigrate_StartReplication``), replication status
  (``AzMigrate_UpdateReplicationStatus``), test migration (``AzMigrate_StartTestMigration``), clean up the test
  migration (``AzMigrate_CleanUpTestMigration``), migration (``AzMigrate_StartMigration``) and stop replication
  (``AzMigrate_StopReplication``, which completes an agentless migration: there is no commit). The step names are
  the protected-item baseline's, so its result reads the same (:attr:`BaselineResult.migrated`).
- **Per row, what the scripts do.** Every script but the first finds the replicating server as
  ``AzMigrate_Shared.GetReplicationServer`` does: the discovered server (``Get-AzMigrateDiscoveredServer``), then
  its migration item (``Get-AzMigrateServerReplication -DiscoveredMachineId``, which first reads the site, the
  VMwareV2 fabric and its container). Start replication reads the discovered server and calls
  ``New-AzMigrateServerReplication`` (the vCenter's run-as account, the container mapping and its log storage
  account, the enable, one read of its job) without checking whether the machine already replicates. Test
  migration starts only on a machine ``Replicating`` with no test migration and ``TestMigrate`` allowed; the
  cleanup only after a succeeded test migration; migration only on a ``Replicating`` machine. The Az.Migrate
  cmdlets that act on an item read it first (``Start-AzMigrateTestMigration``, ``Start-AzMigrateTestMigrationCleanup``,
  ``Start-AzMigrateServerMigration``; the test migration takes the item's ``lastRecoveryPointId``), then read the
  job they started once; ``Remove-AzMigrateServerReplication`` deletes and reads its job. A row that throws is
  marked ``EXCEPTION PROCESSING ITEM`` and the step goes on.
- **Request bodies** are the product's (``migration.scenarios``: the enable's disks, run-as account and log storage
  account found from discovery and the mapping as ``migration.vmware_discovery`` finds them), so both sides ask ASR
  for the same operations.

Where it departs from the scripts, in the baseline's favour as ``bench.baseline_scripts`` does:

- **Polling.** The scripts never wait for a job: the operator re-runs ``AzMigrate_UpdateReplicationStatus`` until
  every row shows what the next script needs. Here the status step reads every row once per interval until every
  item is seeded (``Replicating``), and the other steps poll each row's job at that interval until it ends before
  taking the next row. Interval ``poll_seconds`` (default 30 simulated seconds), fixed, from start to start.
- **Look-ups.** ``Get-AzMigrateDiscoveredServer`` lists the appliance's machines with a display-name filter and
  ``Get-AzMigrateServerReplication`` reads the site, the migrate project's solution, every fabric and the fabric's
  containers for every row; here the discovered server is one GET by name and the site, fabric and container one
  GET each per script run (the migrate project, which the emulator does not serve, not at all). The status script
  also lists the vault's jobs of the last 60 days and reads the newest one for every row: not re-enacted.
- **Names.** A migration item is named after its discovered machine, as Az.Migrate names it; the plans here use
  that name, so requests per machine are counted the same way for both sides (``bench.wave_scale.machine_requests``,
  which counts the discovered machine's reads too).
- **Not re-enacted:** ``AzMigrate_UpdateMachineProperties`` (target settings the enable already sends), assessments
  and tags, the per-row subscription switch (every row must name the vault the run is given), the log files.

Time: as in ``bench.baseline_scripts`` (``speed=0``: a frozen clock the runner moves by each wait).

Use: :func:`run_agentless_baseline_on` in process. There is no child-process runner to kill mid-run:
``bench.baseline_loss`` re-runs the protected-item scripts and audits protected-item operations only.

Run: ``python -m bench.agentless_baseline [--machines 20] [--hours 6] [--poll-seconds 30]``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.core.rest import HttpRequest

from bench.baseline_scripts import (
    DEFAULT_POLL_SECONDS,
    BaselineResult,
    Json,
    Operator,
    Row,
    Step,
    _get,
    _RowError,
    parse_machines,
    run_baseline,
)
from bench.migration_cost import DISK_GB, bandwidth_for
from emulators.siterecovery import EmulatorHandle, start_emulator
from migration.arm_ids import parse_resource_id
from migration.asr import OFFAZURE_API_VERSION
from migration.machine import Machine
from migration.scenarios import ItemAddress, VMwareCbtScenario, scenario_for
from migration.source_kinds import Provider
from migration.vmware_discovery import (
    VMwareSource,
    disks_of,
    log_storage_of_mapping,
    run_as_account_of_vcenter,
    vcenter_id_of,
)
from tests.support.machines import agentless_machine, fleet_topology, with_agentless_fleet

AGENTLESS_STEPS: tuple[Step, ...] = (
    Step("start_replication", "AzMigrate_StartReplication", ("EnableMigration",)),
    Step("replication_status", "AzMigrate_UpdateReplicationStatus", ()),
    Step("test_failover", "AzMigrate_StartTestMigration", ("TestMigrate",)),
    Step("cleanup_test_failover", "AzMigrate_CleanUpTestMigration", ("TestMigrateCleanup",)),
    Step("failover", "AzMigrate_StartMigration", ("Migrate",)),
    Step("complete_migration", "AzMigrate_StopReplication", ("DisableMigration",)),
)
# migrationState values (SDK enum MigrationState) after which the status script has nothing more to wait for.
SEEDED = "replicating"
FAILED_STATES = frozenset({"enablemigrationfailed", "initialseedingfailed"})


def _properties(body: Json | None) -> Json:
    properties: Json = (body or {}).get("properties") or {}
    return properties


def _details(body: Json | None) -> Json:
    details: Json = _properties(body).get("providerSpecificDetails") or {}
    return details


class AgentlessOperator(Operator):
    """The person at the console, running the Az.Migrate scripts: the same clock, polling and CSVs as
    :class:`~bench.baseline_scripts.Operator`, with the agentless scripts' rows."""

    # -- Azure Migrate discovery (Microsoft.OffAzure) ---------------------------------------------------------
    def _discovery(self, resource_id: str) -> Json | None:
        """A discovery resource (site, machine, vCenter) through the SDK client's pipeline; None when absent."""
        parsed = parse_resource_id(resource_id)
        request = HttpRequest("GET", f"{self.base_url}{parsed}?api-version={OFFAZURE_API_VERSION}")
        response = self.client.send_request(request)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body: Json = response.json()
        return body

    def _discovered_server(self, machine: Machine, row: Row) -> Json | None:
        """``Get-AzMigrateDiscoveredServer``: the machine the appliance discovered, by its id here."""
        machine_id = machine.asr.discovered_machine_id
        if machine_id is None:
            raise _RowError("the row names no discovered machine")
        found = self._discovery(machine_id)
        row.protectable_status = "Discovered" if found is not None else "NotDiscovered"
        return found

    # -- the look-up every script but the first makes --------------------------------------------------------
    def _item_address(self, machine: Machine) -> ItemAddress:
        return scenario_for(machine).protected_item(machine)

    def _read_item(self, machine: Machine) -> Json:
        ops = self.client.replication_migration_items
        return _get(ops.get, *self._item_args(self._item_address(machine)))

    def _find_item(self, machine: Machine, looked_up: set[tuple[str, str]], row: Row) -> Json | None:
        """``GetReplicationServer``: the discovered server, then (site, fabric and container once per run) its
        migration item; None when the machine is not discovered or does not replicate."""
        vault, asr = machine.vault, machine.asr
        key = (asr.fabric.lower(), asr.protection_container.lower())
        if key not in looked_up:
            machine_id = asr.discovered_machine_id or ""
            self._discovery(machine_id.rsplit("/machines/", 1)[0])  # the site (its migrate project)
            _get(self.client.replication_fabrics.get, vault.resource_group, vault.name, asr.fabric)
            _get(
                self.client.replication_protection_containers.get,
                vault.resource_group,
                vault.name,
                asr.fabric,
                asr.protection_container,
            )
            looked_up.add(key)
        if self._discovered_server(machine, row) is None:
            return None
        try:
            body = self._read_item(machine)
        except ResourceNotFoundError:
            row.protectable_status = "NotReplicating"
            return None
        properties = _properties(body)
        row.protection_state = str(properties.get("migrationState") or "")
        row.protection_description = str(properties.get("migrationStateDescription") or "")
        return body

    # -- the scripts -----------------------------------------------------------------------------------------
    def _row(self, step: Step, machine: Machine, row: Row, looked_up: set[tuple[str, str]]) -> None:
        ops = self.client.replication_migration_items
        scenario = scenario_for(machine)
        args = self._item_args(self._item_address(machine))
        if step.name == "start_replication":
            self._start_replication(machine, row)
            return
        item = self._find_item(machine, looked_up, row)
        if item is None:
            row.result = "NotReplicating" if row.protectable_status != "NotDiscovered" else "NotDiscovered"
            return
        properties = _properties(item)
        state = row.protection_state.lower()
        test_state = str(properties.get("testMigrateState") or "None").lower()
        allowed = sorted(str(op) for op in properties.get("allowedOperations") or [])
        shown = ", ".join(allowed) or "none"
        begin: Callable[..., Any]
        if step.name == "complete_migration":  # Remove-AzMigrateServerReplication: no check, no read
            row.disable_job_id = self._start(machine, ops.begin_delete, *args)
            row.disable_job_state = self._follow(machine, row.disable_job_id)
            row.result = row.disable_job_state
            return
        if step.name == "test_failover":
            ready = state == SEEDED and test_state == "none" and "TestMigrate" in allowed
            refused = f"TestMigrate not possible ({row.protection_state}, test {test_state}; allowed: {shown})"
        elif step.name == "cleanup_test_failover":
            ready = test_state == "testmigrationsucceeded" and "TestMigrateCleanup" in allowed
            refused = f"TestMigrateCleanup not possible (test {test_state}; allowed: {shown})"
        else:  # failover
            ready = state == SEEDED and "Migrate" in allowed
            refused = f"Migrate not possible ({row.protection_state}; allowed: {shown})"
        if not ready:
            row.result, row.message = "NotAllowed", refused
            return
        current = self._read_item(machine)  # the cmdlet reads the item before it acts
        if step.name == "test_failover":
            point = _details(current).get("lastRecoveryPointId")
            begin, body = ops.begin_test_migrate, scenario.test_failover(machine, recovery_point_id=point)
        elif step.name == "cleanup_test_failover":
            begin, body = ops.begin_test_migrate_cleanup, scenario.test_failover_cleanup(machine)
        else:
            begin, body = ops.begin_migrate, scenario.unplanned_failover(machine)
        row.job_id = self._start(machine, begin, *args, body)
        row.job_state = self._follow(machine, row.job_id)
        row.result = row.job_state

    def _start_replication(self, machine: Machine, row: Row) -> None:
        """``AzMigrate_StartReplication``: the discovered server, then ``New-AzMigrateServerReplication``."""
        discovered = self._discovered_server(machine, row)
        if discovered is None:
            row.result = "NotDiscovered"
            return
        run_as = None
        vcenter = vcenter_id_of(discovered)
        if machine.replication.run_as_account_id is None and vcenter is not None:
            run_as = run_as_account_of_vcenter(self._discovery(vcenter))
        mapping, log_storage = machine.replication.container_mapping, None
        if mapping:  # the cmdlet resolves the policy's mapping; its log storage account when the row names none
            found = _get(
                self.client.replication_protection_container_mappings.get,
                machine.vault.resource_group,
                machine.vault.name,
                machine.asr.fabric,
                machine.asr.protection_container,
                mapping,
            )
            log_storage = log_storage_of_mapping(found)
        source = VMwareSource(str(machine.asr.discovered_machine_id), disks_of(discovered), run_as, log_storage)
        scenario = scenario_for(machine)
        if not isinstance(scenario, VMwareCbtScenario):  # run_agentless_baseline lets no other machine in
            raise _RowError("not an agentless VMware machine")
        body = scenario.enable_protection(machine, source=source)
        ops = self.client.replication_migration_items
        row.job_id = self._start(machine, ops.begin_create, *self._item_args(self._item_address(machine)), body)
        row.job_state = self._job_state(machine, row.job_id)  # the cmdlet returns the job it read once
        row.result = "Started"

    def _status_result(self, item: Any, row: Row) -> tuple[str, bool]:
        """``AzMigrate_UpdateReplicationStatus``'s word for one row's migration item: done waiting once seeded
        (``Replicating``) or failed."""
        state = row.protection_state.lower()
        if item is None:
            return "NotReplicating", True
        if state == SEEDED:
            return "Replicating", True
        if state in FAILED_STATES:
            return row.protection_state, True
        return "InitialSeeding", False


def run_agentless_baseline(
    base_url: str,
    subscription_id: str,
    resource_group: str,
    vault: str,
    machines: Sequence[Json | Machine],
    *,
    speed: float,
    **options: Any,
) -> BaselineResult:
    """Run the agentless scripts' steps (all, or ``steps`` by name) over agentless ``machines`` (plan JSON), as
    ``bench.baseline_scripts.run_baseline`` runs the Site Recovery ones (the same options)."""
    parsed = parse_machines(machines, subscription_id, resource_group, vault)
    not_agentless = [m.name for m in parsed if scenario_for(m).provider is not Provider.VMWARE_CBT]
    if not_agentless:
        raise ValueError(f"not agentless VMware machines (use bench.baseline_scripts): {', '.join(not_agentless)}")
    return run_baseline(
        base_url,
        subscription_id,
        resource_group,
        vault,
        parsed,
        speed=speed,
        script_set=(AgentlessOperator, AGENTLESS_STEPS),
        **options,
    )


def run_agentless_baseline_on(
    handle: EmulatorHandle, machines: Sequence[Json | Machine], *, speed: float, **options: Any
) -> BaselineResult:
    """:func:`run_agentless_baseline` against an emulator in this process (its vault, and its call log)."""
    return run_agentless_baseline(
        handle.base_url,
        handle.subscription_id,
        handle.resource_group,
        handle.vault_name,
        machines,
        speed=speed,
        handle=handle,
        **options,
    )


def agentless_topology_for(machines: int, hours: float, seed: int | None = None) -> Json:
    """The example topology with ``machines`` agentless machines, one ``DISK_GB`` disk each seeding in ``hours``."""
    topology = with_agentless_fleet(fleet_topology(0), machines, disk_gb=DISK_GB, bandwidth_mbps=bandwidth_for(hours))
    if seed is not None:
        topology["seed"] = seed
    return topology


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.agentless_baseline", description=__doc__.split("\n")[0])
    parser.add_argument("--machines", type=int, default=20)
    parser.add_argument("--hours", type=float, default=6.0, help="simulated initial seeding time")
    parser.add_argument("--poll-seconds", type=float, default=DEFAULT_POLL_SECONDS)
    parser.add_argument("--out", type=Path, default=None, help="keep the output CSVs in this folder")
    args = parser.parse_args(argv)
    machines = [agentless_machine(index) for index in range(args.machines)]
    print(
        f"agentless baseline (Az.Migrate at-scale scripts, re-enacted): {args.machines} machines, initial seeding "
        f"~{args.hours:g} h simulated, poll every {args.poll_seconds:g} s, frozen clock moved by the runner"
    )
    with tempfile.TemporaryDirectory() as scratch:
        with start_emulator(agentless_topology_for(args.machines, args.hours), speed=0) as asr:
            result = run_agentless_baseline_on(
                asr, machines, speed=0, poll_seconds=args.poll_seconds, out_dir=args.out or Path(scratch)
            )
    requests = result.requests_per_machine or [0]
    print(f"  migrated: {len(result.migrated)}/{args.machines}")
    print(
        f"  ARM requests per machine: mean {result.mean_requests:.1f}  max {result.max_requests}  "
        f"min {min(requests)}   (the product's target: <= 60)"
    )
    print(f"  simulated duration: {result.sim_hours:.2f} h   wall: {result.wall_seconds:.1f} s")
    print(f"  polling rounds: {result.polls} ({result.late_polls} started later than the interval)")
    print("  by operation (mean per machine):")
    for operation, count in sorted(result.by_operation.items(), key=lambda pair: -pair[1]):
        print(f"    {operation:56s} {count / args.machines:7.1f}")
    return 0 if len(result.migrated) == args.machines else 1


if __name__ == "__main__":
    raise SystemExit(main())
