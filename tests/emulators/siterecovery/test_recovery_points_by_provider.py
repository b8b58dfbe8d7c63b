"""Recovery points per provider through the SDK: Hyper-V points carry no ``providerSpecificDetails`` (as the
official example shows, and the SDK has no Hyper-V subtype for them); A2A and InMageRcm points carry their
SDK subtypes."""

from __future__ import annotations

import pytest
import requests
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient, models

from emulators.siterecovery import EmulatorHandle
from tests.emulators.siterecovery.scenario import A2A, HYPERV, RCM_VMWARE, RG, SUB, VAULT, Machine, props
from tests.support.asr_examples import example

EXAMPLE = "RecoveryPoints_ListByReplicationProtectedItems"


def _args(m: Machine) -> tuple[str, str, str, str, str]:
    return (RG, VAULT, m.fabric, m.container, m.item)


def _replicated(emu: EmulatorHandle, client: SiteRecoveryManagementClient, m: Machine) -> None:
    client.replication_protected_items.begin_create(*_args(m), m.enable).result()
    emu.advance_until_idle()


def test_hyperv_points_have_the_examples_properties_and_no_provider_details(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    _replicated(emu, client, HYPERV)
    points = list(client.recovery_points.list_by_replication_protected_items(*_args(HYPERV)))
    assert points
    for point in points:
        assert props(point).provider_specific_details is None
        assert props(point).recovery_point_time is not None
    url = (
        f"{emu.base_url}/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/"
        f"{VAULT}/replicationFabrics/{HYPERV.fabric}/replicationProtectionContainers/{HYPERV.container}/"
        f"replicationProtectedItems/{HYPERV.item}/recoveryPoints?api-version=2025-08-01"
    )
    listed = requests.get(url, timeout=10).json()["value"]
    wanted = {key for point in example(EXAMPLE)["responses"]["200"]["body"]["value"] for key in point["properties"]}
    assert [set(point["properties"]) for point in listed] == [wanted] * len(listed)


@pytest.mark.parametrize(
    ("m", "subtype", "fields"),
    [
        (A2A, models.A2ARecoveryPointDetails, {"recovery_point_sync_type": "PerVmRecoveryPoint"}),
        (RCM_VMWARE, models.InMageRcmRecoveryPointDetails, {"is_multi_vm_sync_point": "false"}),
    ],
    ids=["A2A", "InMageRcm"],
)
def test_a2a_and_inmage_rcm_points_deserialize_to_their_sdk_subtypes(
    emu: EmulatorHandle,
    client: SiteRecoveryManagementClient,
    m: Machine,
    subtype: type[models.ProviderSpecificRecoveryPointDetails],
    fields: dict[str, str],
) -> None:
    _replicated(emu, client, m)
    points = list(client.recovery_points.list_by_replication_protected_items(*_args(m)))
    assert points
    for point in points:
        details = props(point).provider_specific_details
        assert isinstance(details, subtype)
        assert details.instance_type == m.provider
        assert {name: getattr(details, name) for name in fields} == fields
        if isinstance(details, models.A2ARecoveryPointDetails):  # the point covers every disk of the VM
            assert details.disks is not None and len(details.disks) == 2
    single = client.recovery_points.get(*_args(m), points[0].name or "")
    assert isinstance(props(single).provider_specific_details, subtype)
