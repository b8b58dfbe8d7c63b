"""End to end through the entry points: HTTP and Service Bus in, status/report/events/callback out.

One stack for the module (Functions host in a child process, Site Recovery and Service Bus emulators); each test
uses its own migration ids, so tests do not see each other's migrations. Everything is reached from outside, as a
client would: HTTP with an Entra bearer token, the real ``azure-servicebus`` client, the Durable management API.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jsonschema
import pytest

from cli.local_identity import LOCAL_USER, LocalPrincipal
from migration.instance_ids import callback_id, wave_id
from migration.stages import Stage
from tests.infra.test_identity import logic_apps_roles
from tests.support.machines import REPO
from tests.triggers.stack import APPROVER, NOBODY, OPERATOR, READER, ApiStack, api_stack, small_plan, wait_until

pytestmark = pytest.mark.slow

APPROVAL = {"required": True, "timeout": "P3D", "onTimeout": "hold"}
CAPTURED: list[str] = []  # every status, report and event body the tests saw, for the secrets scan


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    with api_stack(tmp_path_factory.mktemp("api-stack")) as running:
        yield running


def get(stack: ApiStack, path: str, **kwargs: Any) -> Any:
    reply = stack.call("GET", path, **kwargs)
    CAPTURED.append(reply.body.decode("utf-8", "replace"))
    return reply


def wave_instances(stack: ApiStack, migration_id: str) -> list[dict[str, Any]]:
    reply = stack.management("GET", f"instances/?instanceIdPrefix={wave_id(migration_id)}&showInput=false")
    return [i for i in reply.json() if i["instanceId"] == wave_id(migration_id)]


# -- HTTP -------------------------------------------------------------------------------------------------------


def test_http_submission_is_polled_approved_and_ends_migrated(stack: ApiStack) -> None:
    plan = small_plan("http-1", approval=APPROVAL)
    plan["callbackUrl"] = "http://127.0.0.1:9/workflows/run?api-version=2016-10-01&sig=s3cr3tSig"
    first = stack.call("POST", "/migrations", plan, headers={"Idempotency-Key": "req-http-1"})
    assert first.status == 202, first.body
    body = first.json()
    assert first.headers["location"] == body["links"]["self"] == f"{stack.api}/migrations/http-1"
    assert int(first.headers["retry-after"]) > 0
    assert body["links"]["approve"].endswith("/migrations/http-1/approve")
    assert body["links"]["cancel"].endswith("/migrations/http-1/cancel")
    assert body["status"] == "Running" and body["idempotencyKey"] == "req-http-1"

    again = stack.call("POST", "/migrations", plan)
    assert again.status == 202 and again.json() == body, "a repeat answers the same migration"
    assert len(wave_instances(stack, "http-1")) == 1

    changed = {**plan, "name": "another plan under the same id"}
    conflict = stack.call("POST", "/migrations", changed)
    assert conflict.status == 409 and conflict.json()["error"]["code"] == "MigrationExists"

    running = get(stack, "/migrations/http-1", principal=READER)
    assert running.status == 202 and running.headers["location"] == f"{stack.api}/migrations/http-1"
    gate = stack.wait_phase("http-1", "awaitingApproval")
    assert gate["status"] == "Running"
    assert gate["pendingApproval"]["machines"] == ["db01", "web01"]
    assert gate["counts"]["byStage"] == {"cutoverGate": 2}
    assert {m["outcome"] for m in gate["machines"]} == {"Ready"}

    bad = stack.call("POST", "/migrations/http-1/approve", {"actor": "ops"})
    assert bad.status == 400 and bad.json()["error"]["details"][0]["path"] == "reason"
    approve = stack.call(
        "POST",
        "/migrations/http-1/approve",
        {"actor": "ops@example.com", "reason": "CAB-42"},
        headers={"Idempotency-Key": "cmd-1"},
    )
    assert approve.status == 202 and approve.json()["commandId"] == "cmd-1"
    repeat = stack.call(
        "POST",
        "/migrations/http-1/approve",
        {"actor": "ops@example.com", "reason": "CAB-42"},
        headers={"Idempotency-Key": "cmd-1"},
    )
    assert repeat.status == 202

    final = stack.wait_final("http-1")
    CAPTURED.append(final.body.decode())
    assert final.status == 200, final.body
    document = final.json()
    assert document["status"] == "Migrated" and document["phase"] == "completed"
    assert document["counts"]["byOutcome"] == {"migrated": 2}
    # The signed-in caller is the actor; what the body claimed is kept beside it as a note, never in its place.
    recorded = [(c["actor"], c.get("actorId"), c.get("assertedActor")) for c in document["controls"]]
    assert recorded == [(LOCAL_USER.name, LOCAL_USER.object_id, "ops@example.com")], "the repeated command acted once"
    assert document["submittedBy"] == {"actor": LOCAL_USER.name, "actorId": LOCAL_USER.object_id}
    assert all(m["outcome"] == "Migrated" and m["progressPercent"] == 100 for m in document["machines"])
    assert "location" not in final.headers

    ended = stack.call("POST", "/migrations/http-1/cancel", {"actor": "ops", "reason": "too late"})
    assert ended.status == 409 and ended.json()["error"]["code"] == "MigrationEnded"
    finished_repeat = stack.call("POST", "/migrations", plan)
    assert finished_repeat.status == 200 and finished_repeat.json()["status"] == "Migrated"
    assert len(wave_instances(stack, "http-1")) == 1

    machine = get(stack, "/migrations/http-1/machines/DB01")
    assert machine.status == 200
    record = machine.json()["record"]
    assert record["outcome"] == "migrated" and record["stages"]["commit"]["endedAt"]
    report = get(stack, "/migrations/http-1/report").json()
    assert [row["machine"] for row in report["rows"]] == ["db01", "web01"]
    assert all(row["commitEndedAt"] and row["jobIds"] for row in report["rows"])
    csv_reply = get(stack, "/migrations/http-1/report", headers={"Accept": "text/csv"})
    assert csv_reply.headers["content-type"].startswith("text/csv")
    lines = csv_reply.body.decode().splitlines()
    assert lines[0].startswith("migrationId,machine,group") and len(lines) == 3

    listed = get(stack, "/migrations?status=Migrated").json()
    assert "http-1" in [item["id"] for item in listed["items"]]
    assert "http-1" not in [item["id"] for item in get(stack, "/migrations?status=Running").json()["items"]]


def _migration_state(stack: ApiStack, machine: str) -> str:
    """The machine's migration item as Site Recovery shows it, read from the emulator's own ARM surface."""
    import urllib.request

    vault = next(iter(stack.asr.store.vaults.values()))
    url = (
        f"{stack.asr.base_url}{vault.id}/replicationFabrics/vmware-agentless/replicationProtectionContainers/"
        f"vmware-agentless-container/replicationMigrationItems/{machine}?api-version=2025-08-01"
    )
    request = urllib.request.Request(url, headers={"Authorization": "Bearer local"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return str(json.loads(reply.read())["properties"]["migrationState"])


def test_agentless_replication_is_paused_over_http_and_resumed_over_service_bus(stack: ApiStack) -> None:
    plan = small_plan("pause-1", "web01", "vmw-agentless01", approval=APPROVAL)
    assert stack.call("POST", "/migrations", plan).status == 202
    stack.wait_phase("pause-1", "awaitingApproval")
    agent = stack.call("POST", "/migrations/pause-1/pause", {"reason": "month end", "machines": ["web01"]})
    assert agent.status == 202
    paused = stack.call("POST", "/migrations/pause-1/pause", {"reason": "month end"}, principal=OPERATOR)
    assert paused.status == 202, paused.body
    wait_until(lambda: _migration_state(stack, "vmw-agentless01") == "ProtectionSuspended")

    def two_controls() -> dict[str, Any] | None:
        document: dict[str, Any] = get(stack, "/migrations/pause-1").json()
        return document if document["controls"] == 2 else None  # a running wave's status counts its commands

    accepted = wait_until(two_controls)["lastControl"]
    assert (accepted["action"], accepted["accepted"], accepted["actorId"]) == ("pause", True, OPERATOR.object_id)
    assert accepted["detail"] == "pausing replication of vmw-agentless01"
    command = {"migrationId": "pause-1", "action": "resume", "actor": "ops@example.com", "reason": "back"}
    stack.send("migration-control", json.dumps(command), message_id="cmd-resume-1")
    wait_until(lambda: _migration_state(stack, "vmw-agentless01") == "Replicating")
    assert stack.call("POST", "/migrations/pause-1/approve", {"reason": "CAB-7"}).status == 202
    final = stack.wait_final("pause-1")
    document = final.json()
    assert document["status"] == "Migrated", document
    assert [(c["action"], c["accepted"]) for c in document["controls"]] == [
        ("pause", False),
        ("pause", True),
        ("resume", True),
        ("approve", True),
    ]
    assert "agentless VMware machines only, not web01" in document["controls"][0]["detail"]
    record = get(stack, "/migrations/pause-1/machines/vmw-agentless01").json()["record"]
    assert "commit" not in record["stages"] and record["downtime"]["seconds"] > 0
    calls = stack.asr.calls
    for operation in ("PauseReplication", "ResumeReplication", "Migrate", "Delete"):
        count = calls.count(f"ReplicationMigrationItems_{operation}", "vmw-agentless01", accepted_only=True)
        assert count == 1, operation


def test_cancelling_an_agentless_machine_with_its_test_vm_up_cleans_up_and_stops_replication(stack: ApiStack) -> None:
    plan = small_plan("cancel-agentless", "vmw-agentless01", approval=APPROVAL, testVmSoak="P2D")

    def testing() -> bool:
        machines = get(stack, "/migrations/cancel-agentless").json()["machines"]
        return bool(machines) and machines[0]["stage"] == Stage.VALIDATE_TEST_VM.value

    calls, item = stack.asr.calls, "vmw-agentless01"
    # The module's stack is shared: count what this migration adds to the call log.
    before = {op: calls.count(f"ReplicationMigrationItems_{op}", item) for op in ("TestMigrateCleanup", "Migrate")}
    assert stack.call("POST", "/migrations", plan).status == 202
    wait_until(testing)
    assert stack.call("POST", "/migrations/cancel-agentless/cancel", {"reason": "wrong wave"}).status == 202
    final = stack.wait_final("cancel-agentless")
    assert final.json()["status"] == "Cancelled", final.body
    cleanups = calls.count("ReplicationMigrationItems_TestMigrateCleanup", item) - before["TestMigrateCleanup"]
    assert cleanups == 1, "the live test VM was cleaned up"
    assert calls.count("ReplicationMigrationItems_Migrate", item) == before["Migrate"], "the source was never cut over"
    assert not [i for i in stack.asr.migration_items() if i.lower().endswith(f"/{item}")], "replication stopped"


def test_a_cancelled_migration_answers_409_with_its_status(stack: ApiStack) -> None:
    plan = small_plan("http-cancel", "db01", approval=APPROVAL)
    assert stack.call("POST", "/migrations", plan).status == 202
    stack.wait_phase("http-cancel", "awaitingApproval")
    assert (
        stack.call("POST", "/migrations/http-cancel/cancel", {"actor": "ops", "reason": "change freeze"}).status == 202
    )
    final = stack.wait_final("http-cancel")
    CAPTURED.append(final.body.decode())
    assert final.status == 409
    body = final.json()
    assert body["status"] == "Cancelled" and body["error"]["code"] == "MigrationCancelled"
    assert body["machines"][0]["outcome"] == "Cancelled"


def test_refusals_are_specific_and_start_nothing(stack: ApiStack) -> None:
    invalid = small_plan("http-bad")
    invalid["groups"][0]["machines"][0]["target"]["networkId"] = "not-an-arm-id"
    del invalid["name"]
    reply = stack.call("POST", "/migrations", invalid)
    assert reply.status == 400
    error = reply.json()["error"]
    assert error["code"] == "InvalidPlan"
    paths = {d["path"] for d in error["details"]}
    assert {"name", "groups[0].machines[0].target.networkId"} <= paths
    assert (
        stack.call("POST", "/migrations", raw=b"{not json", headers={"Content-Type": "application/json"}).status == 400
    )
    assert stack.call("POST", "/migrations", raw=b"id: x", headers={"Content-Type": "text/plain"}).status == 415
    big = b'{"id": "x", "pad": "' + b"a" * (4 * 1024 * 1024) + b'"}'
    assert stack.call("POST", "/migrations", raw=big, headers={"Content-Type": "application/json"}).status == 413
    key = stack.call("POST", "/migrations", small_plan("http-bad"), headers={"Idempotency-Key": "no spaces!"})
    assert key.status == 400 and key.json()["error"]["code"] == "InvalidIdempotencyKey"
    assert wave_instances(stack, "http-bad") == []
    assert get(stack, "/migrations/nope-404").status == 404
    assert get(stack, "/migrations/NOT_A_SLUG").status == 404
    assert stack.call("POST", "/migrations/nope-404/approve", {"actor": "a", "reason": "b"}).status == 404
    assert get(stack, "/migrations?status=Bogus").status == 400
    assert get(stack, "/migrations?createdFrom=yesterday").status == 400
    assert get(stack, "/migrations?createdFrom=0001-01-01T00%3A06%3A51%2B20%3A26").status == 400


ANY_ROLE = (READER, OPERATOR, APPROVER, LOCAL_USER)
# Each route and who may call it: readers read, operators submit, cancel, retry, postpone, pause and resume,
# approvers decide.
ROUTES: list[tuple[str, str, tuple[LocalPrincipal, ...]]] = [
    ("POST", "/migrations", (OPERATOR, LOCAL_USER)),
    ("GET", "/migrations", ANY_ROLE),
    ("GET", "/migrations/http-1", ANY_ROLE),
    ("GET", "/migrations/http-1/machines/db01", ANY_ROLE),
    ("GET", "/migrations/http-1/report", ANY_ROLE),
    ("GET", "/openapi.json", ANY_ROLE),
    *[("POST", f"/migrations/http-1/{action}", (APPROVER, LOCAL_USER)) for action in ("approve", "reject")],
    *[
        ("POST", f"/migrations/http-1/{action}", (OPERATOR, LOCAL_USER))
        for action in ("cancel", "retry", "postpone", "pause", "resume")
    ],
]


@pytest.mark.parametrize(("method", "path", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_each_route_lets_in_exactly_the_roles_it_names(
    stack: ApiStack, method: str, path: str, allowed: tuple[LocalPrincipal, ...]
) -> None:
    # An empty body: whoever is let in is refused by the body check, so nothing here changes any migration.
    anonymous = stack.call(method, path, {}, principal=None)
    assert anonymous.status == 401 and anonymous.headers["www-authenticate"].startswith("Bearer"), anonymous.body
    garbage = stack.call(method, path, {}, principal=None, headers={"Authorization": "Bearer not.a.token"})
    assert garbage.status == 401, garbage.body
    forged = {"X-MS-CLIENT-PRINCIPAL": _forged_principal(), "X-MS-CLIENT-PRINCIPAL-NAME": "admin"}
    assert stack.call(method, path, {}, principal=None, headers=forged).status == 401, "a forged header is stripped"
    for principal in (NOBODY, *ANY_ROLE):
        reply = stack.call(method, path, {}, principal=principal)
        if principal in allowed:
            assert reply.status not in (401, 403), (principal.name, reply.body)
        else:
            assert reply.status == 403, (principal.name, reply.body)
            message = reply.json()["error"]["message"]
            assert principal.name in message and "needs the app role" in message, message


def _forged_principal() -> str:
    """What an attacker would write into the header App Service sets: an approver's claims, unsigned."""
    claims = [{"typ": "oid", "val": LOCAL_USER.object_id}, {"typ": "roles", "val": "Migrations.Approve"}]
    return base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()


