"""The management API as the SDK's real ``DurableOrchestrationClient`` uses it, quirks and errors included."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import azure.durable_functions as df
import pytest

from emulators.functions import history as h
from tests.emulators.functions.conftest import http, mgmt, start, status_of, wait_for

Status = df.OrchestrationRuntimeStatus


def test_client_start_get_status_and_flags(durable) -> None:
    client = durable.client()
    iid = durable.run(client.start_new("sequence", None, ["X"]))
    assert len(iid) == 32
    wait_for(durable, iid)
    st = durable.run(client.get_status(iid))
    assert st.runtime_status == Status.Completed and st.output == ["Hello X!"]
    assert st.input_ == '["X"]'  # the string the client sent, parsed once (quirk)
    assert st.created_time is not None and st.last_updated_time >= st.created_time
    full = durable.run(client.get_status(iid, show_history=True, show_history_output=True))
    assert full.history is None  # the SDK maps the body's historyEvents to an attribute of that name
    events = full.historyEvents
    types = [e["EventType"] for e in events]
    assert "OrchestratorStarted" not in types and "TaskScheduled" not in types
    completed = next(e for e in events if e["EventType"] == "TaskCompleted")
    assert completed["FunctionName"] == "hello" and completed["Result"] == '"Hello X!"'
    no_output = durable.run(client.get_status(iid, show_history=True))
    assert "Result" not in next(e for e in no_output.historyEvents if e["EventType"] == "TaskCompleted")
    missing = durable.run(client.get_status("does-not-exist"))
    assert not missing


def test_status_codes_and_headers_of_the_status_route(durable) -> None:
    iid = start(durable, "long_wait")
    wait_for(durable, iid, ("Running",))
    running = mgmt(durable, "GET", f"instances/{iid}")
    assert running.status == 202 and running.headers["retry-after"] == "5" and iid in running.headers["location"]
    assert running.json()["customStatus"] == "waiting"
    assert mgmt(durable, "GET", "instances/nope").status == 404 and mgmt(durable, "GET", "instances/nope").body == b""
    assert mgmt(durable, "GET", f"instances/{iid}?showInput=false").json()["input"] is None
    assert mgmt(durable, "GET", f"instances/{iid}?showHistory=maybe").status == 400
    durable.run(durable.client().raise_event(iid, "Finish", "bye"))
    done = wait_for(durable, iid)
    assert done["output"] == '"bye"'
    assert mgmt(durable, "GET", f"instances/{iid}").status == 200


def test_duplicate_running_instance_id_is_a_500_and_finished_ones_are_replaced(durable) -> None:
    client = durable.client()
    iid = durable.run(client.start_new("long_wait", "fixed-id"))
    wait_for(durable, iid, ("Running",))
    with pytest.raises(Exception, match="Something went wrong|500|already exists"):
        durable.run(client.start_new("long_wait", "fixed-id"))
    durable.run(client.terminate(iid, "stop"))
    wait_for(durable, iid, ("Terminated",))
    again = durable.run(client.start_new("sequence", "fixed-id", ["again"]))
    assert again == "fixed-id"
    assert wait_for(durable, iid)["output"] == ["Hello again!"]


def test_terminate_suspend_resume(durable) -> None:
    client = durable.client()
    iid = durable.run(client.start_new("long_wait"))
    wait_for(durable, iid, ("Running",))
    durable.run(client.suspend(iid, "pause"))
    wait_for(durable, iid, ("Suspended",))
    durable.run(client.raise_event(iid, "Finish", "held"))  # accepted and buffered while suspended
    time.sleep(0.2)
    assert status_of(durable, iid)["runtimeStatus"] == "Suspended"
    with pytest.raises(Exception, match="500"):
        durable.run(client.suspend(iid, "again"))  # suspending a non-running instance: InvalidOperation -> 500
    durable.run(client.resume(iid, "go on"))
    done = wait_for(durable, iid)
    assert done["output"] == '"held"'
    events = [e["EventType"] for e in durable.hub.get_history(durable.hub.get_instance(iid))]
    assert events.index(h.EXECUTION_SUSPENDED) < events.index(h.EXECUTION_RESUMED) < events.index(h.EVENT_RAISED)
    durable.run(client.resume(iid, "finished"))  # the SDK treats the 410 for a finished instance as success
    assert mgmt(durable, "POST", f"instances/{iid}/resume").status == 410
    other = durable.run(client.start_new("long_wait"))
    wait_for(durable, other, ("Running",))
    durable.run(client.terminate(other, "enough"))
    st = wait_for(durable, other, ("Terminated",))
    assert st["output"] == "enough"
    assert mgmt(durable, "POST", f"instances/{other}/terminate?reason=x").status == 410
    assert (
        mgmt(
            durable, "POST", f"instances/{other}/raiseEvent/Finish", "1", **{"Content-Type": "application/json"}
        ).status
        == 410
    )


def test_terminating_a_child_fails_the_parents_task(durable) -> None:
    client = durable.client()
    iid = durable.run(client.start_new("parent", None, 1))
    wait_for(durable, iid, ("Completed", "Running"))
    assert wait_for(durable, iid)["runtimeStatus"] == "Completed"


def test_restart_returns_the_new_instances_payload(durable) -> None:
    client = durable.client()
    iid = durable.run(client.start_new("sequence", None, ["R"]))
    wait_for(durable, iid)
    payload = durable.run(client.restart(iid))
    assert isinstance(payload, dict) and payload["id"] != iid  # the SDK returns the body, not an id (quirk)
    assert wait_for(durable, payload["id"])["output"] == ["Hello R!"]
    same = durable.run(client.restart(iid, restart_with_new_instance_id=False))
    assert same["id"] == iid
    wait_for(durable, iid)
    bad = mgmt(durable, "POST", "instances/unknown/restart")
    assert bad.status == 400 and "InstanceId does not match" in bad.json()["ExceptionMessage"]


def test_purge_single_and_by_filter(durable) -> None:
    client = durable.client()
    ids = [durable.run(client.start_new("sequence", None, [str(i)])) for i in range(3)]
    for iid in ids:
        wait_for(durable, iid)
    result = durable.run(client.purge_instance_history(ids[0]))
    assert result.instances_deleted == 1
    assert durable.run(client.purge_instance_history(ids[0])).instances_deleted == 0
    assert mgmt(durable, "GET", f"instances/{ids[0]}").status == 404
    since = datetime.now(UTC) - timedelta(minutes=5)
    by = durable.run(client.purge_instance_history_by(since, None, [Status.Completed]))
    assert by.instances_deleted == 2
    assert durable.run(client.purge_instance_history_by(since, None, [Status.Completed])).instances_deleted == 0
    assert mgmt(durable, "DELETE", "instances/").status == 400  # createdTimeFrom is required


def test_list_with_filters_and_paging(durable) -> None:
    client = durable.client()
    before = datetime.now(UTC) - timedelta(seconds=1)
    done = [durable.run(client.start_new("sequence", f"list-done-{i}", [str(i)])) for i in range(3)]
    waiting = durable.run(client.start_new("long_wait", "list-wait-0"))
    for iid in done:
        wait_for(durable, iid)
    wait_for(durable, waiting, ("Running",))
    everything = durable.run(client.get_status_all())
    assert {s.instance_id for s in everything} >= set(done) | {waiting}
    running = durable.run(client.get_status_by(runtime_status=[Status.Running]))
    assert [s.instance_id for s in running] == [waiting]
    by_prefix = mgmt(durable, "GET", "instances/?instanceIdPrefix=list-done-").json()
    assert sorted(s["instanceId"] for s in by_prefix) == sorted(done)
    window = durable.run(client.get_status_by(created_time_from=before, created_time_to=datetime.now(UTC)))
    assert len(window) == 4
    page1 = mgmt(durable, "GET", "instances/?top=2")
    token = page1.headers["x-ms-continuation-token"]
    assert len(page1.json()) == 2
    page2 = mgmt(durable, "GET", "instances/?top=2", **{"x-ms-continuation-token": token})
    assert len(page2.json()) == 2
    assert not {s["instanceId"] for s in page1.json()} & {s["instanceId"] for s in page2.json()}
    assert "x-ms-continuation-token" not in page2.headers
    durable.run(client.raise_event(waiting, "Finish", None))
    wait_for(durable, waiting)


def test_wait_for_completion_or_check_status_through_a_starter(durable) -> None:
    reply = http(
        "POST",
        f"{durable.base_url}/api/wait/sequence?code={durable.function_key}",
        json.dumps(["W"]),
        {"Content-Type": "application/json"},
    )
    assert reply.status == 200 and reply.json() == ["Hello W!"]
    slow = http(
        "POST",
        f"{durable.base_url}/api/wait/long_wait?timeout=300&code={durable.function_key}",
        "null",
        {"Content-Type": "application/json"},
    )
    assert slow.status == 202 and "statusQueryGetUri" in slow.json()
    durable.run(durable.client().raise_event(slow.json()["id"], "Finish", 1))
    wait_for(durable, slow.json()["id"])
    failed = http(
        "POST",
        f"{durable.base_url}/api/wait/raises?code={durable.function_key}",
        "null",
        {"Content-Type": "application/json"},
    )
    assert failed.status == 500 and failed.json()["runtimeStatus"] == "Failed"


def test_server_side_wait_on_start(durable) -> None:
    body = json.dumps(json.dumps(["S"]))  # what the SDK client sends: a JSON string literal
    path = "orchestrators/sequence?timeout=20&pollingInterval=0.05"
    reply = mgmt(durable, "POST", path, body, **{"Content-Type": "application/json"})
    assert reply.status == 200 and reply.json() == ["Hello S!"]


def test_a_raw_json_array_input_breaks_get_input_as_under_the_extension(durable) -> None:
    path = "orchestrators/sequence?timeout=20&pollingInterval=0.05"
    reply = mgmt(durable, "POST", path, '["S"]', **{"Content-Type": "application/json"})
    assert reply.status == 500 and reply.json()["runtimeStatus"] == "Failed"
    assert "the JSON object must be str" in reply.json()["output"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("POST", "orchestrators/no_such_orchestrator", None, 400, "The function 'no_such_orchestrator' doesn't exist"),
        ("POST", "orchestrators/sequence", "{not json", 400, "Invalid JSON content"),
        ("POST", "orchestrators/sequence/@bad", None, 400, "must not start with @"),
        ("POST", "orchestrators/sequence/" + "x" * 300, None, 400, "must not exceed 256"),
        ("GET", "instances/?runtimeStatus=Sleeping", None, 400, "'Sleeping' is not a runtime status"),
        ("GET", "instances/?createdTimeFrom=yesterday", None, 400, "not a valid date"),
        ("GET", "instances/?top=0", None, 400, "top must be a positive integer"),
        ("GET", "instances/", None, 200, ""),
        ("GET", "entities/counter/k", None, 400, "entities are not supported"),
    ],
)
def test_bad_management_requests_get_clear_errors(durable, method, path, body, status, fragment) -> None:
    headers = {"Content-Type": "application/json"} if body else {}
    reply = mgmt(durable, method, path, body, **headers)
    assert reply.status == status, reply.body
    assert fragment.encode() in reply.body
    if reply.body:
        json.loads(reply.body)  # the SDK reads every reply as JSON: bodies are JSON or empty
    assert http("GET", f"{durable.base_url}/admin/host/ping").status == 200  # still serving


def test_raise_event_content_type_and_body_errors(durable) -> None:
    iid = start(durable, "long_wait")
    wait_for(durable, iid, ("Running",))
    plain = mgmt(durable, "POST", f"instances/{iid}/raiseEvent/Finish", "1", **{"Content-Type": "text/plain"})
    assert plain.status == 400 and b"Only application/json" in plain.body
    broken = mgmt(
        durable, "POST", f"instances/{iid}/raiseEvent/Finish", "{oops", **{"Content-Type": "application/json"}
    )
    assert broken.status == 400 and b"Invalid JSON" in broken.body
    assert status_of(durable, iid)["runtimeStatus"] == "Running"  # nothing changed
    ok = mgmt(
        durable, "POST", f"instances/{iid}/raiseEvent/Finish", '{"raw": 1}', **{"Content-Type": "application/json"}
    )
    assert ok.status == 202 and ok.body == b""
    assert wait_for(durable, iid)["output"] == {"raw": 1}


def test_the_management_routes_need_the_system_key_and_rpc_routes_loopback(durable) -> None:
    url = f"{durable.base_url}/runtime/webhooks/durabletask/instances/"
    assert http("GET", url).status == 401
    assert http("GET", url + f"?code={durable.function_key}").status == 401
    assert http("GET", url + f"?code={durable.admin_key}").status == 200
    assert http("GET", f"{durable.base_url}/durabletask/instances/").status == 200
    binding = json.loads(durable.client_binding())
    assert binding["rpcBaseUrl"].endswith("/durabletask/")
    assert binding["managementUrls"]["id"] == "INSTANCEID"
    assert binding["requiredQueryStringParameters"] == f"code={quote(durable.system_key)}"


def test_check_status_response_rewrites_the_origin(durable) -> None:
    client = durable.client()
    import azure.functions as func

    request = func.HttpRequest("POST", "http://example.test:8080/api/start/x", body=b"")
    response = client.create_check_status_response(request, "abc")
    body = json.loads(response.get_body())
    assert response.status_code == 202 and response.headers["Retry-After"] == "10"
    assert body["statusQueryGetUri"].startswith("http://example.test:8080/runtime/webhooks/durabletask/instances/abc")
    assert "rewindPostUri" in body


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "instances/nope", None),
        ("POST", "instances/nope/terminate", None),
        ("POST", "instances/nope/suspend", None),
        ("POST", "instances/nope/resume", None),
        ("POST", "instances/nope/rewind", None),
        ("POST", "instances/nope/raiseEvent/E", "1"),
        ("DELETE", "instances/nope", None),
        ("POST", "orchestrators/sequence/a/b", None),  # no route: an id with a slash in the path
        ("POST", "instances/nope/unknownOperation", None),
        ("PATCH", "somewhere/else", None),
    ],
)
def test_every_404_has_an_empty_body(durable, method, path, body) -> None:
    """HttpApiHandler answers ``request.CreateResponse(HttpStatusCode.NotFound)``: no content, on every route."""
    reply = mgmt(durable, method, path, body, **({"Content-Type": "application/json"} if body else {}))
    assert (reply.status, reply.body) == (404, b"")


def test_every_410_has_an_empty_body(durable) -> None:
    iid = start(durable, "sequence", ["G"])
    wait_for(durable, iid)
    for operation in ("terminate", "suspend", "resume", "rewind"):
        reply = mgmt(durable, "POST", f"instances/{iid}/{operation}")
        assert (operation, reply.status, reply.body) == (operation, 410, b"")
    event = mgmt(durable, "POST", f"instances/{iid}/raiseEvent/E", "1", **{"Content-Type": "application/json"})
    assert (event.status, event.body) == (410, b"")


def test_what_the_sdk_makes_of_the_extensions_bodies(durable) -> None:
    """The SDK surfaces some bodies as they are: an empty 404 becomes ``Exception(None)``, a rewind of a running
    instance the extension's 500 ``HttpError`` (DurableClient.RewindAsync throws InvalidOperationException)."""
    client = durable.client()
    with pytest.raises(Exception) as no_route:
        durable.run(client.start_new("sequence", "a/b"))  # the SDK puts the id in the path unescaped
    assert no_route.value.args == (None,)
    assert not durable.run(client.get_status("nope"))
    with pytest.raises(Exception, match="No instance with ID 'nope' found."):
        durable.run(client.terminate("nope", "why"))
    running = durable.run(client.start_new("long_wait"))
    wait_for(durable, running, ("Running",))
    with pytest.raises(Exception) as rewind:
        durable.run(client.rewind(running, "again"))
    assert str(rewind.value).startswith("Received unexpected payload from the durable-extension: [500, ")
    assert "The rewind operation is only supported on failed orchestration instances." in str(rewind.value)
    assert "System.InvalidOperationException" in str(rewind.value)
    durable.run(client.raise_event(running, "Finish", None))
    wait_for(durable, running)


