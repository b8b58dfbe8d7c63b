"""The whole migration runbook, per provider, driven by the real SDK over real sockets."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient, models

from emulators.siterecovery import EmulatorHandle
from tests.emulators.siterecovery.scenario import (
    A2A,
    MACHINES,
    MIGRATION_COMPLETE,
    RG,
    SUB,
    VAULT,
    Machine,
    container_id,
    progress,
    props,
    tfo_input,
    unplanned_failover_input,
)

RPI_OPS = "ReplicationProtectedItems_"


def _args(m: Machine) -> tuple[str, str, str, str, str]:
    return (RG, VAULT, m.fabric, m.container, m.item)


@pytest.mark.parametrize("m", MACHINES, ids=lambda m: f"{m.provider}-{m.friendly}")
def test_runbook_with_result(emu: EmulatorHandle, client: SiteRecoveryManagementClient, m: Machine) -> None:
    items = client.replication_protected_items
    created = items.begin_create(*_args(m), m.enable).result()
    assert props(created).protection_state == "UnprotectedStatesBegin"
    assert props(created).provider_specific_details.instance_type == m.provider
    assert progress(created, m.progress_path) == 0
    assert list(client.recovery_points.list_by_replication_protected_items(*_args(m))) == []

    # initial replication advances with simulated time
    emu.advance(600)
    partway = items.get(*_args(m))
    assert 0 < progress(partway, m.progress_path) < 100
    assert props(partway).allowed_operations == ["DisableProtection"]
    with pytest.raises(HttpResponseError) as refused:
        items.begin_test_failover(*_args(m), tfo_input(m)).result()
    assert refused.value.error is not None and refused.value.error.code == "OperationNotAllowed"

    emu.advance_until_idle()
    replicated = items.get(*_args(m))
    assert progress(replicated, m.progress_path) == 100
    assert props(replicated).protection_state == "Protected"
    assert "TestFailover" in (props(replicated).allowed_operations or [])
    points = list(client.recovery_points.list_by_replication_protected_items(*_args(m)))
    assert points and all(props(p).recovery_point_type in ("CrashConsistent", "AppConsistent") for p in points)

    tested = items.begin_test_failover(*_args(m), tfo_input(m)).result()
    assert props(tested).test_failover_state == "WaitingForCompletion"
    assert props(tested).allowed_operations == ["TestFailoverCleanup"]
    assert props(tested).current_scenario.scenario_name == "TestFailover"

    cleaned = items.begin_test_failover_cleanup(*_args(m), {"properties": {"comments": "validated"}}).result()
    assert props(cleaned).test_failover_state == "None"
    assert props(cleaned).last_successful_test_failover_time is not None

    with pytest.raises(HttpResponseError) as early_commit:
        items.begin_failover_commit(*_args(m)).result()
    assert early_commit.value.error is not None and early_commit.value.error.code == "OperationNotAllowed"

    failed_over = items.begin_unplanned_failover(*_args(m), unplanned_failover_input(m)).result()
    assert props(failed_over).protection_state == "UnplannedFailoverCommitPendingStatesBegin"
    assert props(failed_over).active_location == "Recovery"
    assert "Commit" in (props(failed_over).allowed_operations or [])

    committed = items.begin_failover_commit(*_args(m)).result()
    assert "CompleteMigration" in (props(committed).allowed_operations or [])
    assert props(committed).active_location == "Recovery"

    assert items.begin_delete(*_args(m), MIGRATION_COMPLETE).result() is None
    with pytest.raises(ResourceNotFoundError):
        items.get(*_args(m))

    for op in ("Create", "TestFailover", "TestFailoverCleanup", "UnplannedFailover", "FailoverCommit", "Delete"):
        assert emu.call_count(RPI_OPS + op, m.item, accepted_only=True) == 1, op


def test_a2a_protects_the_migrated_vm_toward_a_secondary_region(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient
) -> None:
    items = client.replication_protected_items
    m = A2A
    items.begin_create(*_args(m), m.enable).result()
    emu.advance_until_idle()
    items.begin_unplanned_failover(*_args(m), unplanned_failover_input(m)).result()
    committed = items.begin_failover_commit(*_args(m)).result()
    new_vm = props(committed).provider_specific_details.recovery_fabric_object_id
    assert new_vm and "/resourceGroups/rg-apps-neu/" in new_vm
    items.begin_delete(*_args(m), MIGRATION_COMPLETE).result()

    # protect the migrated VM anew: from its new region (northeurope) toward swedencentral
    policy = client.replication_policies.get(RG, VAULT, "a2a-policy")
    mapping = client.replication_protection_container_mappings.get(
        RG, VAULT, "asr-a2a-northeurope", "asr-a2a-northeurope-container", "neu-to-sdc"
    )
    assert props(mapping).target_protection_container_id == container_id(
        "asr-a2a-swedencentral", "asr-a2a-swedencentral-container"
    )
    body = models.EnableProtectionInput(
        properties=models.EnableProtectionInputProperties(
            policy_id=policy.id,
            provider_specific_details=models.A2AEnableProtectionInput(
                fabric_object_id=new_vm,
                recovery_container_id=props(mapping).target_protection_container_id,
                recovery_resource_group_id=f"/subscriptions/{SUB}/resourceGroups/rg-apps-sdc",
            ),
        )
    )
    neu = (RG, VAULT, "asr-a2a-northeurope", "asr-a2a-northeurope-container", "app01-dr")
    dr = items.begin_create(*neu, body).result()
    assert props(dr).provider_specific_details.primary_fabric_location == "northeurope"
    assert props(dr).provider_specific_details.recovery_fabric_location == "swedencentral"
    emu.advance_until_idle()
    protected = items.get(*neu)
    assert props(protected).protection_state == "Protected"
    names = {i.name for i in items.list(RG, VAULT)}
    assert names == {"app01-dr"}


@pytest.mark.parametrize("m", MACHINES, ids=lambda m: f"{m.provider}-{m.friendly}")
def test_runbook_with_polling_false_and_job_polling(
    emu: EmulatorHandle, client: SiteRecoveryManagementClient, m: Machine
) -> None:
    """What a durable orchestrator does: start, remember the job, poll the job until it ends."""
    items = client.replication_protected_items

    def run(start: object) -> models.Job:
        item = items.get(*_args(m))
        job_id = props(item).current_scenario.job_id
        assert job_id and not job_id.endswith("/None")
        job_name = job_id.rsplit("/", 1)[-1]
        job = client.replication_jobs.get(RG, VAULT, job_name)
        assert props(job).state == "InProgress"
        assert props(job).target_object_name == m.friendly
        for _ in range(100):
            emu.advance(30)
            job = client.replication_jobs.get(RG, VAULT, job_name)
            if props(job).state != "InProgress":
                break
        assert props(job).state == "Succeeded", props(job).errors
        assert all(t.state == "Succeeded" for t in props(job).tasks or [])
        return job

    headers: dict[str, str] = {}
    items.begin_create(
        *_args(m), m.enable, polling=False, raw_response_hook=lambda r: headers.update(r.http_response.headers)
    )
    assert "/operationresults/" in headers["Location"]
    assert "/replicationOperationStatus/" in headers["Azure-AsyncOperation"]
    assert headers["Retry-After"] == "0"
    run(None)
    emu.advance_until_idle()
    items.begin_test_failover(*_args(m), tfo_input(m), polling=False)
    with pytest.raises(ResourceExistsError) as again:
        items.begin_test_failover(*_args(m), tfo_input(m), polling=False)
    assert again.value.error is not None and again.value.error.code == "OperationInProgress"
    run(None)
    items.begin_test_failover_cleanup(*_args(m), {"properties": {"comments": "ok"}}, polling=False)
    run(None)
    items.begin_unplanned_failover(*_args(m), unplanned_failover_input(m), polling=False)
    run(None)
    items.begin_failover_commit(*_args(m), polling=False)
    run(None)
    items.begin_delete(*_args(m), MIGRATION_COMPLETE, polling=False)
    jobs = list(client.replication_jobs.list(RG, VAULT, filter="jobName eq 'DisableDr'"))
    assert len(jobs) == 1 and props(jobs[0]).state == "InProgress"
    emu.advance_until_idle()
    with pytest.raises(ResourceNotFoundError):
        items.get(*_args(m))
    assert emu.call_count(RPI_OPS + "TestFailover", m.item) == 2
    assert emu.call_count(RPI_OPS + "TestFailover", m.item, accepted_only=True) == 1


def test_out_of_order_operations_are_refused(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    items = client.replication_protected_items
    m = A2A
    with pytest.raises(ResourceNotFoundError) as missing:
        items.begin_failover_commit(*_args(m)).result()
    assert missing.value.error is not None and missing.value.error.code == "ResourceNotFound"
    items.begin_create(*_args(m), m.enable).result()
    with pytest.raises(ResourceExistsError) as twice:
        items.begin_create(*_args(m), m.enable).result()
    assert twice.value.error is not None and twice.value.error.code == "ProtectionAlreadyEnabled"
    emu.advance_until_idle()
    with pytest.raises(HttpResponseError) as too_soon:
        items.begin_delete(*_args(m), MIGRATION_COMPLETE).result()
    assert too_soon.value.error is not None and too_soon.value.error.code == "OperationNotAllowed"
    with pytest.raises(HttpResponseError) as cleanup:
        items.begin_test_failover_cleanup(*_args(m), {"properties": {}}).result()
    assert cleanup.value.error is not None and cleanup.value.error.code == "OperationNotAllowed"
    items.begin_test_failover(*_args(m), tfo_input(m)).result()
    with pytest.raises(HttpResponseError) as during_tfo:
        items.begin_unplanned_failover(*_args(m), unplanned_failover_input(m)).result()
    assert during_tfo.value.error is not None and during_tfo.value.error.code == "OperationNotAllowed"
    assert props(items.get(*_args(m))).test_failover_state == "WaitingForCompletion"
    # plain disable (NotSpecified) is allowed from a protected state; purge removes at once
    items.begin_test_failover_cleanup(*_args(m), {"properties": {}}).result()
    items.begin_purge(*_args(m)).result()
    with pytest.raises(ResourceNotFoundError):
        items.get(*_args(m))
