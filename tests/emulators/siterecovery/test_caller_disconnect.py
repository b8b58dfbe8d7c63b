"""The emulator acts on a request it has fully received even if the caller goes away before the answer, as ARM does.

That is why a crashed worker must adopt the job on its next run (tests/e2e/test_crash_recovery.py). The request
body is read before an injected ``latency`` fault, so a caller that disconnects during the delay still gets its
operation carried out.
"""

from __future__ import annotations

import json
import socket
import time

from emulators.siterecovery import start_emulator
from tests.support.machines import fleet_topology


def test_a_fully_sent_request_is_acted_on_after_the_caller_disconnects() -> None:
    topology = fleet_topology(1)
    fabric, container = "vmware-appliance", "vmware-container"
    topology["vaults"][0]["protectedItems"] = [
        {
            "name": "vm00",
            "fabric": fabric,
            "container": container,
            "machine": "10000000-0000-0000-0000-000000001000",
            "mapping": "vmware-to-azure",
            "state": "Protected",
        }
    ]
    asr = start_emulator(topology, speed=0)
    try:
        item = asr.item("vm00")
        assert "TestFailover" in item["allowedOperations"], item
        asr.add_fault({"kind": "latency", "operation": "ReplicationProtectedItems_TestFailover", "ms": 300})
        path = (
            f"/subscriptions/{asr.subscription_id}/resourceGroups/{asr.resource_group}/providers/"
            f"Microsoft.RecoveryServices/vaults/{asr.vault_name}/replicationFabrics/{fabric}/"
            f"replicationProtectionContainers/{container}/replicationProtectedItems/{item['name']}/testFailover"
            "?api-version=2025-08-01"
        )
        body = json.dumps({"properties": {"failoverDirection": "PrimaryToRecovery"}}).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", asr.port)) as connection:
            connection.sendall(head.encode() + body)
            time.sleep(0.1)  # the request is whole on the server's side; the caller now goes away
        deadline = time.monotonic() + 10
        while not asr.calls.count("ReplicationProtectedItems_TestFailover"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        answered = [c.status for c in asr.calls.calls() if c.operation == "ReplicationProtectedItems_TestFailover"]
        assert answered == [202], answered  # accepted, as ARM would; the emulator answers 500
    finally:
        asr.stop()