def test_health_needs_no_token(stack: ApiStack) -> None:
    assert stack.call("GET", "/health", principal=None).status == 200


def _workflow_action(workflow: str, action: str) -> dict[str, Any]:
    """An HTTP action of a sample workflow in ``infra/logicapps`` (searched through scopes and branches)."""
    document = json.loads((REPO / "infra" / "logicapps" / f"{workflow}.json").read_text(encoding="utf-8"))

    def find(actions: dict[str, Any]) -> dict[str, Any] | None:
        for name, value in actions.items():
            if name == action:
                return dict(value["inputs"])
            for nested in (value.get("actions"), (value.get("else") or {}).get("actions")):
                found = find(nested or {})
                if found is not None:
                    return found
        return None

    found = find(document.get("definition", document)["actions"])
    assert found is not None, f"{workflow} has no action {action}"
    return found


def test_the_logic_apps_calls_are_accepted_with_the_roles_the_template_assigns(stack: ApiStack) -> None:
    """The sample workflows' HTTP actions, made as Logic Apps makes them: its managed identity's app token, carrying
    the app roles the template assigns that identity (read from ``infra/app/logicapps.bicep``)."""
    roles = tuple(sorted(logic_apps_roles()))
    workflows = LocalPrincipal(
        "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a", "5e5e5e5e-0000-4000-8000-000000000005", roles, application=True
    )
    submit = _workflow_action("submit-and-wait", "Start_and_wait_for_the_migration")
    assert submit["authentication"]["type"] == "ManagedServiceIdentity" and submit["method"] == "POST"
    plan = small_plan("logic-1", "db01", approval=APPROVAL)
    app_url = "@{parameters('functionAppUrl')}"
    started = stack.call("POST", submit["uri"].replace(app_url, stack.host.base_url), plan, principal=workflows)
    assert started.status == 202, started.body
    # The HTTP action polls Location with the same authentication until the answer is not 202.
    assert stack.call("GET", started.headers["location"], principal=workflows).status == 202
    stack.wait_phase("logic-1", "awaitingApproval")
    event = wait_until(
        lambda: [e for e in stack.events(migration_id="logic-1") if e["body"]["type"] == "migration.awaiting_approval"]
    )[0]["body"]
    approve = _workflow_action("approval", "Approve_the_cutover")
    assert approve["authentication"]["type"] == "ManagedServiceIdentity"
    body = {"actor": "approver@contoso.example", "reason": approve["body"]["reason"].split(" (", 1)[0]}
    approve_at = stack.host.base_url + event["data"]["approveUri"]
    assert approve["uri"].startswith(app_url) and approve["uri"].endswith("['approveUri']}")
    approved = stack.call("POST", approve_at, body, principal=workflows)
    assert approved.status == 202, approved.body
    final = stack.wait_final("logic-1")
    assert final.status == 200, final.body
    document = final.json()
    assert document["submittedBy"]["actorId"] == workflows.object_id
    control = document["controls"][0]
    # The workflow's identity is the actor; the person who answered the e-mail is what the workflow asserts.
    assert (control["actorId"], control["assertedActor"]) == (workflows.object_id, "approver@contoso.example")


