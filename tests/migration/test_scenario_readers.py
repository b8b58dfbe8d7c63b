"""Reading replicated items: the official examples (HyperVReplicaAzure, the only provider they show)
and, for A2A and InMageRcm, items serialized by the SDK's own models so the field names are the SDK's."""

from datetime import UTC, datetime

import pytest
from azure.mgmt.recoveryservicessiterecovery import models as sdk

from migration.scenarios import A2AScenario, HyperVReplicaAzureScenario, InMageRcmScenario, Operation
from tests.support.asr_examples import example

from .asr_specs import sdk_model

ITEM_EXAMPLES = [
    "ReplicationProtectedItems_Get.json",
    "ReplicationProtectedItems_Create.json",
    "ReplicationProtectedItems_List.json",
    "ReplicationProtectedItems_ListByReplicationProtectionContainers.json",
    "ReplicationProtectedItems_TestFailover.json",
    "ReplicationProtectedItems_TestFailoverCleanup.json",
    "ReplicationProtectedItems_UnplannedFailover.json",
    "ReplicationProtectedItems_PlannedFailover.json",
    "ReplicationProtectedItems_FailoverCommit.json",
    "ReplicationProtectedItems_Reprotect.json",
]


def example_item(name):
    body = example(name)["responses"]["200"]["body"]
    return body["value"][0] if "value" in body else body


@pytest.mark.parametrize("name", ITEM_EXAMPLES)
def test_every_official_item_example_reads_consistently(name):
    item = example_item(name)
    properties = item["properties"]
    view = HyperVReplicaAzureScenario().read_protected_item(item)
    assert view.provider == "HyperVReplicaAzure"
    assert view.id == item["id"]
    assert view.protection_state == properties["protectionState"]
    assert view.test_failover_state == properties["testFailoverState"]
    assert view.active_location == properties["activeLocation"]
    assert view.allowed_operations == frozenset(properties["allowedOperations"])
    assert view.replication_health == properties["replicationHealth"]
    for operation in Operation:
        assert view.allows(operation) == (operation.value in properties["allowedOperations"])
    # Every example shows an item that finished initial replication (protected or already failed over).
    assert view.initial_replication_done
    assert view.progress_percent == 100
    assert view.to_dict()["allowedOperations"] == sorted(properties["allowedOperations"])


def test_a_protected_idle_item_is_ready_for_test_failover():
    view = HyperVReplicaAzureScenario().read_protected_item(example_item("ReplicationProtectedItems_Get.json"))
    assert view.protected
    assert not view.busy
    assert view.current_scenario is None
    assert view.current_job_id is None  # ".../replicationJobs/None" means no job
    assert view.can_test_failover and view.can_fail_over
    assert not view.can_commit
    assert view.health_errors == ()


def test_an_item_in_test_failover_shows_its_job_and_allows_only_cleanup():
    item = example_item("ReplicationProtectedItems_TestFailover.json")
    view = HyperVReplicaAzureScenario().read_protected_item(item)
    assert view.busy
    assert view.current_scenario == "TestFailover"
    assert view.current_job_id == item["properties"]["currentScenario"]["jobId"]
    assert view.current_job_id is not None and not view.current_job_id.endswith("/None")
    assert view.can_clean_up_test_failover
    assert not view.can_fail_over and not view.can_test_failover


def test_after_unplanned_failover_the_item_runs_in_azure_and_can_be_committed():
    view = HyperVReplicaAzureScenario().read_protected_item(
        example_item("ReplicationProtectedItems_UnplannedFailover.json")
    )
    assert not view.protected
    assert view.initial_replication_done
    assert view.active_location == "Recovery"
    assert view.can_commit and view.can_complete_migration
    committed = HyperVReplicaAzureScenario().read_protected_item(
        example_item("ReplicationProtectedItems_FailoverCommit.json")
    )
    assert not committed.can_commit and committed.can_complete_migration


def test_reading_an_item_of_another_provider_is_refused():
    item = example_item("ReplicationProtectedItems_Get.json")
    with pytest.raises(ValueError, match="HyperVReplicaAzure, not InMageRcm"):
        InMageRcmScenario().read_protected_item(item)
    failback = example("ReplicationProtectedItems_FailoverCancel.json")["responses"]["200"]["body"]
    with pytest.raises(ValueError, match="InMageRcmFailback"):
        HyperVReplicaAzureScenario().read_protected_item(failback)


