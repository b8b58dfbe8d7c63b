"""The control endpoint, bearer-token checks, and the command line."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle
from emulators.siterecovery.client import emulator_client
from tests.emulators.siterecovery.conftest import REPO_ROOT, TOPOLOGY
from tests.emulators.siterecovery.scenario import A2A, RG, VAULT, props


def test_auth_required_answers_401_like_arm(emu: EmulatorHandle) -> None:
    emu.require_auth(True)
    anonymous = emulator_client(emu.base_url, emu.subscription_id)
    with pytest.raises(ClientAuthenticationError) as refused:
        anonymous.replication_fabrics.get(RG, VAULT, A2A.fabric)
    assert refused.value.error is not None and refused.value.error.code == "AuthenticationFailed"
    response: Any = refused.value.response
    assert response is not None and response.headers["WWW-Authenticate"].startswith("Bearer ")
    with_token = emulator_client(emu.base_url, emu.subscription_id, send_token=True)
    assert with_token.replication_fabrics.get(RG, VAULT, A2A.fabric).name == A2A.fabric
    emu.require_auth(True, tokens={"the-right-one"})
    with pytest.raises(ClientAuthenticationError) as wrong:
        with_token.replication_fabrics.get(RG, VAULT, A2A.fabric)
    assert wrong.value.error is not None and wrong.value.error.code == "InvalidAuthenticationToken"
    right = emulator_client(emu.base_url, emu.subscription_id, send_token=True, token="the-right-one")
    assert right.replication_fabrics.get(RG, VAULT, A2A.fabric).name == A2A.fabric


def test_bearer_token_over_http_needs_enforce_https_false(emu: EmulatorHandle) -> None:
    """The SDK's own rule, documented for clients: plain http + bearer is refused client-side."""
    from azure.core.exceptions import ServiceRequestError

    from emulators.siterecovery.client import StaticTokenCredential

    plain = SiteRecoveryManagementClient(
        StaticTokenCredential(), emu.subscription_id, base_url=emu.base_url, retry_total=0
    )
    with pytest.raises(ServiceRequestError):
        plain.replication_fabrics.get(RG, VAULT, A2A.fabric)
    assert plain.replication_fabrics.get(RG, VAULT, A2A.fabric, enforce_https=False).name == A2A.fabric


def test_control_endpoint(emu: EmulatorHandle, client: SiteRecoveryManagementClient) -> None:
    base = f"{emu.base_url}/_emulator"
    assert requests.get(f"{base}/health", timeout=10).json() == {"status": "ok"}
    client.replication_protected_items.begin_create(RG, VAULT, A2A.fabric, A2A.container, A2A.item, A2A.enable).result()
    calls = requests.get(f"{base}/calls", timeout=10).json()
    assert calls["byOperation"]["ReplicationProtectedItems_Create"] == {"received": 1, "accepted": 1}
    assert calls["byItem"]["app01"]["ReplicationProtectedItems_Create"] == 1
    items = requests.get(f"{base}/items", timeout=10).json()["value"]
    assert [(i["name"], i["protectionStateDescription"]) for i in items] == [
        ("app01", "Initial replication in progress")
    ]
    before = requests.get(f"{base}/clock", timeout=10).json()["seconds"]
    after = requests.post(f"{base}/clock", json={"advanceSeconds": 86400}, timeout=10).json()
    assert after["seconds"] >= before + 86400
    assert requests.get(f"{base}/items", timeout=10).json()["value"][0]["protectionState"] == "Protected"

    bad = requests.post(f"{base}/faults", json={"kind": "throttle", "count": 0}, timeout=10)
    assert bad.status_code == 400 and "count" in bad.json()["error"]["message"]
    added = requests.post(
        f"{base}/faults", json={"kind": "transient", "operation": "ReplicationFabrics_Get"}, timeout=10
    )
    fault_id = added.json()["id"]
    assert [f["id"] for f in requests.get(f"{base}/faults", timeout=10).json()["value"]] == [fault_id]
    assert requests.delete(f"{base}/faults/{fault_id}", timeout=10).status_code == 200
    assert requests.get(f"{base}/faults", timeout=10).json()["value"] == []

    assert requests.post(f"{base}/auth", json={"required": True}, timeout=10).json()["required"] is True
    with pytest.raises(ClientAuthenticationError):
        client.replication_fabrics.get(RG, VAULT, A2A.fabric)
    requests.post(f"{base}/auth", json={"required": False}, timeout=10)
    assert props(client.replication_fabrics.get(RG, VAULT, A2A.fabric)).friendly_name == A2A.fabric
    assert requests.delete(f"{base}/calls", timeout=10).json() == {"total": 0}
    assert emu.call_count("ReplicationProtectedItems_Create") == 0


def test_command_line_prints_its_base_url() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "emulators.siterecovery", "--topology", str(TOPOLOGY), "--port", "0", "--speed", "600"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:")
            clock = requests.get(f"{base_url}/_emulator/clock", timeout=10).json()
            assert clock["speed"] == 600
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert process.returncode == 0


def test_command_line_reports_a_bad_topology(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("vaults:\n  - subscriptionId: s\n    resourceGroup: r\n    name: v\n    policies: [{name: p}]\n")
    done = subprocess.run(
        [sys.executable, "-m", "emulators.siterecovery", "--topology", str(bad)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "vaults[0].policies[0].provider: Field required" in done.stderr
