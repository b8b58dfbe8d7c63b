"""Azure Migrate's discovery resources (``Microsoft.OffAzure``): a VMware site, the machines its appliance
discovered, its vCenters and its run-as accounts; read-only, with their routes.

These are what a client reads before it enables agentless (VMwareCbt) replication, the way Az.Migrate's
New-AzMigrateServerReplication does: the machine (its disks' ``uuid`` and its ``vCenterId``), the vCenter (its
``runAsAccountId``, passed as ``dataMoverRunAsAccountId`` and ``snapshotRunAsAccountId``) and the site
(``discoverySolutionId``: the Azure Migrate project). Paths are resource-group scoped, not vault scoped, and use
their own api-versions: the stable ones of the OffAzure spec (``stable/2020-01-01``, ``2020-07-07``, ``2023-06-06``;
Az.Migrate is generated from 2020-01-01). Bodies are the 2020-01-01 shapes (``offazure_views.py``) for every
accepted version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulators.siterecovery.arm import Reply, match_segments
from emulators.siterecovery.errors import ArmError
from emulators.siterecovery.migration_items import Stage
from emulators.siterecovery.offazure_lists import filtered, page
from emulators.siterecovery.offazure_views import machine_view, run_as_account_view, site_view, v_center_view
from emulators.siterecovery.state import DiscoveredMachine, RunAsAccount, Store, VCenter, VMwareSite

API_VERSIONS = ("2020-01-01", "2020-07-07", "2023-06-06")
NAMESPACE = "Microsoft.OffAzure"
_PROVIDER = ("subscriptions", "*", "resourcegroups", "*", "providers", "microsoft.offazure")


@dataclass
class SiteCtx:
    """One OffAzure request: the site it addresses, its query and the URL it was sent to."""

    store: Store
    site: VMwareSite
    query: Mapping[str, str]
    link_base: str  # the request's URL without its query (a nextLink repeats it)
    base_url: str
    now: float


SiteHandler = Callable[[SiteCtx, list[str]], Reply]


@dataclass(frozen=True)
class SiteRoute:
    """What an OffAzure path resolved to; ``resource_type`` None: the namespace, but no type the emulator serves."""

    operation: str
    handler: SiteHandler | None  # None: the path exists but not with this method
    params: list[str]  # subscription, resource group, site, then the child's name if any
    resource_type: str | None


# -- lookups -----------------------------------------------------------------------------------------


def find_site(store: Store, subscription: str, resource_group: str, name: str) -> VMwareSite:
    """The site (names compared case-insensitively, as ARM does), or ARM's 404 for the first missing level:
    subscription, resource group, site."""
    sites = [s for v in store.vaults.values() for s in v.vmware_sites.values()]
    want = (subscription.lower(), resource_group.lower(), name.lower())
    for site in sites:
        if (site.subscription_id.lower(), site.resource_group.lower(), site.name.lower()) == want:
            return site
    if want[0] not in {v.subscription_id.lower() for v in store.vaults.values()}:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")
    groups = {v.resource_group.lower() for v in store.vaults.values() if v.subscription_id.lower() == want[0]}
    groups |= {s.resource_group.lower() for s in sites if s.subscription_id.lower() == want[0]}
    if want[1] not in groups:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{resource_group}' could not be found.")
    raise _missing(resource_group, f"VMwareSites/{name}")


def _missing(resource_group: str, path: str) -> ArmError:
    """ARM's ``ResourceNotFound`` (its message for a missing resource; for a site's children inferred)."""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{NAMESPACE}/{path}' under resource group '{resource_group}' was not found.",
    )


def _child(ctx: SiteCtx, kind: str, children: Mapping[str, Any], name: str) -> Any:
    found = children.get(name.lower())
    if found is None:
        raise _missing(ctx.site.resource_group, f"VMwareSites/{ctx.site.name}/{kind}/{name}")
    return found


def _replicating(store: Store, machine: DiscoveredMachine) -> bool:
    """A migration item replicates the machine: its change tracking is on (agentless replication runs on VMware CBT;
    off before replication is inferred)."""
    return any(
        item.machine is machine and item.stage != Stage.REMOVED
        for vault in store.vaults.values()
        for item in vault.migration_items.values()
    )


# -- handlers ----------------------------------------------------------------------------------------


def _list(ctx: SiteCtx, rows: list[Any], render: Callable[[Any], dict[str, Any]], with_top: bool = False) -> Reply:
    body = page(
        rows,
        render,
        query=ctx.query,
        link_base=ctx.link_base,
        page_size=ctx.store.timing.page_size,
        with_top=with_top,
    )
    return Reply(200, body)


def site_get(ctx: SiteCtx, p: list[str]) -> Reply:
    return Reply(200, site_view(ctx.site, ctx.store.seed, ctx.store.clock, ctx.now, ctx.base_url))


def _render_machine(ctx: SiteCtx) -> Callable[[DiscoveredMachine], dict[str, Any]]:
    return lambda m: machine_view(m, ctx.store.seed, ctx.store.clock, _replicating(ctx.store, m))


# $filter fields of the machine list (the spec names no grammar or fields: inferred, README.md "OffAzure")
MACHINE_FILTER: dict[str, Callable[[DiscoveredMachine], str]] = {
    "displayName": lambda m: m.display_name,
    "powerStatus": lambda m: m.power_status,
    "vCenterId": lambda m: m.v_center.id if m.v_center else "",
    "firmware": lambda m: m.firmware_type,
    "osType": lambda m: m.os_type,
}
VCENTER_FILTER: dict[str, Callable[[VCenter], str]] = {
    "fqdn": lambda v: v.fqdn,
    "runAsAccountId": lambda v: v.run_as_account.id,
}


def machines_list(ctx: SiteCtx, p: list[str]) -> Reply:
    rows = filtered(list(ctx.site.machines.values()), ctx.query, MACHINE_FILTER)
    return _list(ctx, rows, _render_machine(ctx), with_top=True)


def machines_get(ctx: SiteCtx, p: list[str]) -> Reply:
    machine: DiscoveredMachine = _child(ctx, "machines", ctx.site.machines, p[3])
    return Reply(200, _render_machine(ctx)(machine))


def v_centers_list(ctx: SiteCtx, p: list[str]) -> Reply:
    rows = filtered(list(ctx.site.v_centers.values()), ctx.query, VCENTER_FILTER)
    return _list(ctx, rows, lambda v: v_center_view(v, ctx.store.seed, ctx.store.clock))


def v_centers_get(ctx: SiteCtx, p: list[str]) -> Reply:
    v_center: VCenter = _child(ctx, "vcenters", ctx.site.v_centers, p[3])
    return Reply(200, v_center_view(v_center, ctx.store.seed, ctx.store.clock))


def run_as_accounts_list(ctx: SiteCtx, p: list[str]) -> Reply:
    rows = filtered(list(ctx.site.run_as_accounts.values()), ctx.query, None)
    return _list(ctx, rows, lambda a: run_as_account_view(a, ctx.store.clock))


def run_as_accounts_get(ctx: SiteCtx, p: list[str]) -> Reply:
    account: RunAsAccount = _child(ctx, "runasaccounts", ctx.site.run_as_accounts, p[3])
    return Reply(200, run_as_account_view(account, ctx.store.clock))


# -- routes ------------------------------------------------------------------------------------------

SITE = ("vmwaresites", "*")

# (path after the provider, resource type for api-version answers, {method: (operationId, handler)}); the
# operationIds are the 2020-01-01 spec's. The spec's writes (site PUT/PATCH/DELETE, vCenter PUT/DELETE) answer 405.
ROUTES: list[tuple[tuple[str, ...], str, dict[str, tuple[str, SiteHandler]]]] = [
    (SITE, "VMwareSites", {"GET": ("Sites_GetSite", site_get)}),
    ((*SITE, "machines"), "VMwareSites/machines", {"GET": ("Machines_GetAllMachinesInSite", machines_list)}),
    ((*SITE, "machines", "*"), "VMwareSites/machines", {"GET": ("Machines_GetMachine", machines_get)}),
    ((*SITE, "vcenters"), "VMwareSites/vcenters", {"GET": ("VCenter_GetAllVCentersInSite", v_centers_list)}),
    ((*SITE, "vcenters", "*"), "VMwareSites/vcenters", {"GET": ("VCenter_GetVCenter", v_centers_get)}),
    (
        (*SITE, "runasaccounts"),
        "VMwareSites/runasaccounts",
        {"GET": ("RunAsAccounts_GetAllRunAsAccountsInSite", run_as_accounts_list)},
    ),
    (
        (*SITE, "runasaccounts", "*"),
        "VMwareSites/runasaccounts",
        {"GET": ("RunAsAccounts_GetRunAsAccount", run_as_accounts_get)},
    ),
]


def resolve(method: str, segments: list[str]) -> SiteRoute | None:
    """The OffAzure operation for a path (segments URL-decoded); None if the path is not under the namespace."""
    prefix = match_segments(_PROVIDER, segments[: len(_PROVIDER)])
    if prefix is None:
        return None
    rest = segments[len(_PROVIDER) :]
    for pattern, resource_type, methods in ROUTES:
        params = match_segments(pattern, rest)
        if params is None:
            continue
        named = [prefix[0], prefix[1], *params]
        if method not in methods:
            return SiteRoute("", None, named, resource_type)
        operation, handler = methods[method]
        return SiteRoute(operation, handler, named, resource_type)
    return SiteRoute("", None, [prefix[0], prefix[1]], None)
