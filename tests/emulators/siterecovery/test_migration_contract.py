"""Contract: every official 2025-08-01 migration-item and migration-recovery-point example, through the SDK's routes.

As in ``test_contract_examples.py``: each example's own request is sent to the emulator (from the state it starts
from), the emulator answers with the example's status codes (202, then the final 200/204 through the ``Location``
the SDK follows), and the final body holds every key path of the example's body with the same JSON type and
populates every SDK model attribute the example's populates. The SDK's own ``begin_*`` calls with the examples'
bodies end on models like the examples'. One substitution: a test migration names a recovery point the emulator has
(the example's is a placeholder GUID).

The examples in ``2025-08-01/migration/`` (Update, List, ListByReplicationProtectionContainers, Resync,
PauseReplication, ResumeReplication, MigrationRecoveryPoints_ListByReplicationMigrationItems) sit in a folder of
their own, with their own MANIFEST, so the protected-item contract test (which runs every example of the main
folder against a Hyper-V topology) does not take them up.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.client import emulator_client
from tests.emulators.siterecovery.contract import deserialize, example_url, follow, missing_paths, populated
from tests.support.asr_examples import EXAMPLES_DIR
from tests.support.sdk_tables import operations

MIGRATION_DIR = EXAMPLES_DIR / "migration"
GROUPS = ("ReplicationMigrationItems_", "MigrationRecoveryPoints_")


def _path(name: str) -> Path:
    for folder in (EXAMPLES_DIR, MIGRATION_DIR):
        if (folder / f"{name}.json").is_file():
            return folder / f"{name}.json"
    raise FileNotFoundError(name)


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_path(name).read_text(encoding="utf-8"))
    return data


def example_names() -> list[str]:
    files = [*EXAMPLES_DIR.glob("*.json"), *MIGRATION_DIR.glob("*.json")]
    return sorted(p.stem for p in files if p.stem.startswith(GROUPS))


def _body(data: dict[str, Any]) -> Any:
    bodies = [v for v in data["parameters"].values() if isinstance(v, dict)]
    return bodies[0] if bodies else None


P = example("ReplicationMigrationItems_Get")["parameters"]
CREATE = example("ReplicationMigrationItems_Create")
MACHINE = CREATE["parameters"]["input"]["properties"]["providerSpecificDetails"]["vmwareMachineId"]
SITE = MACHINE.split("/")[8]
ARGS = (
    P["resourceGroupName"],
    P["resourceName"],
    P["fabricName"],
    P["protectionContainerName"],
    P["migrationItemName"],
)


def contract_topology() -> dict[str, Any]:
    """The resources the examples name: vault, VMwareV2 fabric and container, the site's machine, policy, mapping."""
    create = CREATE["parameters"]["input"]
    details = create["properties"]["providerSpecificDetails"]
    disk = details["disksToInclude"][0]
    body = CREATE["responses"]["200"]["body"]["properties"]
    return {
        "seed": 5,
        "vaults": [
            {
                "subscriptionId": P["subscriptionId"],
                "resourceGroup": P["resourceGroupName"],
                "name": P["resourceName"],
                "vmwareSites": [
                    {
                        "name": SITE,
                        # the run-as accounts the enable names (an enable naming one the site lacks is refused)
                        "runAsAccounts": [
                            {"name": details[key].rsplit("/", 1)[-1]}
                            for key in ("dataMoverRunAsAccountId", "snapshotRunAsAccountId")
                        ],
                        "machines": [
                            {
                                "name": MACHINE.rsplit("/", 1)[-1],
                                "displayName": body["machineName"],
                                "disks": [{"id": disk["diskId"], "sizeGB": disk["diskSizeInGB"], "isOSDisk": True}],
                            }
                        ],
                    }
                ],
                "fabrics": [
                    {
                        "name": P["fabricName"],
                        "kind": "VMwareV2",
                        "vmwareSite": SITE,
                        "containers": [{"name": P["protectionContainerName"]}],
                    }
                ],
                "policies": [{"name": body["policyFriendlyName"], "provider": "VMwareCbt"}],
                "containerMappings": [
                    {
                        "name": "vmware-mapping",
                        "fabric": P["fabricName"],
                        "container": P["protectionContainerName"],
                        "policy": body["policyFriendlyName"],
                    }
                ],
            }
        ],
    }


