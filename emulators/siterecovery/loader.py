"""Builds the in-memory vaults from a validated topology."""

from __future__ import annotations

from emulators.siterecovery import lifecycle
from emulators.siterecovery.state import (
    AzureVm,
    Container,
    ContainerMapping,
    DiscoveredDisk,
    DiscoveredMachine,
    Fabric,
    Machine,
    Network,
    NetworkMapping,
    Policy,
    ProcessServer,
    RunAsAccount,
    Store,
    Vault,
    VCenter,
    VMwareSite,
)
from emulators.siterecovery.topology import (
    FabricSpec,
    MachineKind,
    MachineSpec,
    Topology,
    VaultSpec,
    VMwareSiteSpec,
)

_DEFAULT_KIND: dict[str, MachineKind] = {
    "Azure": "AzureVM",
    "InMageRcm": "VMware",
    "HyperVSite": "HyperV",
    "VMwareV2": "VMware",
}


def _vmware_sites(vault: Vault, vspec: VaultSpec) -> None:
    """The vault's Azure Migrate VMware sites: their run-as accounts, vCenters and discovered machines."""
    for sspec in vspec.vmware_sites:
        site = VMwareSite(
            vspec.subscription_id,
            sspec.resource_group or vspec.resource_group,
            sspec.name,
            location=vspec.location,
            appliance_name=sspec.appliance_name or sspec.name,
            migrate_project=sspec.migrate_project,
        )
        _site_credentials(site, sspec)
        first_v_center = next(iter(site.v_centers.values()))
        for mspec in sspec.machines:
            disks = [
                DiscoveredDisk(d.id, d.name or f"{mspec.name}_disk{i}", d.size_gb, d.is_os_disk)
                for i, d in enumerate(mspec.disks)
            ]
            default_os = (
                "Microsoft Windows Server 2019 (64-bit)" if mspec.os_type == "Windows" else "Ubuntu Linux (64-bit)"
            )
            site.machines[mspec.name.lower()] = DiscoveredMachine(
                site,
                mspec.name,
                mspec.display_name or mspec.name,
                mspec.os_type,
                mspec.os_name or default_os,
                mspec.firmware_type,
                disks,
                mspec.bandwidth_mbps,
                v_center=site.v_centers[mspec.v_center.lower()] if mspec.v_center else first_v_center,
                cores=mspec.cores,
                memory_mb=mspec.memory_mb,
                power_status=mspec.power_status,
            )
        vault.vmware_sites[sspec.name.lower()] = site


def _site_credentials(site: VMwareSite, spec: VMwareSiteSpec) -> None:
    """Run-as accounts, then the vCenters reached with them (default: the site's first VMwareFabric account)."""
    for aspec in spec.declared_run_as_accounts():
        site.run_as_accounts[aspec.name.lower()] = RunAsAccount(
            site, aspec.name, aspec.display_name or aspec.name, aspec.credential_type
        )
    fabric_account = next(a for a in site.run_as_accounts.values() if a.credential_type == "VMwareFabric")
    for vspec in spec.declared_v_centers():
        account = site.run_as_accounts[vspec.run_as_account.lower()] if vspec.run_as_account else fabric_account
        site.v_centers[vspec.name.lower()] = VCenter(
            site, vspec.name, vspec.fqdn or f"{vspec.name}.contoso.local", vspec.port, vspec.version, account
        )


def _machine(spec: MachineSpec, fabric_kind: str, location: str | None) -> Machine:
    return Machine(
        name=spec.name,
        friendly_name=spec.friendly_name or spec.name,
        kind=spec.kind or _DEFAULT_KIND[fabric_kind],
        os_type=spec.os_type,
        disks_gb=list(spec.disks_gb),
        bandwidth_mbps=spec.bandwidth_mbps,
        vm_id=spec.vm_id,
        location=location,
    )


