"""The whole app behind its entry points: Functions host (child process), Site Recovery and Service Bus emulators.

The host runs ``function_app:app`` unchanged in its own process, with the settings an Azure deployment would have
(``ServiceBusConnection`` included, so the Service Bus triggers listen and events are published) and the plan clock
aligned with the Site Recovery emulator's. Tests reach it only from outside: HTTP with a bearer token from the
local token issuer (the host stands in for App Service authentication, as ``cli run`` configures it), the real
``azure-servicebus`` client, and the Durable management API with a token and the system key.
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.servicebus import ServiceBusClient, ServiceBusMessage

from cli.local_identity import LOCAL_USER, LocalPrincipal
from cli.local_identity import prepare as prepare_sign_in
from emulators.functions import start_host_process
from emulators.functions.local_entra import LocalEntra
from emulators.functions.process import HostProcess
from emulators.servicebus import EmulatorHandle as BusHandle
from emulators.servicebus import start_emulator as start_bus
from emulators.siterecovery import EmulatorHandle as AsrHandle
from emulators.siterecovery import start_emulator as start_asr
from migration.access import Role
from tests.e2e.stack import fences
from tests.support import polling
from tests.support.http_client import Reply as Reply  # re-exported: the tests import it from here
from tests.support.http_client import http as http
from tests.support.machines import EXAMPLES, REPO, example_plan

SPEED = 3600.0
# Who signs in, besides the demo user (Operate + Approve): one principal per role, and one with no role at all.
READER = LocalPrincipal("reader@local.example", "1a1a1a1a-0000-4000-8000-000000000001", (Role.READ,))
OPERATOR = LocalPrincipal("operator-only@local.example", "2b2b2b2b-0000-4000-8000-000000000002", (Role.OPERATE,))
APPROVER = LocalPrincipal("approver@local.example", "3c3c3c3c-0000-4000-8000-000000000003", (Role.APPROVE,))
NOBODY = LocalPrincipal("guest@local.example", "4d4d4d4d-0000-4000-8000-000000000004", ())
MIXED = example_plan("mixed-wave.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)


def free_port() -> int:
    """A loopback port free now, for a receiver that must be named in the app's settings before it starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 120, interval: float = 0.2) -> Any:
    """``tests.support.polling.wait_until`` with the longer pace a whole stack needs."""
    return polling.wait_until(predicate, timeout, interval)


def small_plan(plan_id: str, *machines: str, **options: Any) -> dict[str, Any]:
    """The mixed example wave cut down to ``machines`` (default db01, web01), with ``options`` merged in.

    The stack is shared by a module's tests, so each plan's VMs get names of their own (``{machine}-{plan id}``): a
    machine migrated by one test leaves its VM behind, and Azure refuses a second VM of that name, as the target
    pre-flight does (``migration.target_fit``).
    """
    plan = copy.deepcopy(MIXED)
    plan["id"] = plan_id
    plan["options"].pop("drAfterMigration", None)
    plan["options"].update(options)
    keep = set(machines or ("db01", "web01"))
    groups = []
    for group in plan["groups"]:
        chosen = [
            {**m, "target": {**m["target"], "vmName": f"{m['name']}-{plan_id}"[:64].rstrip("-")}}
            for m in group["machines"]
            if m["name"] in keep
        ]
        if chosen:
            groups.append({**group, "machines": chosen})
    plan["groups"] = groups
    return plan