# -- Service Bus --------------------------------------------------------------------------------------------------


def test_a_plan_on_the_queue_starts_once_and_is_approved_over_the_control_queue(stack: ApiStack) -> None:
    plan = small_plan("sb-1", "db01", approval=APPROVAL)
    body = json.dumps(plan)
    stack.send("migration-requests", body, message_id="msg-sb-1")
    stack.wait_phase("sb-1", "awaitingApproval")
    # The same plan again under another message id (a resend the broker cannot spot): still one migration.
    stack.send("migration-requests", body, message_id="msg-sb-1-resent")
    command = {"migrationId": "sb-1", "action": "approve", "actor": "approver@example.com", "reason": "ok"}
    stack.send("migration-control", json.dumps(command), message_id="cmd-sb-1")
    final = stack.wait_final("sb-1")
    CAPTURED.append(final.body.decode())
    assert final.status == 200, final.body
    document = final.json()
    assert document["submittedVia"] == "servicebus" and document["idempotencyKey"] == "msg-sb-1"
    # Service Bus commands are authorized by the queue's data role, so their actor is only what they assert.
    assert [(c["actor"], c.get("actorId")) for c in document["controls"]] == [("approver@example.com", None)]
    assert len(wave_instances(stack, "sb-1")) == 1


def test_application_properties_override_the_plan_id(stack: ApiStack) -> None:
    plan = small_plan("ignored-id", "db01")
    stack.send(
        "migration-requests",
        json.dumps(plan),
        message_id="msg-override",
        application_properties={"migrationId": "sb-override"},
    )
    status = wait_until(lambda: get(stack, "/migrations/sb-override").status != 404 or None)
    assert status
    assert wave_instances(stack, "ignored-id") == []