def _process_servers(spec: FabricSpec) -> dict[str, ProcessServer]:
    servers = {}
    for index, ps in enumerate(spec.declared_process_servers()):
        servers[ps.id.lower()] = ProcessServer(
            id=ps.id,
            name=ps.name or f"{spec.name}-ps{index + 1}",
            index=index,
            fqdn=ps.fqdn,
            ip_addresses=tuple(ps.ip_addresses) if ps.ip_addresses is not None else None,
            version=ps.version,
            health=ps.health,
            health_errors=tuple(e.model_dump(by_alias=True, exclude_none=True) for e in ps.health_errors),
        )
    return servers


def populate(store: Store, topology: Topology) -> None:
    for vspec in topology.vaults:
        vault = Vault(store, vspec.subscription_id, vspec.resource_group, vspec.name, vspec.location)
        store.vaults[f"{vspec.subscription_id}/{vspec.resource_group}/{vspec.name}".lower()] = vault
        _vmware_sites(vault, vspec)
        for fspec in vspec.fabrics:
            fabric = Fabric(
                vault,
                fspec.name,
                fspec.friendly_name or fspec.name,
                fspec.kind,
                fspec.location,
                store.new_guid(),
            )
            fabric.process_servers = _process_servers(fspec)
            if fspec.vmware_site is not None:
                fabric.vmware_site = vault.vmware_sites[fspec.vmware_site.lower()]
            vault.fabrics[fspec.name.lower()] = fabric
            for nspec in fspec.networks:
                fabric.networks[nspec.name.lower()] = Network(
                    nspec.name, nspec.friendly_name or nspec.name, nspec.azure_network_id
                )
            for cspec in fspec.containers:
                container = Container(cspec.name, cspec.friendly_name or cspec.name, fabric)
                fabric.containers[cspec.name.lower()] = container
                for mspec in cspec.machines:
                    machine = _machine(mspec, fspec.kind, fspec.location)
                    container.machines[mspec.name.lower()] = machine
                    if fspec.kind == "Azure" and machine.vm_id and fspec.location:
                        # an A2A source VM sits in its region's first network (its NIC's subnet: default)
                        network = next((n.azure_network_id for n in fspec.networks if n.azure_network_id), None)
                        store.azure_vms[machine.vm_id.lower()] = AzureVm(
                            machine.vm_id, machine.name, fspec.location, machine, network_id=network
                        )
        for pspec in vspec.policies:
            vault.policies[pspec.name.lower()] = Policy(
                vault,
                pspec.name,
                pspec.provider,
                pspec.recovery_point_history_minutes,
                pspec.app_consistent_frequency_minutes,
                pspec.crash_consistent_frequency_minutes,
            )
        for mspec2 in vspec.container_mappings:
            src = vault.fabrics[mspec2.fabric.lower()].containers[mspec2.container.lower()]
            target = None
            if mspec2.target_fabric and mspec2.target_container:
                target = vault.fabrics[mspec2.target_fabric.lower()].containers[mspec2.target_container.lower()]
            mapping = ContainerMapping(
                mspec2.name, src, vault.policies[mspec2.policy.lower()], target, mspec2.storage_account_id
            )
            vault.mappings[f"{src.id.lower()}|{mspec2.name.lower()}"] = mapping
        for nmspec in vspec.network_mappings:
            fab = vault.fabrics[nmspec.fabric.lower()]
            rec = vault.fabrics.get(nmspec.recovery_fabric.lower()) if nmspec.recovery_fabric else None
            vault.network_mappings.append(
                NetworkMapping(nmspec.name, fab, fab.networks[nmspec.network.lower()], rec, nmspec.recovery_network_id)
            )
        for ispec in vspec.protected_items:
            container = vault.fabrics[ispec.fabric.lower()].containers[ispec.container.lower()]
            mapping2 = vault.mapping(container, ispec.mapping)
            assert mapping2 is not None
            lifecycle.seed_item(
                vault, container, ispec.name, container.machines[ispec.machine.lower()], mapping2, ispec.state
            )
