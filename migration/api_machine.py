"""One machine's document (``GET /api/migrations/{id}/machines/{name}``) and the machines' result records.

A machine's record is what its runbook returns: stage timestamps, ASR job ids, recovery point, downtime, error.
Once the wave has ended its output holds every machine's record; while it runs, a machine's record is the output of
its most recently finished runbook instance, so a document (or a report) taken mid-wave shows what is known.

Instances are the plain dicts of ``migration.api_status``; the triggers read them and send what these return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from migration.api_requests import ApiError
from migration.api_status import Links, decode, machine_names, machine_view, obj, overall_status
from migration.errors import redact_all
from migration.instance_ids import Kind, parse
from migration.json_types import Json

__all__ = ["find_machine", "machine_document", "machine_records"]


def find_machine(wave: Mapping[str, Any], migration_id: str, wanted: str) -> tuple[str, str]:
    """``(machine, group)`` as the plan spells them, for a name given in any case; ApiError 404 when there is none."""
    plan = obj(obj(decode(wave.get("input"))).get("plan"))
    match = [(m, g) for m, g in machine_names(plan) if m.lower() == wanted.lower()]
    if not match:
        raise ApiError(404, "MachineNotFound", f"migration {migration_id!r} has no machine {wanted[:64]!r}")
    return match[0]


def _latest_record(instances: Iterable[Mapping[str, Any]]) -> Json | None:
    """The output of the machine's most recently finished runbook (its stages, jobs, downtime so far)."""
    best: Mapping[str, Any] | None = None
    for instance in instances:
        kind = parse(str(instance.get("instanceId") or "")).kind
        output = instance.get("output")
        if kind not in (Kind.RUNBOOK, Kind.ROLLBACK) or not isinstance(output, dict) or "stages" not in output:
            continue
        if best is None or str(instance.get("lastUpdatedTime")) >= str(best.get("lastUpdatedTime")):
            best = instance
    return best.get("output") if best else None


def machine_records(wave: Mapping[str, Any], instances: Mapping[str, list[Json]]) -> dict[str, Json | None]:
    """Each machine's record: from the wave's output once it ended, else from the machines' ``instances``."""
    output = obj(decode(wave.get("output")))
    finished = output.get("machines") if isinstance(output.get("machines"), dict) else None
    if finished is not None:
        return dict(finished)
    return {machine: _latest_record(found) for machine, found in instances.items()}


def machine_document(
    wave: Mapping[str, Any],
    migration_id: str,
    machine: str,
    group: str,
    instances: Mapping[str, list[Json]],
    *,
    base_url: str,
) -> Json:
    """One machine (named as :func:`find_machine` returns it): its status line, its record and the links."""
    record = machine_records(wave, instances).get(machine)
    final = record if overall_status(wave) != "Running" else None
    view = machine_view(migration_id, machine, group, instances.get(machine, []), final)
    body = {
        **view,
        "migrationId": migration_id,
        "record": record,
        "links": Links(base_url, migration_id).to_dict(),
    }
    cleaned: Json = redact_all(body)
    return cleaned
