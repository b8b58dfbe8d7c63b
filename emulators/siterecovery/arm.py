"""The ARM Site Recovery operations: path matching and one handler per operation.

Paths are matched case-insensitively (ARM is case-insensitive and ASR itself answers with
``/Subscriptions/``). Handlers run under the store lock and return a :class:`Reply`; refusals are
raised as :class:`ArmError`. Every mutating operation answers 202 with ``Location``,
``Azure-AsyncOperation`` and ``Retry-After`` (asr-api.md §3), so the SDK's ``ARMPolling`` polls the
operation status, then GETs the ``Location`` (``…/operationresults/{job}``) for the final body.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from emulators.siterecovery import lifecycle, schema
from emulators.siterecovery.errors import ArmError, bad_request, conflict, not_found
from emulators.siterecovery.filters import parse_filter
from emulators.siterecovery.jobs import Job, job_view, operation_status
from emulators.siterecovery.recovery_points import point_view, points
from emulators.siterecovery.state import (
    Container,
    ContainerMapping,
    Fabric,
    Item,
    Phase,
    Policy,
    RecoveryPlan,
    Store,
    Vault,
)
from emulators.siterecovery.views import (
    container_view,
    fabric_view,
    item_view,
    mapping_view,
    network_mapping_view,
    plan_view,
    policy_view,
    protectable_view,
)

API_VERSION = "2025-08-01"


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    """One request, parsed: the vault it addresses, its body and query, and the simulated now."""

    store: Store
    vault: Vault
    method: str
    path: str  # as sent (still percent-encoded), for links back to the same resource
    query: Mapping[str, str]
    body: Any
    base_url: str
    now: float


Handler = Callable[[Ctx, list[str]], Reply]

# -- lookups -------------------------------------------------------------------------------------


def _fabric(ctx: Ctx, name: str) -> Fabric:
    fabric = ctx.vault.fabrics.get(name.lower())
    if fabric is None:
        raise not_found("replicationFabrics", name)
    return fabric


def _container(ctx: Ctx, fabric: str, name: str) -> Container:
    container = _fabric(ctx, fabric).containers.get(name.lower())
    if container is None:
        raise not_found(f"replicationFabrics/{fabric}/replicationProtectionContainers", name)
    return container


def _item(ctx: Ctx, p: list[str]) -> Item:
    container = _container(ctx, p[0], p[1])
    item = ctx.vault.items.get(f"{container.id}/replicationProtectedItems/{p[2]}".lower())
    if item is None:
        raise not_found("replicationProtectedItems", p[2])
    return item


def _policy(ctx: Ctx, name: str) -> Policy:
    policy = ctx.vault.policies.get(name.lower())
    if policy is None:
        raise not_found("replicationPolicies", name)
    return policy


def _plan(ctx: Ctx, name: str) -> RecoveryPlan:
    plan = ctx.vault.plans.get(name.lower())
    if plan is None:
        raise not_found("replicationRecoveryPlans", name)
    return plan


def _job(ctx: Ctx, name: str) -> Job:
    job = ctx.vault.jobs.get(name.lower())
    if job is None:
        raise not_found("replicationJobs", name)
    return job


# -- paging --------------------------------------------------------------------------------------


def _offset(ctx: Ctx) -> int:
    token = ctx.query.get("skipToken") or ctx.query.get("$skipToken")
    if not token:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_request("InvalidSkipToken", f"The skipToken '{token}' is not valid.") from None
    if value < 0:
        raise bad_request("InvalidSkipToken", f"The skipToken '{token}' is not valid.")
    return value


def _page(ctx: Ctx, rows: list[Any], render: Callable[[Any], dict[str, Any]], *, take_param: str = "$take") -> Reply:
    """``{"value": [...], "nextLink": ...}`` with an opaque skipToken; other query params are kept.

    ``take_param`` names the page-size parameter: ``$take`` on most lists, ``takeToken`` on migration items (the
    2025-08-01 spec of ``ReplicationMigrationItems_List``)."""
    size = ctx.store.timing.page_size
    take = ctx.query.get(take_param)
    if take is not None:
        if not take.isdigit() or int(take) < 1:
            raise bad_request("InvalidParameter", f"{take_param} must be a positive integer.", target=take_param)
        size = min(size, int(take))
    start = _offset(ctx)
    chunk = rows[start : start + size]
    body: dict[str, Any] = {"value": [render(r) for r in chunk]}
    if start + size < len(rows):
        from urllib.parse import urlencode

        query = {k: v for k, v in ctx.query.items() if k not in ("skipToken", "$skipToken")}
        query["skipToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        body["nextLink"] = f"{ctx.base_url}{ctx.path}?{urlencode(query)}"
    return Reply(200, body)


# -- long-running operations ---------------------------------------------------------------------


def retry_after_header(store: Store) -> str:
    """Retry-After in wall seconds for the simulated interval; 0 when that rounds below a second.

    ``Retry-After: 0`` is what ARM sends for "poll again now"; the SDK treats it as absent and falls
    back to its ``polling_interval`` (asr-api.md §3), which is how fast clocks stay fast.
    """
    wall = store.clock.wall_seconds_for(store.timing.retry_after_seconds)
    return "0" if wall == float("inf") else str(int(wall)) if wall >= 1 else "0"


def _accepted(ctx: Ctx, job: Job) -> Reply:
    location = f"{ctx.base_url}{quote(job.resource_id)}/operationresults/{job.name}?api-version={API_VERSION}"
    status = f"{ctx.base_url}{ctx.vault.id}/replicationOperationStatus/{job.name}?api-version={API_VERSION}"
    return Reply(
        202,
        None,
        {
            "Location": location,
            "Azure-AsyncOperation": status,
            "Retry-After": retry_after_header(ctx.store),
            "x-ms-request-id": job.id,
        },
    )


def _resource_body(ctx: Ctx, resource_id: str) -> dict[str, Any] | None:
    """Current JSON of the resource a job worked on (None once it is gone)."""
    key = resource_id.lower()
    vault = ctx.vault
    if key in vault.items:
        return item_view(vault.items[key], ctx.now)
    if key in vault.migration_items:
        from emulators.siterecovery.migration_views import migration_item_view  # local: it imports this module

        return migration_item_view(vault.migration_items[key], ctx.now)
    for plan in vault.plans.values():
        if plan.id.lower() == key:
            return plan_view(plan, ctx.now)
    for policy in vault.policies.values():
        if policy.id.lower() == key:
            return policy_view(policy)
    for mapping in vault.mappings.values():
        if mapping.id.lower() == key:
            return mapping_view(mapping)
    job = vault.jobs.get(key.rsplit("/", 1)[-1])
    if job is not None and job.id.lower() == key:
        return job_view(job, ctx.now, ctx.store.clock)
    return None


def operation_result(ctx: Ctx, p: list[str], resource_id: str) -> Reply:
    """``{resource}/operationresults/{job}``: 202 while the job runs, then the final resource (or 204)."""
    job = _job(ctx, p[-1])
    if job.resource_id.lower() != resource_id.lower():
        raise not_found("operationresults", p[-1])
    _poll_advance(ctx, job)
    outcome = job.outcome_at(ctx.now)
    if outcome == "InProgress":
        return Reply(
            202,
            None,
            {
                "Location": f"{ctx.base_url}{ctx.path}?api-version={API_VERSION}",
                "Retry-After": retry_after_header(ctx.store),
            },
        )
    if outcome == "Failed" and job.error is not None:
        raise ArmError(400, job.error.code, job.error.message)
    if outcome == "Cancelled":
        raise ArmError(400, "OperationCancelled", "The job was cancelled.")
    body = _resource_body(ctx, job.resource_id) if job.result == "resource" else None
    return Reply(200, body) if body is not None else Reply(204)


# -- fabrics, containers, protectable items ------------------------------------------------------


def fabrics_list(ctx: Ctx, p: list[str]) -> Reply:
    return _page(ctx, list(ctx.vault.fabrics.values()), lambda f: fabric_view(f, ctx.now))


def fabrics_get(ctx: Ctx, p: list[str]) -> Reply:
    return Reply(200, fabric_view(_fabric(ctx, p[0]), ctx.now))


def containers_by_fabric(ctx: Ctx, p: list[str]) -> Reply:
    return _page(ctx, list(_fabric(ctx, p[0]).containers.values()), container_view)


def containers_list(ctx: Ctx, p: list[str]) -> Reply:
    rows = [c for f in ctx.vault.fabrics.values() for c in f.containers.values()]
    return _page(ctx, rows, container_view)


def containers_get(ctx: Ctx, p: list[str]) -> Reply:
    return Reply(200, container_view(_container(ctx, p[0], p[1])))


def protectables_list(ctx: Ctx, p: list[str]) -> Reply:
    container = _container(ctx, p[0], p[1])
    rows = list(container.machines.values())
    flt = ctx.query.get("$filter")
    if flt:
        clauses = parse_filter(flt, {"state"})
        wanted = clauses.get("state", "").lower()
        protected = {i.machine.name for i in ctx.vault.items_in(container)}
        rows = [m for m in rows if ("protected" if m.name in protected else "unprotected") == wanted]
    return _page(ctx, rows, lambda m: protectable_view(container, m))


def protectables_get(ctx: Ctx, p: list[str]) -> Reply:
    container = _container(ctx, p[0], p[1])
    machine = container.machines.get(p[2].lower())
    if machine is None:
        raise not_found("replicationProtectableItems", p[2])
    return Reply(200, protectable_view(container, machine))


# -- policies and mappings -----------------------------------------------------------------------

_SUPPORTED = ("A2A", "InMageRcm", "HyperVReplicaAzure", "VMwareCbt")


def policies_list(ctx: Ctx, p: list[str]) -> Reply:
    return _page(ctx, list(ctx.vault.policies.values()), policy_view)


def policies_get(ctx: Ctx, p: list[str]) -> Reply:
    return Reply(200, policy_view(_policy(ctx, p[0])))


def policies_create(ctx: Ctx, p: list[str]) -> Reply:
    schema.validate(schema.CREATE_POLICY, ctx.body)
    details = ((ctx.body.get("properties") or {}).get("providerSpecificInput")) or {}
    provider = details.get("instanceType")
    if provider not in _SUPPORTED:
        raise bad_request(
            "ProviderNotSupported",
            f"The replication provider '{provider}' is not supported by this vault; "
            f"use one of {', '.join(_SUPPORTED)}.",
            target="properties.providerSpecificInput.instanceType",
        )
    existing = ctx.vault.policies.get(p[0].lower())
    if existing is not None and existing.provider != provider:
        raise conflict("PolicyProviderMismatch", f"The policy '{p[0]}' exists with provider '{existing.provider}'.")
    history = details.get("recoveryPointHistory") or details.get("recoveryPointHistoryInMinutes") or 1440
    app = details.get("appConsistentFrequencyInMinutes") or 240
    crash = details.get("crashConsistentFrequencyInMinutes") or 5
    policy = existing or Policy(ctx.vault, p[0], provider, 0, 0, 5)
    policy.history_minutes = history if isinstance(history, int) else 1440
    policy.app_minutes = app if isinstance(app, int) else 240
    policy.crash_minutes = crash if isinstance(crash, int) and crash > 0 else 5
    ctx.vault.policies[p[0].lower()] = policy
    job = _quick_job(ctx, "AddProtectionProfile", policy.name, policy.id, "ProtectionProfile")
    return _accepted(ctx, job)


def _quick_job(ctx: Ctx, scenario: str, name: str, resource_id: str, target_type: str) -> Job:
    def nothing(end: float) -> None:
        return None

    return lifecycle.start_job(
        ctx.store,
        ctx.vault,
        scenario,
        target_name=name,
        target_object_id=ctx.store.new_guid(),
        target_type=target_type,
        resource_id=resource_id,
        machines=[],
        result="resource",
        on_success=nothing,
        on_failure=nothing,
        affected={},
        tasks=[(f"{scenario}Task", scenario, 30)],
    )


def mappings_by_container(ctx: Ctx, p: list[str]) -> Reply:
    container = _container(ctx, p[0], p[1])
    return _page(ctx, ctx.vault.mappings_of(container), mapping_view)


def mappings_list(ctx: Ctx, p: list[str]) -> Reply:
    return _page(ctx, list(ctx.vault.mappings.values()), mapping_view)


def mappings_get(ctx: Ctx, p: list[str]) -> Reply:
    container = _container(ctx, p[0], p[1])
    mapping = ctx.vault.mapping(container, p[2])
    if mapping is None:
        raise not_found("replicationProtectionContainerMappings", p[2])
    return Reply(200, mapping_view(mapping))


def mappings_create(ctx: Ctx, p: list[str]) -> Reply:
    schema.validate(schema.CREATE_MAPPING, ctx.body)
    container = _container(ctx, p[0], p[1])
    props = ctx.body.get("properties") or {}
    policy_id = props.get("policyId")
    policy = next((x for x in ctx.vault.policies.values() if x.id.lower() == str(policy_id).lower()), None)
    if policy is None:
        raise bad_request("InvalidPolicyId", f"The policy '{policy_id}' was not found.", target="properties.policyId")
    if policy.provider != container.fabric.provider:
        raise bad_request(
            "InvalidPolicyId",
            f"The policy's provider '{policy.provider}' does not match the container's '{container.fabric.provider}'.",
            target="properties.policyId",
        )
    target_id = props.get("targetProtectionContainerId") or "Microsoft Azure"
    target = None
    if str(target_id).lower() != "microsoft azure":
        target = next(
            (
                c
                for f in ctx.vault.fabrics.values()
                for c in f.containers.values()
                if c.id.lower() == str(target_id).lower()
            ),
            None,
        )
        if target is None:
            raise bad_request(
                "InvalidTargetContainer",
                f"The target protection container '{target_id}' was not found.",
                target="properties.targetProtectionContainerId",
            )
    if policy.provider == "A2A" and target is None:
        raise bad_request(
            "InvalidTargetContainer",
            "An A2A mapping needs a target protection container in the recovery region.",
            target="properties.targetProtectionContainerId",
        )
    existing = ctx.vault.mapping(container, p[2])
    if existing is not None and (existing.policy is not policy or existing.target_container is not target):
        raise conflict("ContainerMappingExists", f"The container mapping '{p[2]}' exists with other settings.")
    mapping = existing or ContainerMapping(p[2], container, policy, target)
    ctx.vault.mappings[f"{container.id.lower()}|{p[2].lower()}"] = mapping
    job = _quick_job(ctx, "ConfigureProtection", mapping.name, mapping.id, "ProtectionContainerMapping")
    return _accepted(ctx, job)


def network_mappings_get(ctx: Ctx, p: list[str]) -> Reply:
    fabric = _fabric(ctx, p[0])
    for nm in ctx.vault.network_mappings:
        if nm.fabric is fabric and nm.network.name.lower() == p[1].lower() and nm.name.lower() == p[2].lower():
            return Reply(200, network_mapping_view(nm))
    raise not_found("replicationNetworkMappings", p[2])


def network_mappings_by_network(ctx: Ctx, p: list[str]) -> Reply:
    fabric = _fabric(ctx, p[0])
    network = fabric.networks.get(p[1].lower())
    if network is None:
        raise not_found("replicationNetworks", p[1])
    rows = [nm for nm in ctx.vault.network_mappings if nm.network is network]
    return _page(ctx, rows, network_mapping_view)


def network_mappings_list(ctx: Ctx, p: list[str]) -> Reply:
    return _page(ctx, list(ctx.vault.network_mappings), network_mapping_view)


# -- replication protected items -----------------------------------------------------------------

ITEM_FILTER_FIELDS = {
    "protectionState",
    "replicationHealth",
    "activeLocation",
    "testFailoverState",
    "friendlyName",
    "instanceType",
    "replicationProvider",
    "sourceFabricName",
    "sourceFabricLocation",
    "protectionContainerName",
    "recoveryPlanName",
}


def _item_filter(ctx: Ctx) -> Callable[[Item], bool]:
    flt = ctx.query.get("$filter")
    if not flt:
        return lambda item: True
    clauses = {k.lower(): v.lower() for k, v in parse_filter(flt, ITEM_FILTER_FIELDS).items()}
    plans = ctx.vault.plans

    def keep(item: Item) -> bool:
        st = lifecycle.status(item, ctx.now)
        facts = {
            "protectionstate": st.protection_state,
            "replicationhealth": st.health,
            "activelocation": st.active_location,
            "testfailoverstate": st.test_failover_state,
            "friendlyname": item.friendly_name,
            "instancetype": item.provider,
            "replicationprovider": item.provider,
            "sourcefabricname": item.container.fabric.name,
            "sourcefabriclocation": item.container.fabric.location or "",
            "protectioncontainername": item.container.name,
        }
        for key, want in clauses.items():
            if key == "recoveryplanname":
                plan = plans.get(want)
                if plan is None or item not in plan.items:
                    return False
            elif facts[key].lower() != want:
                return False
        return True

    return keep


def items_list(ctx: Ctx, p: list[str]) -> Reply:
    keep = _item_filter(ctx)
    rows = [i for i in ctx.vault.items.values() if keep(i)]
    return _page(ctx, rows, lambda i: item_view(i, ctx.now))


def items_by_container(ctx: Ctx, p: list[str]) -> Reply:
    container = _container(ctx, p[0], p[1])
    keep = _item_filter(ctx)
    rows = [i for i in ctx.vault.items_in(container) if keep(i)]
    return _page(ctx, rows, lambda i: item_view(i, ctx.now))


def items_get(ctx: Ctx, p: list[str]) -> Reply:
    return Reply(200, item_view(_item(ctx, p), ctx.now))


def items_create(ctx: Ctx, p: list[str]) -> Reply:
    schema.validate(schema.ENABLE, ctx.body)
    container = _container(ctx, p[0], p[1])
    props = ctx.body.get("properties") or {}
    if not props.get("providerSpecificDetails"):
        raise bad_request(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: Required property "
            "'providerSpecificDetails' not found in JSON. Path 'properties'.",
            target="properties.providerSpecificDetails",
        )
    _, job = lifecycle.enable(ctx.store, ctx.vault, container, p[2], props)
    return _accepted(ctx, job)


def items_purge(ctx: Ctx, p: list[str]) -> Reply:
    return _accepted(ctx, lifecycle.purge(ctx.store, _item(ctx, p), ctx.now))


def _props(ctx: Ctx, model: schema.Model) -> dict[str, Any]:
    body = ctx.body if ctx.body is not None else {}
    schema.validate(model, body)
    props = body.get("properties") or {}
    return props if isinstance(props, dict) else {}


def items_remove(ctx: Ctx, p: list[str]) -> Reply:
    props = _props(ctx, schema.DISABLE)
    item = _item(ctx, p)
    return _accepted(ctx, lifecycle.disable(ctx.store, item, props, ctx.now))


def items_test_failover(ctx: Ctx, p: list[str]) -> Reply:
    props = _props(ctx, schema.TEST_FAILOVER)
    return _accepted(ctx, lifecycle.test_failover(ctx.store, _item(ctx, p), props, ctx.now))


def items_test_failover_cleanup(ctx: Ctx, p: list[str]) -> Reply:
    _props(ctx, schema.TEST_FAILOVER_CLEANUP)
    return _accepted(ctx, lifecycle.test_failover_cleanup(ctx.store, _item(ctx, p), ctx.now))


def items_unplanned_failover(ctx: Ctx, p: list[str]) -> Reply:
    props = _props(ctx, schema.UNPLANNED_FAILOVER)
    return _accepted(ctx, lifecycle.failover(ctx.store, _item(ctx, p), props, ctx.now, planned=False))


def items_planned_failover(ctx: Ctx, p: list[str]) -> Reply:
    props = _props(ctx, schema.PLANNED_FAILOVER)
    return _accepted(ctx, lifecycle.failover(ctx.store, _item(ctx, p), props, ctx.now, planned=True))


def items_commit(ctx: Ctx, p: list[str]) -> Reply:
    return _accepted(ctx, lifecycle.commit(ctx.store, _item(ctx, p), ctx.now))


def items_cancel(ctx: Ctx, p: list[str]) -> Reply:
    return _accepted(ctx, lifecycle.cancel_failover(ctx.store, _item(ctx, p), ctx.now))


def items_reprotect(ctx: Ctx, p: list[str]) -> Reply:
    props = _props(ctx, schema.REPROTECT)
    return _accepted(ctx, lifecycle.reprotect(ctx.store, _item(ctx, p), props, ctx.now))


def item_results(ctx: Ctx, p: list[str]) -> Reply:
    container = _container(ctx, p[0], p[1])
    resource = f"{container.id}/replicationProtectedItems/{p[2]}"
    return operation_result(ctx, p, resource)


def points_list(ctx: Ctx, p: list[str]) -> Reply:
    item = _item(ctx, p)
    return _page(ctx, points(item, ctx.now), lambda rp: point_view(item, rp))


def points_get(ctx: Ctx, p: list[str]) -> Reply:
    item = _item(ctx, p)
    for rp in points(item, ctx.now):
        if rp.name.lower() == p[3].lower():
            return Reply(200, point_view(item, rp))
    raise not_found("recoveryPoints", p[3])


# -- jobs and operation status -------------------------------------------------------------------

JOB_FILTER_FIELDS = {
    "startTime",
    "endTime",
    "jobStatus",
    "jobName",
    "scenarioName",
    "targetObjectName",
    "fabricId",
    "affectedObjectTypes",
    "jobOutputType",
    "timezoneOffset",
}


def jobs_list(ctx: Ctx, p: list[str]) -> Reply:
    rows = sorted(ctx.vault.jobs.values(), key=lambda j: j.start, reverse=True)
    flt = ctx.query.get("$filter")
    if flt:
        from datetime import datetime

        clauses = parse_filter(flt, JOB_FILTER_FIELDS)
        clock = ctx.store.clock

        def instant(field_name: str) -> float:
            text = clauses[field_name]
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise bad_request("InvalidFilter", f"{field_name} '{text}' is not an ISO 8601 time.") from None
            if moment.tzinfo is None:
                raise bad_request("InvalidFilter", f"{field_name} '{text}' needs a time zone.")
            return (moment - clock.start).total_seconds()

        if "startTime" in clauses:
            since = instant("startTime")
            rows = [j for j in rows if j.start >= since]
        if "endTime" in clauses:
            until = instant("endTime")
            rows = [j for j in rows if j.start <= until]
        if "jobStatus" in clauses:
            want = {s.strip().lower() for s in clauses["jobStatus"].split(",")}
            rows = [j for j in rows if j.outcome_at(ctx.now).lower() in want]
        for key, attr in (
            ("jobName", "scenario"),
            ("scenarioName", "scenario"),
            ("targetObjectName", "target_object_name"),
        ):
            if key in clauses:
                rows = [j for j in rows if str(getattr(j, attr)).lower() == clauses[key].lower()]
    return _page(ctx, rows, lambda j: job_view(j, ctx.now, ctx.store.clock))


def jobs_get(ctx: Ctx, p: list[str]) -> Reply:
    return Reply(200, job_view(_job(ctx, p[0]), ctx.now, ctx.store.clock))


def jobs_cancel(ctx: Ctx, p: list[str]) -> Reply:
    """Cancel a running job: its state becomes ``Cancelled`` (status ``Canceled`` for the poller)."""
    job = _job(ctx, p[0])
    if job.outcome_at(ctx.now) != "InProgress":
        raise bad_request("JobNotCancellable", f"The job '{job.name}' has already completed.")
    job.cancelled_at = ctx.now
    job.settle(ctx.now)
    cancel = _quick_job(ctx, "CancelJob", job.name, job.id, "Job")
    return _accepted(ctx, cancel)


def job_results(ctx: Ctx, p: list[str]) -> Reply:
    return operation_result(ctx, p, f"{ctx.vault.id}/replicationJobs/{p[0]}")


def _poll_advance(ctx: Ctx, job: Job) -> None:
    """With ``advance_on_poll``, a poll of a running job means the client waited ``Retry-After``."""
    if ctx.store.advance_on_poll and job.outcome_at(ctx.now) == "InProgress":
        ctx.store.clock.advance(ctx.store.timing.retry_after_seconds)
        ctx.now = ctx.store.settle()


def operation_status_get(ctx: Ctx, p: list[str]) -> Reply:
    job = _job(ctx, p[0])
    _poll_advance(ctx, job)
    body = operation_status(job, ctx.now, ctx.store.clock)
    headers = {"Retry-After": retry_after_header(ctx.store)} if body["status"] == "InProgress" else {}
    return Reply(200, body, headers)


# -- recovery plans ------------------------------------------------------------------------------


def plans_list(ctx: Ctx, p: list[str]) -> Reply:
    return _page(ctx, list(ctx.vault.plans.values()), lambda plan: plan_view(plan, ctx.now))


def plans_get(ctx: Ctx, p: list[str]) -> Reply:
    return Reply(200, plan_view(_plan(ctx, p[0]), ctx.now))


def plans_create(ctx: Ctx, p: list[str]) -> Reply:
    schema.validate(schema.CREATE_PLAN, ctx.body)
    props = ctx.body["properties"]
    existing = ctx.vault.plans.get(p[0].lower())
    if existing is not None and existing.job is not None and existing.job.settled == "InProgress":
        raise conflict("OperationInProgress", f"A job is in progress on recovery plan '{p[0]}'.")
    items: list[Item] = []
    groups: list[dict[str, Any]] = []
    for gi, group in enumerate(props["groups"]):
        if group["groupType"] not in ("Shutdown", "Boot", "Failover"):
            raise bad_request(
                "InvalidRequestContent",
                f"groupType '{group['groupType']}' is not one of Shutdown, Boot, Failover.",
                target=f"properties.groups[{gi}].groupType",
            )
        members = []
        for ii, member in enumerate(group.get("replicationProtectedItems") or []):
            item = ctx.vault.items.get(str(member.get("id", "")).lower())
            if item is None or item.phase == Phase.REMOVED:
                raise bad_request(
                    "ProtectedItemNotFound",
                    f"The replicated item '{member.get('id')}' was not found.",
                    target=f"properties.groups[{gi}].replicationProtectedItems[{ii}].id",
                )
            if item in items:
                raise bad_request("DuplicateProtectedItem", f"The replicated item '{item.name}' appears twice.")
            items.append(item)
            members.append({"id": item.id, "virtualMachineId": member.get("virtualMachineId") or item.name})
        groups.append(
            {
                "groupType": group["groupType"],
                "replicationProtectedItems": members,
                "startGroupActions": group.get("startGroupActions") or [],
                "endGroupActions": group.get("endGroupActions") or [],
            }
        )
    if not any(g["groupType"] == "Shutdown" for g in groups):
        groups.insert(
            0,
            {"groupType": "Shutdown", "replicationProtectedItems": [], "startGroupActions": [], "endGroupActions": []},
        )
    if not any(g["groupType"] == "Failover" for g in groups):
        groups.insert(
            1,
            {"groupType": "Failover", "replicationProtectedItems": [], "startGroupActions": [], "endGroupActions": []},
        )
    plan = RecoveryPlan(
        ctx.vault,
        p[0],
        props["primaryFabricId"],
        props["recoveryFabricId"],
        props.get("failoverDeploymentModel") or "ResourceManager",
        groups,
        items,
    )
    ctx.vault.plans[p[0].lower()] = plan
    job = _quick_job(ctx, "CreateRecoveryPlan", plan.name, plan.id, "RecoveryPlan")
    return _accepted(ctx, job)


def _plan_op(ctx: Ctx, p: list[str], scenario: str, model: schema.Model | None) -> Reply:
    props = _props(ctx, model) if model is not None else {}
    plan = _plan(ctx, p[0])
    if props.get("failoverDirection") not in (None, "PrimaryToRecovery", "RecoveryToPrimary"):
        raise bad_request(
            "InvalidRequestContent",
            f"failoverDirection '{props.get('failoverDirection')}' is not PrimaryToRecovery or RecoveryToPrimary.",
            target="properties.failoverDirection",
        )
    if props.get("sourceSiteOperations") not in (None, "Required", "NotRequired"):
        raise bad_request(
            "InvalidRequestContent",
            f"sourceSiteOperations '{props.get('sourceSiteOperations')}' is not Required or NotRequired.",
            target="properties.sourceSiteOperations",
        )
    per_item = lifecycle.plan_item_effect(ctx.store, scenario, props)
    return _accepted(ctx, lifecycle.plan_operation(ctx.store, plan, scenario, ctx.now, per_item))


def plans_test_failover(ctx: Ctx, p: list[str]) -> Reply:
    return _plan_op(ctx, p, "TestFailover", schema.PLAN_TEST_FAILOVER)


def plans_test_failover_cleanup(ctx: Ctx, p: list[str]) -> Reply:
    return _plan_op(ctx, p, "TestFailoverCleanup", schema.PLAN_TEST_FAILOVER_CLEANUP)


def plans_unplanned_failover(ctx: Ctx, p: list[str]) -> Reply:
    return _plan_op(ctx, p, "UnplannedFailover", schema.PLAN_UNPLANNED_FAILOVER)


def plans_commit(ctx: Ctx, p: list[str]) -> Reply:
    return _plan_op(ctx, p, "CommitFailover", None)


def plan_results(ctx: Ctx, p: list[str]) -> Reply:
    return operation_result(ctx, p, f"{ctx.vault.id}/replicationRecoveryPlans/{p[0]}")


def policy_results(ctx: Ctx, p: list[str]) -> Reply:
    return operation_result(ctx, p, f"{ctx.vault.id}/replicationPolicies/{p[0]}")


def mapping_results(ctx: Ctx, p: list[str]) -> Reply:
    container = _container(ctx, p[0], p[1])
    return operation_result(ctx, p, f"{container.id}/replicationProtectionContainerMappings/{p[2]}")


# -- the route table -----------------------------------------------------------------------------

F, C, ITEMS = "replicationfabrics", "replicationprotectioncontainers", "replicationprotecteditems"
PC = (F, "*", C, "*")
RPI = (*PC, ITEMS, "*")
MAP = (*PC, "replicationprotectioncontainermappings")
PLAN = ("replicationrecoveryplans", "*")

# (path pattern after the vault, {method: (operationId, handler)}); "*" captures a name
ROUTES: list[tuple[tuple[str, ...], dict[str, tuple[str, Handler]]]] = [
    ((F,), {"GET": ("ReplicationFabrics_List", fabrics_list)}),
    ((F, "*"), {"GET": ("ReplicationFabrics_Get", fabrics_get)}),
    ((F, "*", C), {"GET": ("ReplicationProtectionContainers_ListByReplicationFabrics", containers_by_fabric)}),
    ((C,), {"GET": ("ReplicationProtectionContainers_List", containers_list)}),
    (PC, {"GET": ("ReplicationProtectionContainers_Get", containers_get)}),
    (
        (*PC, "replicationprotectableitems"),
        {"GET": ("ReplicationProtectableItems_ListByReplicationProtectionContainers", protectables_list)},
    ),
    ((*PC, "replicationprotectableitems", "*"), {"GET": ("ReplicationProtectableItems_Get", protectables_get)}),
    (
        MAP,
        {
            "GET": (
                "ReplicationProtectionContainerMappings_ListByReplicationProtectionContainers",
                mappings_by_container,
            )
        },
    ),
    (
        (*MAP, "*"),
        {
            "GET": ("ReplicationProtectionContainerMappings_Get", mappings_get),
            "PUT": ("ReplicationProtectionContainerMappings_Create", mappings_create),
        },
    ),
    ((*MAP, "*", "operationresults", "*"), {"GET": ("OperationResults_Get", mapping_results)}),
    (
        ("replicationprotectioncontainermappings",),
        {"GET": ("ReplicationProtectionContainerMappings_List", mappings_list)},
    ),
    ((*PC, ITEMS), {"GET": ("ReplicationProtectedItems_ListByReplicationProtectionContainers", items_by_container)}),
    (
        RPI,
        {
            "GET": ("ReplicationProtectedItems_Get", items_get),
            "PUT": ("ReplicationProtectedItems_Create", items_create),
            "DELETE": ("ReplicationProtectedItems_Purge", items_purge),
        },
    ),
    ((*RPI, "remove"), {"POST": ("ReplicationProtectedItems_Delete", items_remove)}),
    ((*RPI, "testfailover"), {"POST": ("ReplicationProtectedItems_TestFailover", items_test_failover)}),
    (
        (*RPI, "testfailovercleanup"),
        {"POST": ("ReplicationProtectedItems_TestFailoverCleanup", items_test_failover_cleanup)},
    ),
    ((*RPI, "unplannedfailover"), {"POST": ("ReplicationProtectedItems_UnplannedFailover", items_unplanned_failover)}),
    ((*RPI, "plannedfailover"), {"POST": ("ReplicationProtectedItems_PlannedFailover", items_planned_failover)}),
    ((*RPI, "failovercommit"), {"POST": ("ReplicationProtectedItems_FailoverCommit", items_commit)}),
    ((*RPI, "failovercancel"), {"POST": ("ReplicationProtectedItems_FailoverCancel", items_cancel)}),
    ((*RPI, "reprotect"), {"POST": ("ReplicationProtectedItems_Reprotect", items_reprotect)}),
    ((*RPI, "operationresults", "*"), {"GET": ("OperationResults_Get", item_results)}),
    ((*RPI, "recoverypoints"), {"GET": ("RecoveryPoints_ListByReplicationProtectedItems", points_list)}),
    ((*RPI, "recoverypoints", "*"), {"GET": ("RecoveryPoints_Get", points_get)}),
    ((ITEMS,), {"GET": ("ReplicationProtectedItems_List", items_list)}),
    (
        (F, "*", "replicationnetworks", "*", "replicationnetworkmappings"),
        {"GET": ("ReplicationNetworkMappings_ListByReplicationNetworks", network_mappings_by_network)},
    ),
    (
        (F, "*", "replicationnetworks", "*", "replicationnetworkmappings", "*"),
        {"GET": ("ReplicationNetworkMappings_Get", network_mappings_get)},
    ),
    (("replicationnetworkmappings",), {"GET": ("ReplicationNetworkMappings_List", network_mappings_list)}),
    (("replicationpolicies",), {"GET": ("ReplicationPolicies_List", policies_list)}),
    (
        ("replicationpolicies", "*"),
        {"GET": ("ReplicationPolicies_Get", policies_get), "PUT": ("ReplicationPolicies_Create", policies_create)},
    ),
    (("replicationpolicies", "*", "operationresults", "*"), {"GET": ("OperationResults_Get", policy_results)}),
    (("replicationjobs",), {"GET": ("ReplicationJobs_List", jobs_list)}),
    (("replicationjobs", "*"), {"GET": ("ReplicationJobs_Get", jobs_get)}),
    (("replicationjobs", "*", "cancel"), {"POST": ("ReplicationJobs_Cancel", jobs_cancel)}),
    (("replicationjobs", "*", "operationresults", "*"), {"GET": ("OperationResults_Get", job_results)}),
    (("replicationoperationstatus", "*"), {"GET": ("OperationStatus_Get", operation_status_get)}),
    (("replicationrecoveryplans",), {"GET": ("ReplicationRecoveryPlans_List", plans_list)}),
    (
        PLAN,
        {
            "GET": ("ReplicationRecoveryPlans_Get", plans_get),
            "PUT": ("ReplicationRecoveryPlans_Create", plans_create),
        },
    ),
    ((*PLAN, "testfailover"), {"POST": ("ReplicationRecoveryPlans_TestFailover", plans_test_failover)}),
    (
        (*PLAN, "testfailovercleanup"),
        {"POST": ("ReplicationRecoveryPlans_TestFailoverCleanup", plans_test_failover_cleanup)},
    ),
    ((*PLAN, "unplannedfailover"), {"POST": ("ReplicationRecoveryPlans_UnplannedFailover", plans_unplanned_failover)}),
    ((*PLAN, "failovercommit"), {"POST": ("ReplicationRecoveryPlans_FailoverCommit", plans_commit)}),
    ((*PLAN, "operationresults", "*"), {"GET": ("OperationResults_Get", plan_results)}),
]

VAULT_PREFIX = ("subscriptions", "*", "resourcegroups", "*", "providers", "microsoft.recoveryservices", "vaults", "*")


def match_segments(pattern: tuple[str, ...], segments: list[str]) -> list[str] | None:
    """The ``*`` segments of ``segments`` when they fit ``pattern`` (fixed parts compared in lower case), else None."""
    if len(pattern) != len(segments):
        return None
    captured = []
    for want, got in zip(pattern, segments, strict=True):
        if want == "*":
            if not got:
                return None
            captured.append(got)
        elif want != got.lower():
            return None
    return captured


@dataclass(frozen=True)
class Route:
    operation: str
    handler: Handler | None  # None: the path exists but not with this method
    params: list[str]
    vault: tuple[str, str, str]
    item: str | None


def resolve(method: str, segments: list[str]) -> Route | None:
    """Find the operation for a path (segments already URL-decoded); None if no resource type matches."""
    prefix = match_segments(VAULT_PREFIX, segments[: len(VAULT_PREFIX)])
    if prefix is None:
        return None
    rest = segments[len(VAULT_PREFIX) :]
    for pattern, methods in ROUTES:
        params = match_segments(pattern, rest)
        if params is None:
            continue
        vault = (prefix[0], prefix[1], prefix[2])
        item = _item_name(pattern, params)
        if method not in methods:
            return Route("", None, params, vault, item)
        operation, handler = methods[method]
        return Route(operation, handler, params, vault, item)
    return None


def _item_name(pattern: tuple[str, ...], params: list[str]) -> str | None:
    """The protected or migration item (or recovery plan) a path addresses, for the call log."""
    if pattern[: len(RPI)] == RPI or pattern[: len(RMI)] == RMI:
        return params[2]
    if pattern[:2] == PLAN:
        return params[0]
    return None


# Migration items (VMwareCbt): their handlers live in migration_arm, which uses this module's helpers.
from emulators.siterecovery.migration_arm import RMI  # noqa: E402
from emulators.siterecovery.migration_arm import ROUTES as _MIGRATION_ROUTES  # noqa: E402

ROUTES.extend(_MIGRATION_ROUTES)
