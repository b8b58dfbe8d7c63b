"""The status document, the report and the OpenAPI document, built from instance data as Durable reports it."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

import function_app
from migration.api_machine import find_machine, machine_document
from migration.api_requests import ApiError
from migration.api_status import (
    http_status,
    list_document,
    list_item,
    list_runtime_statuses,
    machine_view,
    machines_to_read,
    overall_status,
    status_document,
    submission_document,
)
from migration.openapi import openapi_document
from migration.report import COLUMNS, build_report, report_csv
from tests.triggers.stack import small_plan

BASE = "https://app.example/api"


def plan() -> dict[str, Any]:
    data = small_plan("doc-wave")
    data["callbackUrl"] = "https://logic.example/cb?api-version=1&sig=SeCrEt"
    return data


def wave(runtime: str, custom: Any = None, output: Any = None) -> dict[str, Any]:
    return {
        "instanceId": "migration~doc-wave",
        "runtimeStatus": runtime,
        "input": json.dumps({"plan": plan(), "idempotencyKey": "k-1", "submittedVia": "http"}),
        "customStatus": custom,
        "output": output,
        "createdTime": "2026-11-27T08:00:00Z",
        "lastUpdatedTime": "2026-11-27T08:05:00Z",
    }


def runbook(machine: str, phase: str, attempt: int, updated: str, **custom: Any) -> dict[str, Any]:
    return {
        "instanceId": f"migration~doc-wave~{machine}~{phase}~{attempt}",
        "runtimeStatus": "Running",
        "customStatus": {"machine": machine, **custom},
        "lastUpdatedTime": updated,
    }


def test_codes_follow_the_outcome() -> None:
    assert http_status(overall_status(wave("Running"))) == 202
    assert http_status(overall_status(wave("Pending"))) == 202
    assert http_status(overall_status(wave("Completed", output={"status": "Migrated"}))) == 200
    for status in ("PartiallyMigrated", "Failed", "Cancelled"):
        assert http_status(overall_status(wave("Completed", output={"status": status}))) == 409
    crashed = wave("Failed", output="Orchestrator function 'migration_wave' failed: boom sig=abc")
    assert overall_status(crashed) == "Failed"
    errors = status_document(crashed, {}, base_url=BASE)["errors"]
    assert errors[-1]["code"] == "OrchestrationFailed" and errors[-1]["message"].endswith("boom sig=***")
    assert overall_status(wave("Terminated")) == "Cancelled"


def test_a_running_wave_shows_each_machine_from_its_latest_instance() -> None:
    instances = {
        "db01": [
            runbook("db01", "prepare", 0, "2026-11-27T08:01:00Z", stage="validate", status="failed"),
            runbook("db01", "prepare", 1, "2026-11-27T08:04:00Z", stage="initialReplication", status="running"),
            {
                "instanceId": "migration~doc-wave~db01~prepare~1:initialReplication:1",
                "customStatus": {"progressPercent": 40, "eta": "2026-11-27T09:00:00+00:00"},
                "lastUpdatedTime": "2026-11-27T08:04:30Z",
            },
        ],
        "web01": [runbook("web01", "prepare", 0, "2026-11-27T08:03:00Z", stage="cutoverGate", status="ready")],
    }
    custom = {
        "phase": "awaitingApproval",
        "counts": {"inProgress": 1, "ready": 1},
        "gate": {"awaiting": {"count": 1, "first": ["web01"]}, "awaitingApprovalSince": "2026-11-27T08:03:00Z"},
        "lastControl": {"action": "approve", "reason": "see https://x.example/?sig=abc"},
    }
    document = status_document(wave("Running", custom), instances, base_url=BASE)
    machines = {m["name"]: m for m in document["machines"]}
    assert machines["db01"]["stage"] == "initialReplication" and machines["db01"]["progressPercent"] == 40
    assert machines["web01"]["outcome"] == "Ready"
    assert document["eta"] == "2026-11-27T09:00:00+00:00"
    assert document["counts"]["byStage"] == {"initialReplication": 1, "cutoverGate": 1}
    assert document["pendingApproval"]["machines"] == ["web01"] and document["pendingApproval"]["count"] == 1
    assert document["links"]["approve"] == f"{BASE}/migrations/doc-wave/approve"
    text = json.dumps(document)
    assert "SeCrEt" not in text and "sig=abc" not in text
    assert "callbackUrl" not in text


def test_an_ended_wave_answers_from_its_output() -> None:
    output = {
        "status": "PartiallyMigrated",
        "counts": {"migrated": 1, "failed": 1},
        "machines": {
            "db01": {"outcome": "migrated", "stage": "migrated", "jobs": ["job-1"], "error": None},
            "web01": {
                "outcome": "failed",
                "stage": "testFailover",
                "jobs": ["job-2"],
                "error": {"stage": "testFailover", "code": "X", "message": "Bearer abc.def", "jobId": "job-2"},
            },
        },
    }
    document = status_document(wave("Completed", {"phase": "completed"}, output), {}, base_url=BASE)
    assert document["status"] == "PartiallyMigrated" and document["error"]["code"] == "MigrationPartiallyMigrated"
    assert [m["outcome"] for m in document["machines"]] == ["Migrated", "Failed"]
    assert document["errors"] == [
        {"machine": "web01", "stage": "testFailover", "code": "X", "message": "Bearer ***", "jobId": "job-2"}
    ]
    assert (
        list_item(wave("Completed", {"migrationId": "doc-wave"}, output), base_url=BASE)["status"]
        == "PartiallyMigrated"
    )


def test_machines_are_paged() -> None:
    document = status_document(wave("Running", {}), {}, base_url=BASE, machines_skip=1, machines_top=1)
    assert [m["name"] for m in document["machines"]] == ["web01"]
    assert document["machinesPage"] == {"skip": 1, "top": 1, "total": 2}


def test_only_a_running_wave_asks_for_the_instances_of_its_page() -> None:
    assert machines_to_read(wave("Running")) == ["db01", "web01"]
    assert machines_to_read(wave("Running"), skip=1, top=5) == ["web01"]
    assert machines_to_read(wave("Completed", output={"status": "Migrated", "machines": {}})) == []


def test_a_submission_names_the_migration_and_its_links_never_the_callback() -> None:
    body = submission_document(wave("Pending"), BASE)
    assert body["id"] == "doc-wave" and body["status"] == "Running" and body["machineCount"] == 2
    assert body["idempotencyKey"] == "k-1" and body["submittedVia"] == "http"
    assert body["links"]["self"] == f"{BASE}/migrations/doc-wave"
    assert "SeCrEt" not in json.dumps(body)


def listed(migration_id: str, created: str, runtime: str = "Running", **output: Any) -> dict[str, Any]:
    return {
        "instanceId": f"migration~{migration_id}",
        "runtimeStatus": runtime,
        "customStatus": {"migrationId": migration_id, "name": f"{migration_id} sig=abc"},
        "output": output or None,
        "createdTime": created,
    }


def test_the_list_is_newest_first_filtered_paged_and_its_next_link_carries_no_key() -> None:
    waves = [
        listed("a", "2026-11-27T08:00:00Z"),
        listed("b", "2026-11-27T09:00:00Z", "Completed", status="Migrated"),
        listed("c", "2026-11-27T10:00:00Z"),
        listed("d", "2026-11-27T11:00:00Z"),
    ]
    query = {"status": "Running", "top": "2", "code": "KEY", "skip": "0"}
    page = list_document(waves, wanted={"Running"}, base_url=BASE, skip=0, top=2, query=query)
    assert [item["id"] for item in page["items"]] == ["d", "c"]
    assert (page["count"], page["total"], page["skip"], page["top"]) == (2, 3, 0, 2)
    assert page["nextLink"] == f"{BASE}/migrations?status=Running&top=2&skip=2"
    assert page["items"][0]["name"] == "d sig=***"
    last = list_document(waves, wanted=set(), base_url=BASE, skip=2, top=2, query={})
    assert [item["id"] for item in last["items"]] == ["b", "a"] and last["nextLink"] is None


def test_the_list_lets_durable_filter_only_when_the_wanted_statuses_are_all_on_one_side() -> None:
    assert list_runtime_statuses({"Running"}) == ["Pending", "Running", "Suspended", "ContinuedAsNew"]
    assert set(list_runtime_statuses({"Migrated", "Failed"})) == {"Completed", "Failed", "Terminated", "Canceled"}
    assert list_runtime_statuses({"Running", "Migrated"}) == list_runtime_statuses(set()) == []


def test_a_machine_mid_wave_shows_its_latest_finished_record() -> None:
    running = wave("Running", {})
    assert find_machine(running, "doc-wave", "DB01") == ("db01", "data")
    with pytest.raises(ApiError) as missing:
        find_machine(running, "doc-wave", "nope")
    assert (missing.value.status, missing.value.code) == (404, "MachineNotFound")
    earlier = runbook("db01", "prepare", 0, "2026-11-27T08:01:00Z", stage="cutoverGate", status="ready")
    earlier["output"] = {"stages": {"validate": {}}, "outcome": "ready", "jobs": ["job-1"]}
    later = runbook("db01", "cutover", 0, "2026-11-27T08:09:00Z", stage="unplannedFailover", status="running")
    wait = {
        "instanceId": "migration~doc-wave~db01~cutover~0:unplannedFailover:0",
        "output": {"stages": {}, "note": "a wait's output is never the machine's record"},
        "lastUpdatedTime": "2026-11-27T08:10:00Z",
    }
    body = machine_document(running, "doc-wave", "db01", "data", {"db01": [earlier, later, wait]}, base_url=BASE)
    assert body["record"] == earlier["output"]
    assert body["stage"] == "unplannedFailover" and body["status"] == "running"
    assert body["migrationId"] == "doc-wave" and body["links"]["self"] == f"{BASE}/migrations/doc-wave"


def test_a_terminated_runbook_is_not_shown_as_running() -> None:
    instance = runbook("db01", "prepare", 0, "2026-11-27T08:01:00Z", stage="testFailover", status="waiting")
    instance["runtimeStatus"] = "Terminated"
    assert machine_view("doc-wave", "db01", "data", [instance])["status"] == "terminated"


def test_the_report_has_a_row_per_machine_and_a_safe_csv() -> None:
    record = {
        "outcome": "failed",
        "stage": "testFailover",
        "sourceKind": "physical",
        "stages": {"validate": {"startedAt": "t0", "endedAt": "t1"}},
        "jobs": ["j1", "j2"],
        "downtime": {"startedAt": "a", "endedAt": "b", "seconds": 120},
        "error": {"stage": "testFailover", "code": "=cmd|' /C calc'!A0", "message": "sig=abc", "jobId": "j2"},
    }
    document = status_document(wave("Running", {}), {}, base_url=BASE)
    report = build_report(document, {"db01": record, "web01": None})
    assert [row["machine"] for row in report["rows"]] == ["db01", "web01"]
    assert report["rows"][0]["jobIds"] == "j1 j2" and report["rows"][0]["downtimeSeconds"] == 120
    assert report["rows"][0]["errorMessage"] == "sig=***"
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    assert rows[0] == COLUMNS and len(rows) == 3
    assert rows[1][COLUMNS.index("errorCode")].startswith("'=")
    assert rows[1][COLUMNS.index("validateEndedAt")] == "t1"


# -- OpenAPI ------------------------------------------------------------------------------------------------------


def _routes() -> list[tuple[str, str, str]]:
    # The builders, not get_functions(): indexing the app twice in one process is refused by azure-functions.
    app = function_app.app
    found = []
    for function in [builder.build(app.auth_level) for builder in app._function_builders]:
        trigger = function.get_trigger()
        if getattr(trigger, "type", None) != "httpTrigger":
            continue
        for method in trigger.methods:
            found.append((function.get_function_name(), str(getattr(method, "value", method)).lower(), trigger.route))
    return found


def test_every_route_is_in_the_openapi_document_and_nothing_else() -> None:
    document = openapi_document("app.example")
    described = {(method, path) for path, operations in document["paths"].items() for method in operations}
    registered = {(method, "/" + route) for _, method, route in _routes()}
    assert registered == described
    assert len(_routes()) == 14


@pytest.mark.parametrize(("path", "method"), [(p, m) for p, ops in openapi_document()["paths"].items() for m in ops])
def test_each_operation_is_usable_by_a_custom_connector(path: str, method: str) -> None:
    document = openapi_document()
    operation = document["paths"][path][method]
    assert operation["operationId"] and operation["summary"]
    assert operation["x-ms-visibility"] in ("important", "advanced", "internal")
    if path != "/health":
        assert {"401", "403"} <= set(operation["responses"]), (path, method)
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            assert parameter["required"] is True and "{" + parameter["name"] + "}" in path


def test_the_callback_field_is_the_webhook_notification_url() -> None:
    document = openapi_document()
    callback = document["definitions"]["Plan"]["properties"]["callbackUrl"]
    assert callback["x-ms-notification-url"] is True and callback["x-ms-visibility"] == "internal"
    assert "x-ms-notification-content" in document["paths"]["/migrations"]["post"]
    assert document["swagger"] == "2.0" and document["security"] == [{"entra": []}]
    assert document["securityDefinitions"]["entra"]["type"] == "oauth2", "a custom connector signs in with Entra ID"
    assert document["paths"]["/health"]["get"]["security"] == []
