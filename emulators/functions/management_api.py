"""The Durable extension's HTTP management API (HttpApiHandler), as ``DurableOrchestrationClient`` calls it.

Status codes, bodies and quirks follow the extension: 202 + ``Location`` + ``Retry-After`` for running
instances; 404 and 410 with an empty body on every route (``request.CreateResponse(NotFound|Gone)``); a 500
for a duplicate running instance id, for suspending something that is not running or rewinding something that
has not failed; double-encoded event data stored as the string the client sent; and ``restart`` answering with
the new instance's check-status body.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from . import history as h
from .app_loader import LoadedApp
from .limits import start_instance_id_error
from .taskhub import RUNNING_STATES, TERMINAL, Instance, InstanceExists, TaskHub

RUNTIME_STATUSES = (
    "Running",
    "Completed",
    "ContinuedAsNew",
    "Failed",
    "Canceled",
    "Terminated",
    "Pending",
    "Suspended",
)
# HttpApiHandler.IsCompletedStatus: the states terminate, suspend, resume and raise-event answer 410 for.
_GONE = ("Completed", "Terminated", "Canceled", "Failed")
# DurableClient.IsOrchestrationSuspendable.
_SUSPENDABLE = ("Running", "Pending", "ContinuedAsNew")


def error_response(status: int, message: str, exception_message: str | None = None, exc_type: str = "") -> web.Response:
    """The ASP.NET ``HttpError`` body the extension answers errors with."""
    body: dict[str, Any] = {"Message": message}
    if exception_message is not None:
        body.update(ExceptionMessage=exception_message, ExceptionType=exc_type or "System.Exception", StackTrace=None)
    return web.json_response(body, status=status)


def parse_bool(value: str | None, default: bool = False) -> bool:
    """Query booleans as .NET reads them: case-insensitive ``true``/``false`` (the SDK sends ``True``)."""
    if value is None or value == "":
        return default
    low = value.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise ValueError(f"'{value}' is not a valid boolean")


def parse_time(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        return h.parse_ts(value.replace(" ", "+")).timestamp()
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid date and time") from exc


def parse_json_text(text: str | None) -> Any:
    """``ParseToJToken``: JSON when it parses, the raw string otherwise."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text


def empty(status: int) -> web.Response:
    """``request.CreateResponse(status)``: no body at all, what every 404 and 410 of the handler sends."""
    return web.Response(status=status)