def sdk_item(details, *, state="UnprotectedStatesBegin", allowed=(), health_errors=(), scenario=None, job=None):
    """A replicated item built with the SDK's models (python names) and serialized to REST JSON by the SDK."""
    item = sdk.ReplicationProtectedItem(
        properties=sdk.ReplicationProtectedItemProperties(
            protection_state=state,
            active_location="Primary",
            test_failover_state="None",
            allowed_operations=list(allowed),
            replication_health="Warning" if health_errors else "Normal",
            health_errors=list(health_errors),
            current_scenario=sdk.CurrentScenarioDetails(
                scenario_name=scenario or "None",
                job_id=job
                or "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
                "/replicationJobs/None",
                start_time=datetime(1753, 1, 1, 1, 1, 1, tzinfo=UTC),
            ),
            provider_specific_details=details,
        )
    )
    item["id"] = "/subscriptions/s/.../replicationProtectedItems/web-01"
    item["name"] = "web-01"
    return item.as_dict()


def test_inmage_rcm_progress_bytes_rpo_and_health():
    details = sdk_model(
        sdk.InMageRcmReplicationDetails,
        initial_replication_progress_percentage=42,
        initial_replication_processed_bytes=420_000_000,
        initial_replication_transferred_bytes=210_000_000,
        initial_replication_progress_health="SlowProgress",
        last_rpo_in_seconds=95,
        protected_disks=[
            sdk_model(sdk.InMageRcmProtectedDiskDetails, disk_id="d0", is_initial_replication_complete="true"),
            sdk_model(sdk.InMageRcmProtectedDiskDetails, disk_id="d1", is_initial_replication_complete="false"),
        ],
    )
    issue = sdk_model(
        sdk.HealthError,
        error_code="78144",
        error_message="No recovery point in the last 60 minutes.",
        error_level="Warning",
    )
    item = sdk_item(details, health_errors=[issue], scenario="EnableDr", job="/x/replicationJobs/job-1")
    view = InMageRcmScenario().read_protected_item(item)
    assert (view.progress_percent, view.bytes_processed, view.bytes_transferred) == (42, 420_000_000, 210_000_000)
    assert view.progress_health == "SlowProgress"
    assert view.rpo_seconds == 95
    assert not view.initial_replication_done and not view.protected
    assert view.health_errors[0].code == "78144"
    assert view.health_errors[0].level == "Warning"
    assert (view.current_scenario, view.current_job_id) == ("EnableDr", "/x/replicationJobs/job-1")
    assert view.to_dict()["healthErrors"][0]["message"] == "No recovery point in the last 60 minutes."


def test_inmage_rcm_initial_replication_is_done_when_every_disk_is():
    details = sdk_model(
        sdk.InMageRcmReplicationDetails,
        protected_disks=[
            sdk_model(sdk.InMageRcmProtectedDiskDetails, disk_id="d0", is_initial_replication_complete="True")
        ],
    )
    view = InMageRcmScenario().read_protected_item(sdk_item(details))
    assert view.initial_replication_done
    assert view.progress_percent == 100
    done = InMageRcmScenario().read_protected_item(
        sdk_item(sdk_model(sdk.InMageRcmReplicationDetails), state="Protected", allowed=["TestFailover"])
    )
    assert done.protected and done.can_test_failover


def test_a2a_progress_and_rpo():
    details = sdk_model(
        sdk.A2AReplicationDetails,
        monitoring_percentage_completion=63,
        monitoring_job_type="InitialReplication",
        rpo_in_seconds=30,
        vm_protection_state="InitialReplicationInProgress",
    )
    view = A2AScenario().read_protected_item(sdk_item(details))
    assert view.progress_percent == 63
    assert view.rpo_seconds == 30
    assert view.bytes_processed is None
    assert not view.initial_replication_done
    protected = A2AScenario().read_protected_item(
        sdk_item(sdk_model(sdk.A2AReplicationDetails, vm_protection_state="Protected", rpo_in_seconds=12))
    )
    assert protected.initial_replication_done and protected.progress_percent == 100


def test_hyperv_progress_percentage_is_a_string():
    details = sdk_model(
        sdk.HyperVReplicaAzureReplicationDetails,
        initial_replication_details=sdk_model(
            sdk.InitialReplicationDetails,
            initial_replication_type="InitialReplication",
            initial_replication_progress_percentage="57",
        ),
        rpo_in_seconds=300,
    )
    view = HyperVReplicaAzureScenario().read_protected_item(sdk_item(details))
    assert view.progress_percent == 57
    assert view.rpo_seconds == 300
    assert not view.initial_replication_done


def test_views_are_frozen():
    view = HyperVReplicaAzureScenario().read_protected_item(example_item("ReplicationProtectedItems_Get.json"))
    with pytest.raises(AttributeError):
        view.protected = False  # type: ignore[misc]
