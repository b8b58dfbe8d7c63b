"""The control endpoint, outside the ARM paths (``/_emulator/...``): what tests and demos use to
look inside (calls received, clock, item states) and to make the emulator misbehave (faults, auth).

| method | path | does |
|---|---|---|
| GET | /_emulator/health | ``{"status": "ok"}`` |
| GET / DELETE | /_emulator/calls | call counts per operation and per item (``?log=1`` adds every call) / reset |
| GET / POST | /_emulator/clock | ``{"now", "seconds", "speed"}`` / body ``{"advanceSeconds"?, "speed"?}`` |
| GET | /_emulator/items | state of every protected item |
| GET / POST / DELETE | /_emulator/faults | list / add one (a fault spec, see README) / remove all |
| DELETE | /_emulator/faults/{id} | remove one |
| GET / POST | /_emulator/auth | ``{"required": bool, "tokens": [...]}`` |
| GET / POST / DELETE | /_emulator/arm-limits | ARM request-limit stats / switch on (``armLimits`` body) / off |
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from emulators.siterecovery import lifecycle
from emulators.siterecovery.arm_limits import ArmLimitsError, parse_arm_limits
from emulators.siterecovery.clock import iso
from emulators.siterecovery.faults import FAULT_ADAPTER, JobStallFault, ReplicationFault, SeedingFailureFault
from emulators.siterecovery.state import Store

if TYPE_CHECKING:
    from emulators.siterecovery.app import Emulator


def item_states(store: Store) -> list[dict[str, Any]]:
    """A flat summary of every protected item (for tests and the demo)."""
    with store.lock:
        now = store.settle()
        out = []
        for vault in store.vaults.values():
            for item in vault.items.values():
                st = lifecycle.status(item, now)
                job = item.job if item.busy() else None
                out.append(
                    {
                        "vault": vault.name,
                        "id": item.id,
                        "name": item.name,
                        "friendlyName": item.friendly_name,
                        "provider": item.provider,
                        "phase": item.phase.value,
                        "protectionState": st.protection_state,
                        "protectionStateDescription": st.protection_description,
                        "testFailoverState": st.test_failover_state,
                        "activeLocation": st.active_location,
                        "allowedOperations": st.allowed,
                        "replicationHealth": st.health,
                        "initialReplicationProgress": round(item.ir_progress(now), 2),
                        "currentJob": job.scenario if job else None,
                    }
                )
        return out


def clock_state(store: Store) -> dict[str, Any]:
    return {"now": iso(store.clock.now()), "seconds": store.clock.seconds(), "speed": store.clock.speed}


def add_fault(store: Store, spec_data: Any) -> int:
    """Validate and add a fault; replication faults bind to items already replicating."""
    spec = FAULT_ADAPTER.validate_python(spec_data)
    with store.lock:
        fault_id = store.faults.add(spec)
        if isinstance(spec, ReplicationFault):
            now = store.settle()
            for vault in store.vaults.values():
                for item in vault.items.values():
                    if store.faults.replication(item.name, item.friendly_name) is spec:
                        item.bind_replication_fault(spec, now)
                for migration in vault.migration_items.values():
                    if store.faults.replication(migration.name, migration.friendly_name) is spec:
                        migration.bind_replication_fault(spec, now)
        if isinstance(spec, SeedingFailureFault):
            now = store.settle()
            for vault in store.vaults.values():
                for migration in vault.migration_items.values():
                    seeding = migration.seed_failure is None and not migration.seeded(now)
                    if seeding and store.faults.seeding_failure(migration.name, migration.friendly_name) is spec:
                        migration.seed_failure = spec
    return fault_id


def remove_fault(store: Store, fault_id: int | None) -> bool:
    """Remove one fault (None: all). Replication resumes for items a removed replication fault held, and jobs go
    on that a removed stall held."""
    with store.lock:
        specs = store.faults.clear() if fault_id is None else [store.faults.remove(fault_id)]
        now = store.settle()
        for spec in specs:
            if isinstance(spec, ReplicationFault):
                for vault in store.vaults.values():
                    for item in vault.items.values():
                        if item.ir_fault is spec:
                            item.clear_replication_fault(now)
                    for migration in vault.migration_items.values():
                        if migration.seed_fault is spec:
                            migration.clear_replication_fault(now)
            if isinstance(spec, SeedingFailureFault):
                for vault in store.vaults.values():
                    for migration in vault.migration_items.values():
                        if migration.seed_failure is spec and not migration.seed_failed(now):
                            migration.seed_failure = None  # not reached yet: the seeding is spared
            if isinstance(spec, JobStallFault):
                for vault in store.vaults.values():
                    for job in vault.jobs.values():
                        if job.stall is spec and job.released_at is None:
                            job.release(now)
                            store.track(job)  # queued again at its end, now that it has one
        return any(spec is not None for spec in specs) or fault_id is None


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": {"code": "InvalidControlRequest", "message": message}}, status=status)


async def _read_json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": {"code": "InvalidControlRequest", "message": f"not JSON: {exc}"}}),
            content_type="application/json",
        ) from None


def register(app: web.Application, key: web.AppKey[Emulator]) -> None:
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def calls_get(request: web.Request) -> web.Response:
        calls = request.app[key].calls
        body: dict[str, Any] = dict(calls.summary())
        if request.query.get("log"):
            body["log"] = [c.__dict__ for c in calls.calls()]
        return web.json_response(body)

    async def calls_reset(request: web.Request) -> web.Response:
        request.app[key].calls.reset()
        return web.json_response({"total": 0})

    async def clock_get(request: web.Request) -> web.Response:
        return web.json_response(clock_state(request.app[key].store))

    async def clock_post(request: web.Request) -> web.Response:
        data = await _read_json(request)
        store = request.app[key].store
        if not isinstance(data, dict):
            return _bad("expected a JSON object")
        advance = data.get("advanceSeconds", 0)
        speed = data.get("speed")
        if not isinstance(advance, int | float) or isinstance(advance, bool) or advance < 0:
            return _bad("advanceSeconds must be a number >= 0")
        if speed is not None and (not isinstance(speed, int | float) or isinstance(speed, bool) or speed < 0):
            return _bad("speed must be a number >= 0")
        with store.lock:
            if speed is not None:
                store.clock.set_speed(float(speed))
            store.clock.advance(float(advance))
            store.settle()
        return web.json_response(clock_state(store))

    async def items_get(request: web.Request) -> web.Response:
        return web.json_response({"value": item_states(request.app[key].store)})

    async def faults_get(request: web.Request) -> web.Response:
        return web.json_response({"value": request.app[key].store.faults.describe()})

    async def faults_post(request: web.Request) -> web.Response:
        data = await _read_json(request)
        try:
            fault_id = add_fault(request.app[key].store, data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors())
            return _bad(problems)
        return web.json_response({"id": fault_id}, status=201)

    async def faults_clear(request: web.Request) -> web.Response:
        remove_fault(request.app[key].store, None)
        return web.json_response({"value": []})

    async def fault_delete(request: web.Request) -> web.Response:
        try:
            fault_id = int(request.match_info["fault_id"])
        except ValueError:
            return _bad("fault id must be an integer")
        if not remove_fault(request.app[key].store, fault_id):
            return _bad(f"no fault {fault_id}", 404)
        return web.json_response({"removed": fault_id})

    async def auth_get(request: web.Request) -> web.Response:
        auth = request.app[key].auth
        with auth.lock:
            return web.json_response({"required": auth.required, "tokens": sorted(auth.tokens)})

    async def auth_post(request: web.Request) -> web.Response:
        data = await _read_json(request)
        if not isinstance(data, dict) or not isinstance(data.get("required", False), bool):
            return _bad('expected {"required": bool, "tokens": [str]}')
        tokens = data.get("tokens", [])
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            return _bad("tokens must be a list of strings")
        auth = request.app[key].auth
        with auth.lock:
            auth.required = bool(data.get("required", False))
            auth.tokens = set(tokens)
        return await auth_get(request)

    async def arm_limits_get(request: web.Request) -> web.Response:
        return web.json_response(request.app[key].limits.stats())

    async def arm_limits_post(request: web.Request) -> web.Response:
        data = await _read_json(request)
        try:
            settings = parse_arm_limits(data)
        except ArmLimitsError as exc:
            return _bad("; ".join(exc.problems))
        limits = request.app[key].limits
        limits.configure(settings)
        return web.json_response(limits.stats())

    async def arm_limits_clear(request: web.Request) -> web.Response:
        limits = request.app[key].limits
        limits.configure(None)
        return web.json_response(limits.stats())

    r = app.router
    r.add_get("/_emulator/health", health)
    r.add_get("/_emulator/calls", calls_get)
    r.add_delete("/_emulator/calls", calls_reset)
    r.add_get("/_emulator/clock", clock_get)
    r.add_post("/_emulator/clock", clock_post)
    r.add_get("/_emulator/items", items_get)
    r.add_get("/_emulator/faults", faults_get)
    r.add_post("/_emulator/faults", faults_post)
    r.add_delete("/_emulator/faults", faults_clear)
    r.add_delete("/_emulator/faults/{fault_id}", fault_delete)
    r.add_get("/_emulator/auth", auth_get)
    r.add_post("/_emulator/auth", auth_post)
    r.add_get("/_emulator/arm-limits", arm_limits_get)
    r.add_post("/_emulator/arm-limits", arm_limits_post)
    r.add_delete("/_emulator/arm-limits", arm_limits_clear)