def test_purge_by_without_created_time_from_answers_a_json_string(durable) -> None:
    reply = mgmt(durable, "DELETE", "instances/")
    assert reply.status == 400
    assert reply.json() == "Please provide value for 'createdTimeFrom' parameter."


def test_an_event_with_an_empty_body_is_invalid_json(durable) -> None:
    iid = start(durable, "long_wait")
    wait_for(durable, iid, ("Running",))
    reply = mgmt(durable, "POST", f"instances/{iid}/raiseEvent/Finish", "", **{"Content-Type": "application/json"})
    assert reply.status == 400 and reply.json()["Message"] == "Invalid JSON content"
    assert reply.json()["ExceptionType"] == "Newtonsoft.Json.JsonReaderException"
    durable.run(durable.client().raise_event(iid, "Finish", None))
    wait_for(durable, iid)


def test_a_pending_instance_can_be_suspended(durable) -> None:
    """DurableClient.IsOrchestrationSuspendable: Running, Pending and ContinuedAsNew."""
    durable.quiesce()  # nothing runs: the instance stays Pending
    client = durable.client()
    iid = durable.run(client.start_new("sequence", None, ["P"]))
    assert status_of(durable, iid)["runtimeStatus"] == "Pending"
    durable.run(client.suspend(iid, "before it starts"))
    with pytest.raises(Exception, match="500"):
        durable.run(client.resume(iid, "it is not suspended yet"))
