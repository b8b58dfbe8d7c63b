"""Post-migration steps (``postMigrationSteps``): scripts ASR runs on the test or migrated VM within the job."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from emulators.siterecovery import start_emulator
from emulators.siterecovery.client import emulator_client
from tests.emulators.siterecovery.migration_support import (
    RG,
    TEST_NET,
    VAULT,
    enable_body,
    item_args,
    migration_topology,
)

STEPS = [
    {"stepName": "smoke", "scriptUrl": "https://st.blob.core.windows.net/s/smoke.ps1", "scriptParameters": "-Port 443"},
    {"stepName": "app", "scriptUrl": "https://st.blob.core.windows.net/s/app.ps1", "scriptParameters": ""},
]


def _test(point_id: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    details = {"instanceType": "VMwareCbt", "recoveryPointId": point_id, "networkId": TEST_NET}
    return {"properties": {"providerSpecificDetails": {**details, "postMigrationSteps": steps}}}


@pytest.mark.parametrize("fail_at", [None, 4])
def test_each_step_is_a_task_of_the_test_migrate_job_and_a_failing_one_fails_it(fail_at: int | None) -> None:
    faults = (
        []
        if fail_at is None
        else [{"kind": "jobFailure", "scenario": "TestMigrate", "machine": "vmw-agentless01", "task": fail_at}]
    )
    with start_emulator(migration_topology(faults), advance_on_poll=True) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
        ops = client.replication_migration_items
        ops.begin_create(*item_args(), enable_body()).result()
        emu.advance_until_idle()
        point = next(iter(client.migration_recovery_points.list_by_replication_migration_items(*item_args())))
        poller = ops.begin_test_migrate(*item_args(), _test(str(point.id), STEPS))
        if fail_at is None:
            poller.result()
        else:
            with pytest.raises(HttpResponseError, match="70094"):  # the fault's error, as the job reports it
                poller.result()
        emu.advance_until_idle()
        item = ops.get(*item_args()).as_dict()["properties"]
        job = next(
            j
            for j in client.replication_jobs.list(RG, VAULT)
            if j.as_dict()["properties"]["scenarioName"] == "TestMigrate"
        )
        tasks = job.as_dict()["properties"]["tasks"]
        names = [task.get("friendlyName") for task in tasks]
        assert names[-2:] == ["Run post-migration step 'smoke'", "Run post-migration step 'app'"]
        if fail_at is None:
            assert item["testMigrateState"] == "TestMigrationSucceeded"
            assert {task["state"] for task in tasks} == {"Succeeded"}
        else:
            assert item["testMigrateState"] == "TestMigrationFailed"
            assert tasks[fail_at]["state"] == "Failed"
            assert "TestMigrateCleanup" in item["allowedOperations"], "the test VM is left to clean up"


def test_a_step_without_its_required_fields_is_refused() -> None:
    with start_emulator(migration_topology(), advance_on_poll=True) as emu:
        client = emulator_client(emu.base_url, emu.subscription_id, retry_total=0)
        ops = client.replication_migration_items
        ops.begin_create(*item_args(), enable_body()).result()
        emu.advance_until_idle()
        point = next(iter(client.migration_recovery_points.list_by_replication_migration_items(*item_args())))
        with pytest.raises(HttpResponseError) as refused:
            ops.begin_test_migrate(*item_args(), _test(str(point.id), [{"stepName": "smoke"}]))
        assert refused.value.status_code == 400
        assert "scriptUrl" in str(refused.value)