@dataclass
class ApiStack:
    asr: AsrHandle
    bus: BusHandle
    host: HostProcess
    entra: LocalEntra
    callback_port: int = 0  # the one local receiver port on the app's callback allow list
    logs: list[str] = field(default_factory=list)

    @property
    def api(self) -> str:
        return f"{self.host.base_url}/api"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        principal: LocalPrincipal | None = LOCAL_USER,
        raw: bytes | None = None,
    ) -> Reply:
        """``method path`` as ``principal`` (a fresh token of the local issuer), or with no token when None."""
        sent = dict(headers or {})
        if principal is not None:
            sent.setdefault("Authorization", f"Bearer {self.token(principal)}")
        data = raw
        if data is None and body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        url = path if path.startswith("http") else f"{self.api}{path}"
        return http(method, url, data, sent)

    def token(self, principal: LocalPrincipal = LOCAL_USER) -> str:
        return principal.token(self.entra)

    def management(self, method: str, path: str, body: Any = None) -> Reply:
        """The Durable management API: behind App Service authentication and the system key, as in Azure."""
        sep = "&" if "?" in path else "?"
        url = f"{self.host.base_url}/runtime/webhooks/durabletask/{path}{sep}code={self.host.system_key}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token()}"}
        return http(method, url, data, headers)

    def wait_final(self, migration_id: str, timeout: float = 180) -> Reply:
        last: list[Reply] = []

        def final() -> Reply | None:
            reply = self.call("GET", f"/migrations/{migration_id}")
            last[:] = [reply]
            return reply if reply.status != 202 else None

        try:
            result: Reply = wait_until(final, timeout)
        except AssertionError:
            raise AssertionError(f"{migration_id} still running: {last[0].body[:3000]!r}") from None
        return result

    def wait_phase(self, migration_id: str, phase: str, timeout: float = 180) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            body = self.call("GET", f"/migrations/{migration_id}").json()
            return body if body and body.get("phase") == phase else None

        result: dict[str, Any] = wait_until(reached, timeout)
        return result

    def end_running(self) -> list[str]:
        """Cancel every migration still running and wait for it to end, so the next test may claim its machines
        (a source machine belongs to one running migration at a time); the ids it ended."""
        body = self.call("GET", "/migrations?status=Running&top=100").json()
        running = [item["id"] for item in body.get("items", [])]
        for migration_id in running:
            self.call("POST", f"/migrations/{migration_id}/cancel", {"actor": "tests", "reason": "test ended"})
        for migration_id in running:
            self.wait_final(migration_id)
        return running

    def send(self, queue: str, body: bytes | str, **message: Any) -> None:
        with ServiceBusClient.from_connection_string(self.bus.connection_string) as client:
            with client.get_queue_sender(queue) as sender:
                sender.send_messages(ServiceBusMessage(body, **message))

    def events(self, *, migration_id: str | None = None, message_id: str | None = None) -> list[dict[str, Any]]:
        """Every event received so far on the ``all-events`` subscription (kept across calls), filtered."""
        with ServiceBusClient.from_connection_string(self.bus.connection_string) as client:
            with client.get_subscription_receiver("migration-events", "all-events", max_wait_time=1) as receiver:
                while True:
                    batch = receiver.receive_messages(max_message_count=100, max_wait_time=1)
                    if not batch:
                        break
                    for message in batch:
                        self._received.append(
                            {
                                "body": json.loads(b"".join(message.body)),
                                "properties": {
                                    (k.decode() if isinstance(k, bytes) else k): (
                                        v.decode() if isinstance(v, bytes) else v
                                    )
                                    for k, v in (message.application_properties or {}).items()
                                },
                                "messageId": message.message_id,
                                "contentType": message.content_type,
                            }
                        )
                        receiver.complete_message(message)
        found = self._received
        if migration_id is not None:
            found = [e for e in found if e["properties"].get("migrationId") == migration_id]
        if message_id is not None:
            found = [e for e in found if (e["body"].get("data") or {}).get("messageId") == message_id]
        return found

    def host_log(self) -> str:
        return self.host.output()

    _received: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def api_stack(
    data_dir: Path,
    *,
    speed: float = SPEED,
    bus_config: dict[str, Any] | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[ApiStack]:
    """The stack; ``settings`` replace or add app settings (``{"ServiceBusConnection": ""}``: an app without one)."""
    asr = start_asr(EXAMPLES / "topology.yaml", speed=speed)
    bus = start_bus(bus_config)
    callback_port = free_port()
    env = {
        # A callback may reach loopback only as an explicit origin: port 9 (nothing listens) and one receiver port.
        "CALLBACK_ALLOWED_HOSTS": f"http://127.0.0.1:9,http://127.0.0.1:{callback_port}",
        "ASR_ARM_ENDPOINT": asr.base_url,
        **fences(asr),
        "ServiceBusConnection": bus.connection_string,
        "MIGRATION_CLOCK_SPEED": str(speed),
        "MIGRATION_CLOCK_ANCHOR": f"{asr.clock.now().isoformat()}@{datetime.now(UTC).isoformat()}",
        **(settings or {}),
    }
    try:
        entra, auth_settings = prepare_sign_in(data_dir)
        host = start_host_process("function_app:app", app_dir=REPO, data_dir=data_dir, env=env, easy_auth=auth_settings)
        try:
            yield ApiStack(asr, bus, host, entra, callback_port)
        finally:
            host.stop()
    finally:
        bus.stop()
        asr.stop()
