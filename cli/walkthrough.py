"""A guided migration of one machine on the local Site Recovery emulator, with the real SDK.

``python -m cli.walkthrough --provider InMageRcm`` starts ``emulators/siterecovery`` in-process
(or uses ``--base-url`` of a running one) and walks one protected item through the runbook:
enable replication, initial replication, test failover, cleanup, unplanned failover, commit,
complete migration (disable protection with ``MigrationComplete``) and, for A2A, protection of
the migrated VM toward a secondary region. Every step is a ``begin_*(...).result()`` call of
``SiteRecoveryManagementClient`` over HTTP.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient, models
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.client import emulator_client
from emulators.siterecovery.server import DEFAULT_TOPOLOGY

SUB = "00000000-1111-2222-3333-444444444444"
RG = "rg-migration"
VAULT = "vault-migration"
LANDING_RG = f"/subscriptions/{SUB}/resourceGroups/rg-landing"
LANDING_VNET = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-landing"


@dataclass(frozen=True)
class Target:
    """Where the machine lives in examples/topology.yaml and how to protect it."""

    provider: str
    fabric: str
    container: str
    item: str
    label: str


TARGETS = {
    "A2A": Target("A2A", "asr-a2a-westeurope", "asr-a2a-westeurope-container", "app01", "Azure VM app01"),
    "InMageRcm": Target("InMageRcm", "vmware-appliance", "vmware-container", "rpi-web01", "VMware VM web01"),
    "HyperVReplicaAzure": Target(
        "HyperVReplicaAzure",
        "hyperv-site",
        "hyperv-cloud",
        "20000000-0000-0000-0000-000000000001",
        "Hyper-V VM hv-file01",
    ),
}


def _enable_input(client: SiteRecoveryManagementClient, t: Target) -> models.EnableProtectionInput:
    policy_name = {"A2A": "a2a-policy", "InMageRcm": "rcm-policy", "HyperVReplicaAzure": "hyperv-policy"}[t.provider]
    policy = client.replication_policies.get(RG, VAULT, policy_name)
    details: models.EnableProtectionProviderSpecificInput
    protectable_id = None
    if t.provider == "A2A":
        mapping = client.replication_protection_container_mappings.get(RG, VAULT, t.fabric, t.container, "weu-to-neu")
        assert mapping.properties is not None
        details = models.A2AEnableProtectionInput(
            fabric_object_id=f"/subscriptions/{SUB}/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachines/app01",
            recovery_container_id=mapping.properties.target_protection_container_id,
            recovery_resource_group_id=f"/subscriptions/{SUB}/resourceGroups/rg-apps-neu",
        )
    elif t.provider == "InMageRcm":
        details = models.InMageRcmEnableProtectionInput(
            fabric_discovery_machine_id=f"/subscriptions/{SUB}/resourceGroups/rg-migration/providers/"
            "Microsoft.OffAzure/VMwareSites/vmware-site/machines/web01",
            target_resource_group_id=LANDING_RG,
            process_server_id="7d2b9ee7-59fd-4b37-8c7c-2f8a5f5c1b11",
            disks_default=models.InMageRcmDisksDefaultInput(
                log_storage_account_id=f"/subscriptions/{SUB}/resourceGroups/rg-migration/providers/"
                "Microsoft.Storage/storageAccounts/asrcache",
                disk_type="Standard_LRS",
            ),
            target_network_id=LANDING_VNET,
            target_vm_name="web01",
        )
    else:
        container = client.replication_protection_containers.get(RG, VAULT, t.fabric, t.container)
        protectable_id = f"{container.id}/replicationProtectableItems/{t.item}"
        details = models.HyperVReplicaAzureEnableProtectionInput(
            target_azure_v2_resource_group_id=LANDING_RG, target_azure_network_id=LANDING_VNET
        )
    return models.EnableProtectionInput(
        properties=models.EnableProtectionInputProperties(
            policy_id=policy.id, protectable_item_id=protectable_id, provider_specific_details=details
        )
    )


def _progress(item: models.ReplicationProtectedItem) -> int:
    assert item.properties is not None
    details: Any = item.properties.provider_specific_details
    if isinstance(details, models.A2AReplicationDetails):
        return details.monitoring_percentage_completion or 0
    if isinstance(details, models.InMageRcmReplicationDetails):
        return details.initial_replication_progress_percentage or 0
    if isinstance(details, models.HyperVReplicaAzureReplicationDetails) and details.initial_replication_details:
        return int(details.initial_replication_details.initial_replication_progress_percentage or 0)
    return 0


class Walkthrough:
    def __init__(self, client: SiteRecoveryManagementClient, target: Target, console: Console) -> None:
        self.client = client
        self.t = target
        self.console = console
        self.steps = Table(title=f"Migration of {target.label} ({target.provider})", expand=True)
        for column in ("step", "protectionState", "activeLocation", "allowedOperations"):
            self.steps.add_column(column)

    @property
    def args(self) -> tuple[str, str, str, str, str]:
        return (RG, VAULT, self.t.fabric, self.t.container, self.t.item)

    def record(self, step: str, call: str, item: models.ReplicationProtectedItem | None) -> None:
        props = item.properties if item is not None else None
        self.steps.add_row(
            step,
            (props.protection_state or "") if props else "(removed)",
            (props.active_location or "") if props else "",
            ", ".join(props.allowed_operations or []) if props else "",
        )
        self.console.print(f"[green]done[/green] {step}: [dim]{call}[/dim]")

    def wait_for_replication(self, poll_seconds: float) -> models.ReplicationProtectedItem:
        items = self.client.replication_protected_items
        with Progress(
            TextColumn("initial replication"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=self.console,
        ) as bar:
            task = bar.add_task("replication", total=100)
            while True:
                item = items.get(*self.args)
                bar.update(task, completed=_progress(item))
                assert item.properties is not None
                if item.properties.protection_state == "Protected":
                    return item
                time.sleep(poll_seconds)

    def run(self, poll_seconds: float) -> None:
        items = self.client.replication_protected_items
        t = self.t
        item = items.begin_create(*self.args, _enable_input(self.client, t)).result()
        self.record("enable replication", "replication_protected_items.begin_create", item)
        item = self.wait_for_replication(poll_seconds)
        points = list(self.client.recovery_points.list_by_replication_protected_items(*self.args))
        self.record(f"initial replication ({len(points)} recovery points)", "replication_protected_items.get", item)
        tfo = models.TestFailoverInput(
            properties=models.TestFailoverInputProperties(
                failover_direction="PrimaryToRecovery",
                network_type="VmNetworkAsInput",
                network_id=LANDING_VNET,
                provider_specific_details=_tfo_details(t.provider),
            )
        )
        self.record("test failover", "begin_test_failover", items.begin_test_failover(*self.args, tfo).result())
        cleanup = models.TestFailoverCleanupInput(
            properties=models.TestFailoverCleanupInputProperties(comments="test VM validated")
        )
        self.record(
            "clean up test failover",
            "begin_test_failover_cleanup",
            items.begin_test_failover_cleanup(*self.args, cleanup).result(),
        )
        failover = models.UnplannedFailoverInput(
            properties=models.UnplannedFailoverInputProperties(
                failover_direction="PrimaryToRecovery",
                source_site_operations="Required",
                provider_specific_details=_failover_details(t.provider),
            )
        )
        failed_over = items.begin_unplanned_failover(*self.args, failover).result()
        self.record("unplanned failover", "begin_unplanned_failover", failed_over)
        committed = items.begin_failover_commit(*self.args).result()
        self.record("commit", "begin_failover_commit", committed)
        disable = models.DisableProtectionInput(
            properties=models.DisableProtectionInputProperties(disable_protection_reason="MigrationComplete")
        )
        items.begin_delete(*self.args, disable).result()
        self.record("complete migration", "begin_delete (MigrationComplete)", None)
        if t.provider == "A2A":
            self.protect_again(committed, poll_seconds)

    def protect_again(self, committed: models.ReplicationProtectedItem, poll_seconds: float) -> None:
        """DR after the move: a new A2A item for the migrated VM, northeurope -> swedencentral."""
        assert committed.properties is not None
        details: Any = committed.properties.provider_specific_details
        mapping = self.client.replication_protection_container_mappings.get(
            RG, VAULT, "asr-a2a-northeurope", "asr-a2a-northeurope-container", "neu-to-sdc"
        )
        assert mapping.properties is not None
        policy = self.client.replication_policies.get(RG, VAULT, "a2a-policy")
        body = models.EnableProtectionInput(
            properties=models.EnableProtectionInputProperties(
                policy_id=policy.id,
                provider_specific_details=models.A2AEnableProtectionInput(
                    fabric_object_id=details.recovery_fabric_object_id,
                    recovery_container_id=mapping.properties.target_protection_container_id,
                    recovery_resource_group_id=f"/subscriptions/{SUB}/resourceGroups/rg-apps-sdc",
                ),
            )
        )
        self.t = Target("A2A", "asr-a2a-northeurope", "asr-a2a-northeurope-container", "app01-dr", "app01 (DR)")
        item = self.client.replication_protected_items.begin_create(*self.args, body).result()
        self.record("protect again toward swedencentral", "begin_create (A2A, new region)", item)
        self.record("secondary replication", "replication_protected_items.get", self.wait_for_replication(poll_seconds))


def _tfo_details(provider: str) -> models.TestFailoverProviderSpecificInput:
    if provider == "A2A":
        return models.A2ATestFailoverInput()
    if provider == "InMageRcm":
        return models.InMageRcmTestFailoverInput(network_id=LANDING_VNET)
    return models.HyperVReplicaAzureTestFailoverInput()


def _failover_details(provider: str) -> models.UnplannedFailoverProviderSpecificInput:
    if provider == "A2A":
        return models.A2AUnplannedFailoverInput()
    if provider == "InMageRcm":
        return models.InMageRcmUnplannedFailoverInput(perform_shutdown="true")
    return models.HyperVReplicaAzureUnplannedFailoverInput()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli.walkthrough", description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", choices=sorted(TARGETS), default="InMageRcm")
    parser.add_argument("--speed", type=float, default=3600.0, help="simulated seconds per wall second")
    parser.add_argument("--topology", default=str(DEFAULT_TOPOLOGY))
    parser.add_argument("--base-url", help="use a running emulator instead of starting one")
    args = parser.parse_args(argv)
    console = Console()
    handle: EmulatorHandle | None = None
    base_url = args.base_url
    if base_url is None:
        handle = start_emulator(args.topology, speed=args.speed)
        base_url = handle.base_url
    console.print(
        Panel.fit(
            f"Site Recovery emulator at [bold]{base_url}[/bold] (simulated time x{args.speed:g})\n"
            f"client: SiteRecoveryManagementClient(base_url=..., authentication_policy=SansIOHTTPPolicy())",
            title="ASR migration walkthrough",
        )
    )
    client = emulator_client(base_url, SUB, polling_interval=0.2)
    walk = Walkthrough(client, TARGETS[args.provider], console)
    try:
        walk.run(poll_seconds=0.2)
    except HttpResponseError as exc:
        code = exc.error.code if exc.error is not None else exc.status_code
        console.print(f"[red]failed[/red]: {code}: {exc.message}")
        return 1
    finally:
        if handle is not None:
            handle.stop()
    console.print(walk.steps)
    console.print("[bold green]Migrated.[/bold green]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