@pytest.fixture
def cemu() -> Iterator[EmulatorHandle]:
    with start_emulator(contract_topology(), advance_on_poll=True) as handle:
        yield handle


def _client(emu: EmulatorHandle) -> SiteRecoveryManagementClient:
    return emulator_client(emu.base_url, P["subscriptionId"], retry_total=0)


# -- the state each example starts from ---------------------------------------------------------------------


def enabled(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    client.replication_migration_items.begin_create(*ARGS, _body(CREATE)).result()
    emu.advance_until_idle()  # seeded: replicating, with a first recovery point
    emu.advance(2 * 3600)


def with_test_migration(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    enabled(emu, client)
    client.replication_migration_items.begin_test_migrate(*ARGS, _test_body(client)).result()


def resync_needed(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    enabled(emu, client)
    emu.add_fault({"kind": "resyncRequired", "machine": "*"})


def paused(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    enabled(emu, client)
    client.replication_migration_items.begin_pause_replication(
        *ARGS, _body(example("ReplicationMigrationItems_PauseReplication"))
    ).result()


def nothing(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    return None


PREPARE: dict[str, Callable[[EmulatorHandle, SiteRecoveryManagementClient], None]] = {
    "ReplicationMigrationItems_Create": nothing,
    "ReplicationMigrationItems_TestMigrateCleanup": with_test_migration,
    "ReplicationMigrationItems_Resync": resync_needed,
    "ReplicationMigrationItems_ResumeReplication": paused,
}


def _test_body(client: SiteRecoveryManagementClient) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(_body(example("ReplicationMigrationItems_TestMigrate"))))
    point = next(iter(client.migration_recovery_points.list_by_replication_migration_items(*ARGS)))
    body["properties"]["providerSpecificDetails"]["recoveryPointId"] = point.id
    return body


def sdk_row(name: str) -> dict[str, Any]:
    group, op = name.split("_", 1)
    table = operations()[f"{group}Operations"]
    method = "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")
    for candidate in (method, f"begin_{method}"):
        if candidate in table:
            return dict(table[candidate])
    raise AssertionError(f"no SDK operation for {name}")


def _merged(body: dict[str, Any], pageable: bool) -> Any:
    if not pageable:
        return body
    merged: dict[str, Any] = {}
    for element in body["value"]:
        merged.update({k: v for k, v in element.items() if k not in merged})
    return merged


def test_every_migration_operation_of_the_sdk_has_an_example_here() -> None:
    names = set(example_names())
    assert len(names) == 13
    for group in ("ReplicationMigrationItemsOperations", "MigrationRecoveryPointsOperations"):
        for method in operations()[group]:
            if method == "get" and group == "MigrationRecoveryPointsOperations":
                continue  # no official example for MigrationRecoveryPoints_Get (served; tested below)
            assert any(sdk_row(n) == operations()[group][method] for n in names), (group, method)


@pytest.mark.parametrize("name", example_names())
def test_example(cemu: EmulatorHandle, name: str) -> None:
    data = example(name)
    row = sdk_row(name)
    client = _client(cemu)
    PREPARE.get(name, enabled)(cemu, client)
    body = _body(data)
    if name == "ReplicationMigrationItems_TestMigrate":
        body = _test_body(client)
    url = example_url(cemu, row["url"], data["parameters"])
    first = requests.request(row["http_method"], url, json=body, timeout=10)
    codes = set(data["responses"])
    if "202" in codes:
        assert first.status_code == 202, first.text
        for header in data["responses"]["202"].get("headers", {}):
            assert header in first.headers, header
        final = follow(first)
    else:
        final = first
    assert str(final.status_code) in codes - {"202"}, (final.status_code, final.text)
    expected = data["responses"][str(final.status_code)].get("body")
    if expected is None:
        assert not final.content
        return
    actual = final.json()
    assert missing_paths(expected, actual) == []
    want = populated(deserialize(row["result_model"], _merged(expected, row["pageable"])))
    have = populated(deserialize(row["result_model"], _merged(actual, row["pageable"])))
    assert want - have == set()


def test_sdk_round_trips_end_on_models_like_the_examples(cemu: EmulatorHandle) -> None:
    client = _client(cemu)
    ops = client.replication_migration_items
    created = ops.begin_create(*ARGS, _body(CREATE)).result()

    def like(name: str, result: Any) -> None:
        want = populated(deserialize("MigrationItem", example(name)["responses"]["200"]["body"]))
        assert want - populated(result) == set(), name

    like("ReplicationMigrationItems_Create", created)
    cemu.advance_until_idle()
    cemu.advance(2 * 3600)
    like("ReplicationMigrationItems_Get", ops.get(*ARGS))
    like(
        "ReplicationMigrationItems_Update",
        ops.begin_update(*ARGS, _body(example("ReplicationMigrationItems_Update"))).result(),
    )
    like("ReplicationMigrationItems_TestMigrate", ops.begin_test_migrate(*ARGS, _test_body(client)).result())
    cleanup = _body(example("ReplicationMigrationItems_TestMigrateCleanup"))
    like("ReplicationMigrationItems_TestMigrateCleanup", ops.begin_test_migrate_cleanup(*ARGS, cleanup).result())
    pause = _body(example("ReplicationMigrationItems_PauseReplication"))
    like("ReplicationMigrationItems_PauseReplication", ops.begin_pause_replication(*ARGS, pause).result())
    resume = _body(example("ReplicationMigrationItems_ResumeReplication"))
    like("ReplicationMigrationItems_ResumeReplication", ops.begin_resume_replication(*ARGS, resume).result())
    cemu.advance_until_idle()
    cemu.add_fault({"kind": "resyncRequired"})
    like(
        "ReplicationMigrationItems_Resync",
        ops.begin_resync(*ARGS, _body(example("ReplicationMigrationItems_Resync"))).result(),
    )
    cemu.advance_until_idle()
    migrate = _body(example("ReplicationMigrationItems_Migrate"))
    like("ReplicationMigrationItems_Migrate", ops.begin_migrate(*ARGS, migrate).result())
    listed = list(ops.list(P["resourceGroupName"], P["resourceName"]))
    assert [i.name for i in listed] == [P["migrationItemName"]]
    point = next(iter(client.migration_recovery_points.list_by_replication_migration_items(*ARGS)))
    assert point.name is not None
    got = client.migration_recovery_points.get(*ARGS, point.name)
    assert got.id == point.id and got.properties is not None and got.properties.recovery_point_type == "CrashConsistent"
    assert ops.begin_delete(*ARGS, delete_option="MigrationComplete").result() is None
    assert list(ops.list(P["resourceGroupName"], P["resourceName"])) == []


# -- the fixtures of the migration folder are whole; the validation tables agree with the SDK's ------------


def _manifest() -> list[dict[str, str]]:
    with (MIGRATION_DIR / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.parametrize("entry", _manifest(), ids=lambda entry: entry["file"])
def test_migration_fixture_has_its_recorded_size_and_digest(entry: dict[str, str]) -> None:
    content = (MIGRATION_DIR / entry["file"]).read_bytes()
    assert len(content) == int(entry["bytes"])
    assert hashlib.sha256(content).hexdigest() == entry["sha256"]


def test_every_migration_fixture_is_listed() -> None:
    assert {p.name for p in MIGRATION_DIR.glob("*.json")} == {e["file"] for e in _manifest()}
