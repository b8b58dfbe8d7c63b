"""Recovery plans, paged and filtered lists, and durations derived from the topology."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.client import emulator_client
from emulators.siterecovery.topology import load_topology
from tests.emulators.siterecovery.conftest import TOPOLOGY
from tests.emulators.siterecovery.scenario import (
    HYPERV,
    RCM_PHYSICAL,
    RCM_VMWARE,
    RG,
    VAULT,
    VAULT_ID,
    Machine,
    _hyperv,
    progress,
    props,
    tfo_input,
)

HV_APP = _hyperv("20000000-0000-0000-0000-000000000002", "hv-app01")


def _args(m: Machine) -> tuple[str, str, str, str, str]:
    return (RG, VAULT, m.fabric, m.container, m.item)


def _enable_all(emu: EmulatorHandle, client: SiteRecoveryManagementClient, machines: list[Machine]) -> None:
    for m in machines:
        client.replication_protected_items.begin_create(*_args(m), m.enable).result()
    emu.advance_until_idle()


def test_recovery_plan_runbook(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _enable_all(emu, client, [HYPERV, HV_APP])
    item_ids = [client.replication_protected_items.get(*_args(m)).id for m in (HYPERV, HV_APP)]
    plans = client.replication_recovery_plans
    plan = plans.begin_create(
        RG,
        VAULT,
        "wave1",
        {
            "properties": {
                "primaryFabricId": f"{VAULT_ID}/replicationFabrics/hyperv-site",
                "recoveryFabricId": "Microsoft Azure",
                "failoverDeploymentModel": "ResourceManager",
                "groups": [
                    {"groupType": "Boot", "replicationProtectedItems": [{"id": item_ids[0]}]},
                    {"groupType": "Boot", "replicationProtectedItems": [{"id": item_ids[1]}]},
                ],
            }
        },
    ).result()
    assert props(plan).allowed_operations == ["PlannedFailover", "UnplannedFailover", "TestFailover"]
    assert [g.group_type for g in props(plan).groups] == ["Shutdown", "Failover", "Boot", "Boot"]
    tested = plans.begin_test_failover(
        RG,
        VAULT,
        "wave1",
        {
            "properties": {
                "failoverDirection": "PrimaryToRecovery",
                "networkType": "VmNetworkAsInput",
                "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}],
            }
        },
    ).result()
    assert props(tested).current_scenario_status == "Suspended"
    assert props(tested).allowed_operations == ["TestFailoverCleanup"]
    assert all(
        props(client.replication_protected_items.get(*_args(m))).test_failover_state == "WaitingForCompletion"
        for m in (HYPERV, HV_APP)
    )
    plans.begin_test_failover_cleanup(RG, VAULT, "wave1", {"properties": {"comments": "ok"}}).result()
    unplanned = {
        "properties": {
            "failoverDirection": "PrimaryToRecovery",
            "sourceSiteOperations": "Required",
            "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}],
        }
    }
    failed_over = plans.begin_unplanned_failover(RG, VAULT, "wave1", unplanned).result()
    assert props(failed_over).allowed_operations == ["Commit"]
    with pytest.raises(HttpResponseError) as again:
        plans.begin_unplanned_failover(RG, VAULT, "wave1", unplanned).result()
    assert again.value.error is not None and again.value.error.code == "OperationNotAllowed"
    committed = plans.begin_failover_commit(RG, VAULT, "wave1").result()
    assert props(committed).current_scenario.scenario_name == "CommitFailover"
    assert props(committed).current_scenario_status == "Succeeded"
    for m in (HYPERV, HV_APP):
        assert "CompleteMigration" in props(client.replication_protected_items.get(*_args(m))).allowed_operations


def test_plan_job_blocks_its_items(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    _enable_all(emu, client, [HYPERV])
    item_id = client.replication_protected_items.get(*_args(HYPERV)).id
    client.replication_recovery_plans.begin_create(
        RG,
        VAULT,
        "p",
        {
            "properties": {
                "primaryFabricId": "x",
                "recoveryFabricId": "Microsoft Azure",
                "groups": [{"groupType": "Boot", "replicationProtectedItems": [{"id": item_id}]}],
            }
        },
    ).result()
    client.replication_recovery_plans.begin_test_failover(
        RG,
        VAULT,
        "p",
        {"properties": {"failoverDirection": "PrimaryToRecovery", "networkType": "NoNetworkAttachAsInput"}},
        polling=False,
    )
    with pytest.raises(ResourceExistsError) as busy:
        client.replication_protected_items.begin_test_failover(*_args(HYPERV), tfo_input(HYPERV), polling=False)
    assert busy.value.error is not None and busy.value.error.code == "OperationInProgress"


def _paged_topology(page_size: int) -> Any:
    topology = load_topology(TOPOLOGY).model_dump(by_alias=True)
    topology["timing"]["pageSize"] = page_size
    return topology


def test_lists_page_with_next_link_and_filter() -> None:
    with start_emulator(_paged_topology(1), advance_on_poll=True) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id)
        for m in (HYPERV, HV_APP, RCM_VMWARE):
            client.replication_protected_items.begin_create(*_args(m), m.enable).result()
        emu.calls.reset()
        names = sorted(i.name or "" for i in client.replication_protected_items.list(RG, VAULT))
        assert names == sorted([HYPERV.item, HV_APP.item, RCM_VMWARE.item])
        assert emu.call_count("ReplicationProtectedItems_List") == 3  # one page per item, nextLink followed
        hyperv = client.replication_protected_items.list(RG, VAULT, filter="instanceType eq 'HyperVReplicaAzure'")
        assert sorted(i.name or "" for i in hyperv) == sorted([HYPERV.item, HV_APP.item])
        located = client.replication_protected_items.list(
            RG, VAULT, filter="sourceFabricLocation eq 'westeurope' and instanceType eq 'A2A'"
        )
        assert list(located) == []
        by_name = client.replication_protected_items.list(RG, VAULT, filter="friendlyName eq 'web01'")
        assert [i.name for i in by_name] == [RCM_VMWARE.item]
        in_container = client.replication_protected_items.list_by_replication_protection_containers(
            RG, VAULT, "hyperv-site", "hyperv-cloud"
        )
        assert len(list(in_container)) == 2
        jobs = list(
            client.replication_jobs.list(RG, VAULT, filter="jobName eq 'EnableDr' and jobStatus eq 'Succeeded'")
        )
        assert len(jobs) == 3
        unprotected = client.replication_protectable_items.list_by_replication_protection_containers(
            RG, VAULT, "hyperv-site", "hyperv-cloud", filter="state eq 'Unprotected'"
        )
        assert list(unprotected) == []


def test_initial_replication_time_follows_disks_and_bandwidth(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    """hv-file01 has 327 GB, hv-app01 60 GB, db01 1,280 GB at 500 Mbps: progress ranks accordingly."""
    for m in (HYPERV, HV_APP, RCM_PHYSICAL):
        client.replication_protected_items.begin_create(*_args(m), m.enable).result()
    emu.advance(1800)
    small = progress(client.replication_protected_items.get(*_args(HV_APP)), HV_APP.progress_path)
    large = progress(client.replication_protected_items.get(*_args(HYPERV)), HYPERV.progress_path)
    assert 0 < large < small <= 100
    file01 = emu.find_item(HYPERV.item)
    # 327 GiB at 200 Mbps is ~3.9 h plus 15 min overhead, +/-10 % seeded jitter
    assert 0.9 * (327 * 2**30 * 8 / 200e6 + 900) <= file01.ir_seconds <= 1.1 * (327 * 2**30 * 8 / 200e6 + 900)


def test_same_seed_same_ids() -> None:
    def job_names() -> list[tuple[str, Any]]:
        with start_emulator(TOPOLOGY, advance_on_poll=True) as emu:
            client = emulator_client(emu.base_url, emu.subscription_id)
            client.replication_protected_items.begin_create(*_args(HYPERV), HYPERV.enable).result()
            client.replication_protected_items.begin_create(*_args(HV_APP), HV_APP.enable).result()
            emu.advance_until_idle()
            return sorted((j.name or "", props(j).end_time) for j in client.replication_jobs.list(RG, VAULT))

    assert job_names() == job_names()


@pytest.mark.parametrize(("speed", "retry_after"), [(1.0, "30"), (10.0, "3"), (60.0, "0"), (0.0, "0")])
def test_retry_after_is_the_simulated_interval_in_wall_seconds(speed: float, retry_after: str) -> None:
    with start_emulator(TOPOLOGY, speed=speed) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id)
        headers: dict[str, str] = {}
        client.replication_protected_items.begin_create(
            *_args(HYPERV),
            HYPERV.enable,
            polling=False,
            raw_response_hook=lambda r: headers.update(r.http_response.headers),
        )
        assert headers["Retry-After"] == retry_after


def test_faults_declared_in_the_topology_apply_from_the_start() -> None:
    topology = _paged_topology(100)
    topology["faults"] = [
        {"kind": "throttle", "operation": "ReplicationFabrics_List", "count": 1, "retryAfterSeconds": 9}
    ]
    with start_emulator(topology) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
        with pytest.raises(HttpResponseError) as throttled:
            list(client.replication_fabrics.list(RG, VAULT))
        assert throttled.value.status_code == 429
        assert len(list(client.replication_fabrics.list(RG, VAULT))) == 6


def test_operation_status_carries_retry_after_while_running() -> None:
    import requests

    with start_emulator(TOPOLOGY, speed=1.0) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id)
        headers: dict[str, str] = {}
        client.replication_protected_items.begin_create(
            *_args(HYPERV),
            HYPERV.enable,
            polling=False,
            raw_response_hook=lambda r: headers.update(r.http_response.headers),
        )
        running = requests.get(headers["Azure-AsyncOperation"], timeout=10)
        assert running.json()["status"] == "InProgress" and running.headers["Retry-After"] == "30"
        emu.advance(3600)
        done = requests.get(headers["Azure-AsyncOperation"], timeout=10)
        assert done.json()["status"] == "Succeeded" and "Retry-After" not in done.headers