@pytest.mark.parametrize(
    ("queue", "body", "code"),
    [
        ("migration-requests", b"\xff\xfe not json", "InvalidEncoding"),
        ("migration-requests", b"[1, 2]", "InvalidPlan"),
        ("migration-requests", json.dumps({"id": "sb-bad", "name": "x", "groups": []}).encode(), "InvalidPlan"),
        (
            "migration-control",
            json.dumps({"migrationId": "no-such", "action": "approve", "actor": "a", "reason": "b"}).encode(),
            "MigrationNotFound",
        ),
        ("migration-control", json.dumps({"migrationId": "sb-1", "action": "explode"}).encode(), "InvalidCommand"),
    ],
)
def test_a_poison_message_is_answered_by_one_rejected_event(
    stack: ApiStack, queue: str, body: bytes, code: str
) -> None:
    message_id = f"poison-{queue}-{code}-{len(body)}"
    stack.send(queue, body, message_id=message_id)
    events = wait_until(lambda: stack.events(message_id=message_id), timeout=60)
    assert len(events) == 1
    event = events[0]["body"]
    CAPTURED.append(json.dumps(event))
    assert event["type"] == "migration.rejected"
    assert event["data"]["reason"].startswith(code)
    if code == "InvalidPlan" and b"groups" in body:
        assert event["data"]["problems"][0]["path"] == "groups"
    wait_until(lambda: stack.bus.inspect().total(queue) == 0, timeout=30)
    assert stack.bus.inspect().dead_lettered(queue) == 0
    assert wave_instances(stack, "sb-bad") == []


