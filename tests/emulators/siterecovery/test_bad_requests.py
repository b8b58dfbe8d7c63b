"""Bad input gets ARM's error shape with a specific code, and changes nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulators.siterecovery import EmulatorHandle
from emulators.siterecovery.client import emulator_client
from tests.emulators.siterecovery.scenario import (
    A2A,
    HYPERV,
    RCM_VMWARE,
    RG,
    SUB,
    VAULT,
    Machine,
    unplanned_failover_input,
)


def fingerprint(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> Any:
    """Everything a bad request could have changed: items, jobs, policies, mappings, plans."""
    return (
        emu.items(),
        sorted(j.name or "" for j in client.replication_jobs.list(RG, VAULT)),
        sorted((p.name or "", str(p.properties)) for p in client.replication_policies.list(RG, VAULT)),
        sorted(m.id or "" for m in client.replication_protection_container_mappings.list(RG, VAULT)),
        sorted(p.name or "" for p in client.replication_recovery_plans.list(RG, VAULT)),
    )


def _with(m: Machine, path: list[str], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(m.enable)
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


_DELETE = object()
PSD = ["properties", "providerSpecificDetails"]

ENABLE_CASES = [
    (A2A, [*PSD, "instanceType"], "Foo", "InvalidInstanceType", "properties.providerSpecificDetails.instanceType"),
    (A2A, [*PSD, "instanceType"], "InMageRcm", "InvalidRequestContent", "fabricDiscoveryMachineId"),
    (A2A, [*PSD, "instanceType"], "InMageAzureV2", "InvalidProviderSpecificInput", "instanceType"),
    (A2A, [*PSD, "instanceType"], _DELETE, "InvalidRequestContent", "properties.providerSpecificDetails.instanceType"),
    (
        A2A,
        [*PSD, "fabricObjectId"],
        _DELETE,
        "InvalidRequestContent",
        "properties.providerSpecificDetails.fabricObjectId",
    ),
    (A2A, [*PSD, "fabricObjectId"], 42, "InvalidRequestContent", "properties.providerSpecificDetails.fabricObjectId"),
    (A2A, [*PSD, "fabricObjectId"], "/subscriptions/x/vm/none", "InvalidFabricObjectId", "fabricObjectId"),
    (A2A, ["properties", "policyId"], "/no/such/policy", "PolicyNotAssociatedWithContainer", "policyId"),
    (RCM_VMWARE, [*PSD, "processServerId"], _DELETE, "InvalidRequestContent", "processServerId"),
    (RCM_VMWARE, [*PSD, "targetResourceGroupId"], _DELETE, "InvalidRequestContent", "targetResourceGroupId"),
    (RCM_VMWARE, [*PSD, "disksDefault"], _DELETE, "InvalidDiskInput", "disksToInclude"),
    (RCM_VMWARE, [*PSD, "disksDefault", "diskType"], _DELETE, "InvalidRequestContent", "disksDefault.diskType"),
    (HYPERV, ["properties", "protectableItemId"], _DELETE, "InvalidProtectableItemId", "protectableItemId"),
    (
        HYPERV,
        ["properties", "protectableItemId"],
        "/x/replicationProtectableItems/none",
        "InvalidProtectableItemId",
        "",
    ),
    (HYPERV, ["properties"], [], "InvalidRequestContent", "properties"),
]


@pytest.mark.parametrize(("m", "path", "value", "code", "mentions"), ENABLE_CASES)
def test_bad_enable_input_is_refused_and_changes_nothing(
    emu: EmulatorHandle,
    client: SiteRecoveryManagementClient,
    m: Machine,
    path: list[str],
    value: Any,
    code: str,
    mentions: str,
) -> None:
    before = fingerprint(emu, client)
    with pytest.raises(HttpResponseError) as refused:
        client.replication_protected_items.begin_create(
            RG, VAULT, m.fabric, m.container, m.item, _with(m, path, value)
        ).result()
    assert refused.value.status_code == 400
    assert refused.value.error is not None and refused.value.error.code == code
    assert mentions in (refused.value.error.message or "") + (refused.value.error.target or "")
    assert fingerprint(emu, client) == before


def _raw(emu: EmulatorHandle, method: str, path: str, body: bytes | None = None, version: str | None = "2025-08-01"):
    query = f"?api-version={version}" if version is not None else ""
    return requests.request(method, f"{emu.base_url}{path}{query}", data=body, timeout=10)


ITEM_PATH = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
    f"/replicationFabrics/{A2A.fabric}/replicationProtectionContainers/{A2A.container}/replicationProtectedItems/app01"
)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "InvalidRequestContent"),
        (b"\xff\xfe", "InvalidRequestContent"),
        (b"[1, 2]", "InvalidRequestContent"),
        (b'"text"', "InvalidRequestContent"),
        (b"{}", "InvalidRequestContent"),
    ],
)
def test_malformed_bodies(emu: EmulatorHandle, client: SiteRecoveryManagementClient, body: bytes, code: str) -> None:
    before = fingerprint(emu, client)
    response = _raw(emu, "PUT", ITEM_PATH, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert fingerprint(emu, client) == before


def test_api_version_is_checked(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    missing = _raw(emu, "GET", ITEM_PATH, version=None)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingApiVersionParameter"
    wrong = _raw(emu, "PUT", ITEM_PATH, b"{}", version="2021-06-01")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "NoRegisteredProviderFound"
    old = emulator_client(emu.base_url, SUB, api_version="2023-08-01")
    with pytest.raises(HttpResponseError) as refused:
        old.replication_fabrics.get(RG, VAULT, A2A.fabric)
    assert refused.value.error is not None and refused.value.error.code == "NoRegisteredProviderFound"


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.replication_fabrics.get(RG, VAULT, "nope"), "ResourceNotFound"),
        (lambda c: c.replication_fabrics.get(RG, "no-vault", A2A.fabric), "ResourceNotFound"),
        (lambda c: c.replication_fabrics.get("no-rg", VAULT, A2A.fabric), "ResourceGroupNotFound"),
        (lambda c: c.replication_protection_containers.get(RG, VAULT, A2A.fabric, "nope"), "ResourceNotFound"),
        (lambda c: c.replication_protected_items.get(RG, VAULT, A2A.fabric, A2A.container, "nope"), "ResourceNotFound"),
        (lambda c: c.replication_jobs.get(RG, VAULT, "00000000-0000-0000-0000-000000000000"), "ResourceNotFound"),
        (lambda c: c.replication_policies.get(RG, VAULT, "nope"), "ResourceNotFound"),
        (lambda c: c.replication_recovery_plans.get(RG, VAULT, "nope"), "ResourceNotFound"),
        (
            lambda c: c.replication_protectable_items.get(RG, VAULT, A2A.fabric, A2A.container, "nope"),
            "ResourceNotFound",
        ),
        (
            lambda c: c.replication_network_mappings.get(RG, VAULT, A2A.fabric, "vnet-apps-weu", "nope"),
            "ResourceNotFound",
        ),
    ],
)
def test_unknown_resources_are_404(client: SiteRecoveryManagementClient, call: Any, code: str) -> None:
    with pytest.raises(ResourceNotFoundError) as missing:
        call(client)
    assert missing.value.error is not None and missing.value.error.code == code


def test_unknown_subscription_and_resource_type(emu: EmulatorHandle) -> None:
    other = emulator_client(emu.base_url, "99999999-0000-0000-0000-000000000000")
    with pytest.raises(ResourceNotFoundError) as sub:
        other.replication_fabrics.list(RG, VAULT).next()
    assert sub.value.error is not None and sub.value.error.code == "SubscriptionNotFound"
    unknown = _raw(emu, "GET", ITEM_PATH.replace("replicationProtectedItems/app01", "replicationWidgets"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "InvalidResourceType"
    not_allowed = _raw(emu, "PATCH", ITEM_PATH.rsplit("/replicationFabrics", 1)[0] + "/replicationJobs", b"{}")
    assert not_allowed.status_code == 405 and not_allowed.json()["error"]["code"] == "MethodNotAllowed"


def test_bad_action_inputs(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    items = client.replication_protected_items
    rcm = (RG, VAULT, RCM_VMWARE.fabric, RCM_VMWARE.container, RCM_VMWARE.item)
    items.begin_create(*rcm, RCM_VMWARE.enable).result()
    emu.advance_until_idle()
    before = fingerprint(emu, client)
    cases: list[tuple[Any, str]] = [
        (lambda: items.begin_test_failover(*rcm, {}), "InvalidRequestContent"),
        (lambda: items.begin_delete(*rcm, {}), "InvalidRequestContent"),
        (
            lambda: items.begin_delete(*rcm, {"properties": {"disableProtectionReason": "Bored"}}),
            "InvalidParameter",
        ),
        (
            lambda: items.begin_unplanned_failover(
                *rcm, {"properties": {"providerSpecificDetails": {"instanceType": "InMageRcm"}}}
            ),
            "InvalidRequestContent",
        ),
        (
            lambda: items.begin_unplanned_failover(
                *rcm, {"properties": {"providerSpecificDetails": {"instanceType": "A2A"}}}
            ),
            "InvalidProviderSpecificInput",
        ),
        (
            lambda: items.begin_unplanned_failover(
                *rcm,
                {
                    "properties": {
                        "providerSpecificDetails": {
                            "instanceType": "InMageRcm",
                            "performShutdown": "true",
                            "recoveryPointId": "/nope",
                        }
                    }
                },
            ),
            "InvalidRecoveryPointId",
        ),
        (lambda: items.begin_unplanned_failover(*rcm, _direction("RecoveryToPrimary")), "InvalidFailoverDirection"),
        (
            lambda: client.replication_recovery_plans.begin_create(RG, VAULT, "p", {"properties": {}}),
            "InvalidRequestContent",
        ),
        (lambda: list(client.replication_jobs.list(RG, VAULT, filter="state gt 'x'")), "InvalidFilter"),
        (lambda: list(items.list(RG, VAULT, filter="color eq 'blue'")), "InvalidFilter"),
        (lambda: list(items.list(RG, VAULT, skip_token="%%%")), "InvalidSkipToken"),
    ]
    for call, code in cases:
        with pytest.raises(HttpResponseError) as refused:
            result = call()
            if hasattr(result, "result"):
                result.result()
        assert refused.value.error is not None and refused.value.error.code == code, code
        assert refused.value.status_code == 400
    assert fingerprint(emu, client) == before


def _direction(direction: str) -> dict[str, Any]:
    body = unplanned_failover_input(RCM_VMWARE)
    body["properties"]["failoverDirection"] = direction
    return body


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values, st.fixed_dictionaries({"properties": json_values})))
def test_no_body_crashes_the_server(emu: EmulatorHandle, body: Any) -> None:
    for suffix in ("", "/testFailover", "/unplannedFailover", "/remove"):
        method = "PUT" if not suffix else "POST"
        response = requests.request(
            method, f"{emu.base_url}{ITEM_PATH}{suffix}?api-version=2025-08-01", json=body, timeout=10
        )
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert set(response.json()["error"]) >= {"code", "message"}


def test_oversized_body_is_refused(emu: EmulatorHandle) -> None:
    response = _raw(emu, "PUT", ITEM_PATH, b'{"properties": "' + b"x" * (9 * 1024 * 1024) + b'"}')
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "RequestEntityTooLarge"