class ManagementApi:
    """Handlers for ``{base}/orchestrators/*`` and ``{base}/instances/*``; mounted twice by the server."""

    def __init__(
        self,
        hub: TaskHub,
        app: LoadedApp,
        hub_name: str,
        public_base: Callable[[], str],
        system_key: str,
    ) -> None:
        self.hub = hub
        self.app = app
        self.hub_name = hub_name
        self.public_base = public_base
        self.system_key = system_key

    # ------------------------------------------------------------------------------ payloads
    def _suffix(self) -> str:
        return f"taskHub={quote(self.hub_name)}&connection=Storage&code={quote(self.system_key)}"

    def base_url(self) -> str:
        return f"{self.public_base()}/runtime/webhooks/durabletask"

    def check_status_payload(self, instance_id: str) -> dict[str, str]:
        """HttpManagementPayload for an instance (the start response omits ``rewindPostUri``)."""
        b = f"{self.base_url()}/instances/{quote(instance_id, safe='')}"
        s = self._suffix()
        return {
            "id": instance_id,
            "statusQueryGetUri": f"{b}?{s}",
            "sendEventPostUri": f"{b}/raiseEvent/{{eventName}}?{s}",
            "terminatePostUri": f"{b}/terminate?reason={{text}}&{s}",
            "purgeHistoryDeleteUri": f"{b}?{s}",
            "restartPostUri": f"{b}/restart?{s}",
            "suspendPostUri": f"{b}/suspend?reason={{text}}&{s}",
            "resumePostUri": f"{b}/resume?reason={{text}}&{s}",
        }

    def client_binding(self, rpc_base: str) -> dict[str, Any]:
        """The ``durableClient`` binding data (OrchestrationClientInputData) handed to client functions."""
        base = self.base_url()
        s = self._suffix()
        code = quote(self.system_key)
        mgmt = self.check_status_payload("INSTANCEID")
        mgmt["id"] = "INSTANCEID"
        mgmt["rewindPostUri"] = f"{base}/instances/INSTANCEID/rewind?reason={{text}}&{s}"
        return {
            "taskHubName": self.hub_name,
            "connectionName": None,
            "creationUrls": {
                "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?code={code}",
                "createAndWaitOnNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
                f"?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&code={code}",
            },
            "managementUrls": mgmt,
            "baseUrl": base,
            "requiredQueryStringParameters": f"code={quote(self.system_key)}",
            "rpcBaseUrl": rpc_base,
        }

    def _accepted(self, instance_id: str) -> web.Response:
        payload = self.check_status_payload(instance_id)
        return web.json_response(
            payload, status=202, headers={"Location": payload["statusQueryGetUri"], "Retry-After": "10"}
        )

    def status_body(self, inst: Instance, show_input: bool, show_history: bool, show_output: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": inst.name,
            "instanceId": inst.instance_id,
            "runtimeStatus": inst.status,
            "input": parse_json_text(inst.input) if show_input else None,
            "customStatus": parse_json_text(inst.custom_status),
            "output": parse_json_text(inst.output),
            "createdTime": h.fmt_status_ts(datetime.fromtimestamp(inst.created, UTC)),
            "lastUpdatedTime": h.fmt_status_ts(datetime.fromtimestamp(inst.updated, UTC)),
        }
        if show_history and inst.status != "Pending":
            body["historyEvents"] = self._history_view(self.hub.get_history(inst), show_output)
        return body

    @staticmethod
    def _history_view(events: list[dict[str, Any]], show_output: bool) -> list[dict[str, Any]]:
        """The reshaped history the status API shows (DurableClient.ConvertHistoryEvent...)."""
        scheduled: dict[int, dict[str, Any]] = {}
        for e in events:
            if e["EventType"] in (h.TASK_SCHEDULED, h.SUB_CREATED):
                scheduled[e["EventId"]] = e
        paired = set()
        out: list[dict[str, Any]] = []
        for e in events:
            et = e["EventType"]
            if et in (h.ORCHESTRATOR_STARTED, h.ORCHESTRATOR_COMPLETED):
                continue
            view = {k: v for k, v in e.items() if k not in ("EventId", "IsPlayed", "EventType")}
            view = {"EventType": h.EVENT_TYPE_NAMES.get(et, str(et)), **view}
            if et in (h.TASK_COMPLETED, h.TASK_FAILED, h.SUB_COMPLETED, h.SUB_FAILED):
                src = scheduled.get(e.get("TaskScheduledId", -2))
                if src is not None:
                    paired.add(src["EventId"])
                    view["FunctionName"] = src.get("Name")
                    view["ScheduledTime"] = src.get("Timestamp")
            if not show_output:
                view.pop("Result", None)
            out.append(view)
        return [
            v
            for v, e in zip(out, [e for e in events if e["EventType"] not in (12, 13)], strict=True)
            if not (e["EventType"] in (h.TASK_SCHEDULED, h.SUB_CREATED) and e["EventId"] in paired)
        ]

    # ------------------------------------------------------------------------------ start
    async def start(self, request: web.Request) -> web.Response:
        name = request.match_info["function_name"]
        instance_id = request.match_info.get("instance_id") or uuid.uuid4().hex
        if name not in self.app.orchestrators:
            known = ", ".join(f"'{n}'" for n in sorted(self.app.orchestrators))
            return error_response(
                400,
                "One or more of the arguments submitted is incorrect",
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
                f"Additional info: The following are the known orchestrator functions: {known}.",
                "System.ArgumentException",
            )
        bad = start_instance_id_error(instance_id)
        if bad:
            return error_response(
                400, "One or more of the arguments submitted is incorrect", bad, "System.ArgumentException"
            )
        raw = await request.read()
        input_json: str | None = None
        if raw.strip():
            try:
                input_json = json.dumps(json.loads(raw))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                return error_response(400, "Invalid JSON content", str(exc), "Newtonsoft.Json.JsonReaderException")
        try:
            timeout = float(request.query["timeout"]) if "timeout" in request.query else None
            interval = float(request.query.get("pollingInterval", "1"))
        except ValueError:
            return error_response(400, "timeout and pollingInterval must be numbers of seconds")
        try:
            self.hub.create_instance(instance_id, name, input_json)
        except InstanceExists as exc:
            return error_response(
                500,
                "Something went wrong while processing your request",
                str(exc),
                "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
            )
        if timeout is None:
            return self._accepted(instance_id)
        return await self._wait(instance_id, timeout, max(interval, 0.05))

    async def _wait(self, instance_id: str, timeout: float, interval: float) -> web.Response:
        deadline = time.monotonic() + timeout
        while True:
            inst = self.hub.get_instance(instance_id)
            if inst is not None and inst.status in TERMINAL:
                if inst.status == "Completed":
                    return web.json_response(parse_json_text(inst.output), status=200)
                body = self.status_body(inst, True, False, False)
                return web.json_response(body, status=500 if inst.status == "Failed" else 200)
            if time.monotonic() >= deadline:
                return self._accepted(instance_id)
            await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))

    # ------------------------------------------------------------------------------ status
    async def get_status(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["instance_id"]
        try:
            show_history = parse_bool(request.query.get("showHistory"))
            show_output = parse_bool(request.query.get("showHistoryOutput"))
            show_input = parse_bool(request.query.get("showInput"), default=True)
            fail_500 = parse_bool(request.query.get("returnInternalServerErrorOnFailure"))
        except ValueError as exc:
            return error_response(400, str(exc))
        inst = self.hub.get_instance(instance_id)
        if inst is None:
            return web.Response(status=404)
        body = self.status_body(inst, show_input, show_history, show_output)
        if inst.status in RUNNING_STATES:
            return web.json_response(body, status=202, headers={"Location": str(request.url), "Retry-After": "5"})
        if inst.status == "Failed" and fail_500:
            return web.json_response(body, status=500)
        return web.json_response(body, status=200)

    async def list_instances(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            created_from = parse_time(q.get("createdTimeFrom"))
            created_to = parse_time(q.get("createdTimeTo"))
            statuses = self._statuses(q.get("runtimeStatus"))
            show_input = parse_bool(q.get("showInput"), default=True)
            top = int(q.get("top", "100"))
            if top <= 0:
                raise ValueError("top must be a positive integer")
            token = request.headers.get("x-ms-continuation-token")
            after = self._decode_token(token) if token and token != "null" else None
        except ValueError as exc:
            return error_response(400, str(exc))
        rows = self.hub.query_instances(created_from, created_to, statuses, q.get("instanceIdPrefix"), top + 1, after)
        headers = {}
        if len(rows) > top:
            rows = rows[:top]
            last = rows[-1]
            headers["x-ms-continuation-token"] = base64.urlsafe_b64encode(
                json.dumps([last.created, last.instance_id]).encode()
            ).decode()
        body = [self.status_body(r, show_input, False, False) for r in rows]
        return web.json_response(body, status=200, headers=headers)

    @staticmethod
    def _statuses(text: str | None) -> list[str] | None:
        if not text:
            return None
        out = []
        for part in text.split(","):
            p = part.strip()
            match = next((s for s in RUNTIME_STATUSES if s.lower() == p.lower()), None)
            if match is None:
                raise ValueError(f"'{p}' is not a runtime status; expected one of {', '.join(RUNTIME_STATUSES)}")
            out.append(match)
        return out

    @staticmethod
    def _decode_token(token: str) -> tuple[float, str]:
        try:
            created, iid = json.loads(base64.urlsafe_b64decode(token.encode()))
            return float(created), str(iid)
        except Exception as exc:
            raise ValueError("x-ms-continuation-token is not a token this host issued") from exc

    # ------------------------------------------------------------------------------ commands
    def _get_or_404(self, instance_id: str) -> Instance | web.Response:
        inst = self.hub.get_instance(instance_id)
        if inst is None:
            return empty(404)
        return inst

    async def raise_event(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["instance_id"]
        event_name = request.match_info["event_name"]
        inst = self._get_or_404(instance_id)
        if isinstance(inst, web.Response):
            return inst
        if inst.status in _GONE:
            return empty(410)
        if request.content_type != "application/json":
            return error_response(400, "Only application/json request content is supported")
        raw = await request.read()
        if not raw.strip():
            # ConvertToJToken("") -> JToken.Load on an empty reader throws: an event always carries JSON.
            return error_response(
                400,
                "Invalid JSON content",
                "Error reading JToken from JsonReader. Path '', line 0, position 0.",
                "Newtonsoft.Json.JsonReaderException",
            )
        try:
            input_json = json.dumps(json.loads(raw))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return error_response(400, "Invalid JSON content", str(exc), "Newtonsoft.Json.JsonReaderException")
        self.hub.send_event(instance_id, h.event_raised(h.fmt_ts(h.utcnow()), event_name, input_json))
        return web.Response(status=202)

    async def terminate(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["instance_id"]
        inst = self._get_or_404(instance_id)
        if isinstance(inst, web.Response):
            return inst
        if inst.status in _GONE:
            return empty(410)
        reason = request.query.get("reason")
        self.hub.send_event(instance_id, h.execution_terminated(h.fmt_ts(h.utcnow()), reason))
        return web.Response(status=202)

    async def suspend(self, request: web.Request) -> web.Response:
        return await self._suspend_resume(request, suspend=True)

    async def resume(self, request: web.Request) -> web.Response:
        return await self._suspend_resume(request, suspend=False)

    async def _suspend_resume(self, request: web.Request, suspend: bool) -> web.Response:
        instance_id = request.match_info["instance_id"]
        inst = self._get_or_404(instance_id)
        if isinstance(inst, web.Response):
            return inst
        if inst.status in _GONE:
            return empty(410)
        wanted = _SUSPENDABLE if suspend else ("Suspended",)
        if inst.status not in wanted:
            verb = "suspend" if suspend else "resume"
            return error_response(
                500,
                "Something went wrong while processing your request",
                f"Cannot {verb} the orchestration instance {instance_id} because instance is in the {inst.status} "
                "state.",
                "System.InvalidOperationException",
            )
        reason = request.query.get("reason")
        ts = h.fmt_ts(h.utcnow())
        event = h.execution_suspended(ts, reason) if suspend else h.execution_resumed(ts, reason)
        self.hub.send_event(instance_id, event)
        return web.Response(status=202)

    async def restart(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["instance_id"]
        try:
            new_id_wanted = parse_bool(request.query.get("restartWithNewInstanceId"), default=True)
        except ValueError as exc:
            return error_response(400, str(exc))
        inst = self.hub.get_instance(instance_id)
        if inst is None:
            return error_response(
                400,
                "One or more of the arguments submitted is incorrect",
                "InstanceId does not match a valid orchestration instance.",
                "System.ArgumentException",
            )
        new_id = uuid.uuid4().hex if new_id_wanted else instance_id
        try:
            self.hub.create_instance(new_id, inst.name, self._original_input(inst))
        except InstanceExists as exc:
            return error_response(
                500,
                "Something went wrong while processing your request",
                str(exc),
                "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
            )
        return self._accepted(new_id)

    def _original_input(self, inst: Instance) -> str | None:
        return inst.input

    async def rewind(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["instance_id"]
        inst = self._get_or_404(instance_id)
        if isinstance(inst, web.Response):
            return inst
        if inst.status in ("Canceled", "Terminated", "Completed"):
            return empty(410)
        if inst.status != "Failed":
            # DurableClient.RewindAsync throws InvalidOperationException; the handler's catch-all makes it a 500.
            return error_response(
                500,
                "Something went wrong while processing your request",
                "The rewind operation is only supported on failed orchestration instances.",
                "System.InvalidOperationException",
            )
        return error_response(501, "Rewind is not supported by this host.")

    async def purge(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["instance_id"]
        deleted = self.hub.purge([instance_id])
        if not deleted:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted}, status=200)

    async def purge_by(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            created_from = parse_time(q.get("createdTimeFrom"))
            created_to = parse_time(q.get("createdTimeTo")) or time.time()
            statuses = self._statuses(q.get("runtimeStatus"))
        except ValueError as exc:
            return error_response(400, str(exc))
        if created_from is None:
            # request.CreateResponse(BadRequest, "<text>"): the body is a JSON string, not an HttpError.
            return web.json_response("Please provide value for 'createdTimeFrom' parameter.", status=400)
        deleted = self.hub.purge_by(created_from, created_to, statuses)
        if not deleted:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted}, status=200)

    async def entities(self, request: web.Request) -> web.Response:
        return error_response(400, "Durable entities are not supported by this host.")

    async def not_found(self, request: web.Request) -> web.Response:
        """Whatever no route of the handler matches: its final ``CreateResponse(NotFound)``."""
        return empty(404)

    def routes(self, prefix: str) -> list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]]:
        """(method, path, handler) under ``prefix`` (no trailing slash)."""
        p = prefix
        return [
            ("POST", p + "/orchestrators/{function_name}", self.start),
            ("POST", p + "/orchestrators/{function_name}/", self.start),  # the handler trims the slash
            ("POST", p + "/orchestrators/{function_name}/{instance_id}", self.start),
            ("GET", p + "/instances", self.list_instances),
            ("GET", p + "/instances/", self.list_instances),
            ("DELETE", p + "/instances", self.purge_by),
            ("DELETE", p + "/instances/", self.purge_by),
            ("GET", p + "/instances/{instance_id}", self.get_status),
            ("DELETE", p + "/instances/{instance_id}", self.purge),
            ("POST", p + "/instances/{instance_id}/raiseEvent/{event_name}", self.raise_event),
            ("POST", p + "/instances/{instance_id}/terminate", self.terminate),
            ("POST", p + "/instances/{instance_id}/suspend", self.suspend),
            ("POST", p + "/instances/{instance_id}/resume", self.resume),
            ("POST", p + "/instances/{instance_id}/restart", self.restart),
            ("POST", p + "/instances/{instance_id}/rewind", self.rewind),
            ("*", p + "/entities/{tail:[\\s\\S]*}", self.entities),
            ("*", p + "/{tail:[\\s\\S]*}", self.not_found),
        ]