# -- events -------------------------------------------------------------------------------------------------------

_STAGE_ORDER = [stage.value for stage in Stage]


def test_every_event_arrives_once_in_stage_order_and_matches_its_schema(stack: ApiStack) -> None:
    test_ids = ("http-1", "sb-1")
    for migration_id in test_ids:
        events = stack.events(migration_id=migration_id)
        types = [e["body"]["type"] for e in events]
        assert types[0] == "migration.accepted" and types.count("migration.accepted") == 1, types
        assert types.count("migration.completed") == 1 and types.count("migration.awaiting_approval") == 1
        ids = [e["body"]["id"] for e in events]
        assert len(ids) == len(set(ids)), "no event twice"
        stages: dict[str, list[str]] = {}
        for event in events:
            body = event["body"]
            CAPTURED.append(json.dumps(body))
            assert event["contentType"].startswith("application/cloudevents+json")
            schema = json.loads((REPO / "schemas" / "events" / f"{body['type']}.schema.json").read_text())
            jsonschema.validate(body, schema)
            if body["type"] == "migration.machine.stage_changed":
                stages.setdefault(body["data"]["machine"], []).append(body["data"]["stage"])
        assert stages, f"{migration_id}: no stage change was published"
        completed = [e["body"]["data"]["machine"] for e in events if e["body"]["type"] == "migration.machine.completed"]
        assert sorted(completed) == sorted(stages), "one machine.completed per machine"
        for machine, seen in stages.items():
            indexes = [_STAGE_ORDER.index(s) for s in seen]
            assert indexes == sorted(indexes), (machine, seen)
            for stage in ("validate", "enableReplication", "unplannedFailover", "commit", "completeMigration"):
                assert seen.count(stage) == 1, (machine, stage, seen)


