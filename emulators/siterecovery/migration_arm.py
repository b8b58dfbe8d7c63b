"""The ARM operations of ``replicationMigrationItems`` and ``migrationRecoveryPoints`` (VMwareCbt), one handler
each, and their routes (``arm.ROUTES`` takes them in).

Lists page like the protected-item lists (an opaque ``skipToken`` in ``nextLink``); the SDK also sends
``takeToken`` (its page size), which caps the page. ``$filter`` takes ``field eq 'value'`` clauses joined by
``and`` on the fields below (ASR does not publish which fields it filters on: these are the item's own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulators.siterecovery import arm, migration_lifecycle, migration_schema, schema
from emulators.siterecovery.errors import not_found
from emulators.siterecovery.filters import parse_filter
from emulators.siterecovery.migration_items import MigrationItem
from emulators.siterecovery.migration_points import point_view, points
from emulators.siterecovery.migration_states import TEST_STATES, row
from emulators.siterecovery.migration_views import migration_item_view

# The migration item lists' page-size parameter (ReplicationMigrationItems_List in the 2025-08-01 spec).
TAKE = "takeToken"

FILTER_FIELDS = {"migrationState", "testMigrateState", "health", "machineName", "instanceType", "policyFriendlyName"}


def _item(ctx: arm.Ctx, p: list[str]) -> MigrationItem:
    container = arm._container(ctx, p[0], p[1])
    item = ctx.vault.migration_items.get(f"{container.id}/replicationMigrationItems/{p[2]}".lower())
    if item is None:
        raise not_found("replicationMigrationItems", p[2])
    return item


def _filter(ctx: arm.Ctx) -> Callable[[MigrationItem], bool]:
    flt = ctx.query.get("$filter")
    if not flt:
        return lambda item: True
    clauses = {k.lower(): v.lower() for k, v in parse_filter(flt, FILTER_FIELDS).items()}

    def keep(item: MigrationItem) -> bool:
        view = migration_item_view(item, ctx.now)["properties"]
        facts = {
            "migrationstate": row(migration_lifecycle.state_of(item, ctx.now)).migration_state,
            "testmigratestate": TEST_STATES[migration_lifecycle.test_state(item)][0],
            "health": view["health"],
            "machinename": item.machine.display_name,
            "instancetype": "VMwareCbt",
            "policyfriendlyname": item.mapping.policy.name,
        }
        return all(facts[key].lower() == want for key, want in clauses.items())

    return keep


def _props(ctx: arm.Ctx, model: schema.Model) -> dict[str, Any]:
    body = ctx.body if ctx.body is not None else {}
    schema.validate(model, body)
    props = body.get("properties") or {}
    return props if isinstance(props, dict) else {}


def _render(ctx: arm.Ctx) -> Callable[[MigrationItem], dict[str, Any]]:
    return lambda item: migration_item_view(item, ctx.now)


def list_all(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    keep = _filter(ctx)
    return arm._page(ctx, [i for i in ctx.vault.migration_items.values() if keep(i)], _render(ctx), take_param=TAKE)


def list_by_container(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    container = arm._container(ctx, p[0], p[1])
    keep = _filter(ctx)
    rows = [i for i in ctx.vault.migration_items.values() if i.container is container and keep(i)]
    return arm._page(ctx, rows, _render(ctx), take_param=TAKE)


def get(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    return arm.Reply(200, migration_item_view(_item(ctx, p), ctx.now))


def create(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    props = _props(ctx, migration_schema.ENABLE_MIGRATION)
    container = arm._container(ctx, p[0], p[1])
    item = migration_lifecycle.enable(ctx.store, ctx.vault, container, p[2], props)
    assert item.job is not None
    return arm._accepted(ctx, item.job)


def update(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    props = _props(ctx, migration_schema.UPDATE_MIGRATION)
    return arm._accepted(ctx, migration_lifecycle.update(ctx.store, _item(ctx, p), props, ctx.now))


def delete(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    option = ctx.query.get("deleteOption")
    return arm._accepted(ctx, migration_lifecycle.delete(ctx.store, _item(ctx, p), option, ctx.now))


def migrate(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    props = _props(ctx, migration_schema.MIGRATE)
    return arm._accepted(ctx, migration_lifecycle.migrate(ctx.store, _item(ctx, p), props, ctx.now))


def test_migrate(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    props = _props(ctx, migration_schema.TEST_MIGRATE)
    return arm._accepted(ctx, migration_lifecycle.test_migrate(ctx.store, _item(ctx, p), props, ctx.now))


def test_migrate_cleanup(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    _props(ctx, migration_schema.TEST_MIGRATE_CLEANUP)
    return arm._accepted(ctx, migration_lifecycle.test_migrate_cleanup(ctx.store, _item(ctx, p), ctx.now))


def resync(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    props = _props(ctx, migration_schema.RESYNC)
    return arm._accepted(ctx, migration_lifecycle.resync(ctx.store, _item(ctx, p), props, ctx.now))


def pause(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    props = _props(ctx, migration_schema.PAUSE)
    return arm._accepted(ctx, migration_lifecycle.pause(ctx.store, _item(ctx, p), props, ctx.now))


def resume(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    props = _props(ctx, migration_schema.RESUME)
    return arm._accepted(ctx, migration_lifecycle.resume(ctx.store, _item(ctx, p), props, ctx.now))


def results(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    container = arm._container(ctx, p[0], p[1])
    return arm.operation_result(ctx, p, f"{container.id}/replicationMigrationItems/{p[2]}")


def points_list(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    item = _item(ctx, p)
    return arm._page(ctx, points(item, ctx.now), lambda rp: point_view(item, rp))


def points_get(ctx: arm.Ctx, p: list[str]) -> arm.Reply:
    item = _item(ctx, p)
    for rp in points(item, ctx.now):
        if rp.name.lower() == p[3].lower():
            return arm.Reply(200, point_view(item, rp))
    raise not_found("migrationRecoveryPoints", p[3])


MI = "replicationmigrationitems"
_PC = ("replicationfabrics", "*", "replicationprotectioncontainers", "*")
RMI = (*_PC, MI, "*")
_G = "ReplicationMigrationItems"

ROUTES: list[tuple[tuple[str, ...], dict[str, tuple[str, arm.Handler]]]] = [
    ((MI,), {"GET": (f"{_G}_List", list_all)}),
    ((*_PC, MI), {"GET": (f"{_G}_ListByReplicationProtectionContainers", list_by_container)}),
    (
        RMI,
        {
            "GET": (f"{_G}_Get", get),
            "PUT": (f"{_G}_Create", create),
            "PATCH": (f"{_G}_Update", update),
            "DELETE": (f"{_G}_Delete", delete),
        },
    ),
    ((*RMI, "migrate"), {"POST": (f"{_G}_Migrate", migrate)}),
    ((*RMI, "testmigrate"), {"POST": (f"{_G}_TestMigrate", test_migrate)}),
    ((*RMI, "testmigratecleanup"), {"POST": (f"{_G}_TestMigrateCleanup", test_migrate_cleanup)}),
    ((*RMI, "resync"), {"POST": (f"{_G}_Resync", resync)}),
    ((*RMI, "pausereplication"), {"POST": (f"{_G}_PauseReplication", pause)}),
    ((*RMI, "resumereplication"), {"POST": (f"{_G}_ResumeReplication", resume)}),
    ((*RMI, "operationresults", "*"), {"GET": ("OperationResults_Get", results)}),
    (
        (*RMI, "migrationrecoverypoints"),
        {"GET": ("MigrationRecoveryPoints_ListByReplicationMigrationItems", points_list)},
    ),
    ((*RMI, "migrationrecoverypoints", "*"), {"GET": ("MigrationRecoveryPoints_Get", points_get)}),
]