# -- callback -----------------------------------------------------------------------------------------------------


class _Listener:
    """A local HTTP receiver standing in for Logic Apps' callback URL; answers from a script of status codes."""

    def __init__(self, answers: list[int], port: int) -> None:
        self.answers = answers
        self.calls: list[dict[str, Any]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                listener.calls.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
                code = listener.answers[min(len(listener.calls) - 1, len(listener.answers) - 1)]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/workflows/run/callback?api-version=2016-10-01&sig=s3cr3tSig"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _deliver(stack: ApiStack, migration_id: str, url: str) -> dict[str, Any]:
    payload = {
        "migrationId": migration_id,
        "callbackUrl": url,
        "result": {"migrationId": migration_id, "status": "Migrated", "counts": {"migrated": 1}},
        "timeScale": 3600.0,
    }
    instance = callback_id(migration_id)
    started = stack.management("POST", f"orchestrators/deliver_callback/{instance}", payload)
    assert started.status == 202, started.body

    def done() -> dict[str, Any] | None:
        status = stack.management("GET", f"instances/{instance}").json()
        return status if status["runtimeStatus"] in ("Completed", "Failed") else None

    result: dict[str, Any] = wait_until(done, timeout=60)
    CAPTURED.append(json.dumps(result["customStatus"]))
    return result


@pytest.mark.parametrize(("answers", "calls", "delivered"), [([503, 429, 200], 3, True), ([404], 1, False)])
def test_callback_delivery(stack: ApiStack, answers: list[int], calls: int, delivered: bool) -> None:
    listener = _Listener(answers, stack.callback_port)
    try:
        result = _deliver(stack, f"cb-{answers[0]}", listener.url)
        assert result["runtimeStatus"] == "Completed"
        assert result["output"]["delivered"] is delivered and result["output"]["attempts"] == calls
        assert len(listener.calls) == calls
        assert listener.calls[-1]["body"]["status"] == "Migrated"
        assert "sig=" not in json.dumps(result["customStatus"])
    finally:
        listener.close()


def test_the_wave_calls_its_callback_once_with_the_final_result(stack: ApiStack) -> None:
    listener = _Listener([200], stack.callback_port)
    try:
        plan = small_plan("cb-wave", "db01", approval={"required": False})
        plan["callbackUrl"] = listener.url
        assert stack.call("POST", "/migrations", plan).status == 202
        final = stack.wait_final("cb-wave")
        assert final.status == 200
        wait_until(lambda: listener.calls, timeout=15)
        assert len(listener.calls) == 1
        body = listener.calls[0]["body"]
        assert body["migrationId"] == "cb-wave" and body["status"] == "Migrated"
    finally:
        listener.close()


def _victim_terminate_url(stack: ApiStack) -> str:
    """The host's own Durable management API: a callback here would terminate another migration."""
    return (
        f"{stack.host.base_url}/runtime/webhooks/durabletask/instances/migration~http-1/terminate?reason=x"
        f"&code={stack.host.system_key}"
    )


@pytest.mark.parametrize(
    "url",
    [
        "management API",
        "https://169.254.169.254/metadata/identity/oauth2/token",
        "https://[::ffff:169.254.169.254]/metadata",
        "https://168.63.129.16/machine?comp=goalstate",
        "https://10.1.2.3/hook",
        "https://hooks.example.com/hook?sig=s3cr3tSig",
    ],
)
def test_a_plan_whose_callback_points_inside_is_refused_and_nothing_starts(stack: ApiStack, url: str) -> None:
    plan = small_plan(f"ssrf-{abs(hash(url)) % 10_000}", "db01")
    plan["callbackUrl"] = _victim_terminate_url(stack) if url == "management API" else url
    reply = stack.call("POST", "/migrations", plan)
    assert reply.status == 400, reply.body
    body = reply.json()
    CAPTURED.append(json.dumps(body))
    assert body["error"]["code"] == "InvalidPlan"
    assert [d["path"] for d in body["error"]["details"]] == ["callbackUrl"]
    assert stack.host.system_key not in reply.body.decode()
    assert wave_instances(stack, plan["id"]) == []


def test_a_plan_whose_hooks_point_inside_is_refused_by_path_and_nothing_starts(stack: ApiStack) -> None:
    plan = small_plan("ssrf-hooks", "db01")
    plan["groups"][0]["hooks"] = {
        "beforeCutover": [{"name": "drain", "type": "http", "url": "https://169.254.169.254/metadata?sig=s3cr3tSig"}],
        "afterCutover": [{"name": "dns", "type": "http", "url": _victim_terminate_url(stack)}],
    }
    reply = stack.call("POST", "/migrations", plan)
    assert reply.status == 400, reply.body
    body = reply.json()
    CAPTURED.append(json.dumps(body))
    paths = [d["path"] for d in body["error"]["details"]]
    assert paths == ["groups[0].hooks.beforeCutover[0].url", "groups[0].hooks.afterCutover[0].url"]
    assert "s3cr3tSig" not in reply.body.decode() and stack.host.system_key not in reply.body.decode()
    assert wave_instances(stack, plan["id"]) == []


def test_a_service_bus_callback_property_pointing_inside_is_rejected(stack: ApiStack) -> None:
    plan = small_plan("ssrf-sb", "db01")
    stack.send(
        "migration-requests",
        json.dumps(plan),
        message_id="msg-ssrf",
        application_properties={"callbackUrl": _victim_terminate_url(stack)},
    )
    events = wait_until(lambda: stack.events(message_id="msg-ssrf"), timeout=60)
    event = events[0]["body"]
    CAPTURED.append(json.dumps(event))
    assert event["type"] == "migration.rejected" and event["data"]["reason"].startswith("InvalidPlan")
    assert [p["path"] for p in event["data"]["problems"]] == ["callbackUrl"]
    assert wave_instances(stack, "ssrf-sb") == []


# -- secrets ------------------------------------------------------------------------------------------------------


def test_no_status_report_event_or_log_line_carries_a_secret(stack: ApiStack) -> None:
    assert CAPTURED, "the scan needs what the other tests captured"
    secrets = {
        "master key": stack.host.admin_key,
        "system key": stack.host.system_key,
        "Service Bus key": re.search(r"SharedAccessKey=([^;]+)", stack.bus.connection_string).group(1),  # type: ignore[union-attr]
    }
    texts = {"captured": "\n".join(CAPTURED), "host log": stack.host_log()}
    for event in stack.events():
        texts["captured"] += "\n" + json.dumps(event["body"])
    for where, text in texts.items():
        for what, secret in secrets.items():
            assert secret not in text, f"{what} found in {where}"
        assert "s3cr3tSig" not in text, f"a callback signature found in {where}"
        assert not re.search(r"(?i)\bsig=(?!\*\*\*)", text), f"an unredacted sig= in {where}"
        assert not re.search(r"(?i)bearer\s+(?!\*\*\*)[A-Za-z0-9]", text), f"a bearer token in {where}"
