"""``validate PLAN``: the plan's schema, then a read-only pre-flight of every machine against Site Recovery.

A wave should fail at the desk, not at hour three: this checks what the app's own validate stage checks (the same
function, :func:`migration.preflight.check_machine`), for every machine at once, and says what would happen to
each (the runbook it would walk, or that an already-protected item would be adopted). It then checks what the
wave checks before it starts any machine (:func:`migration.preflight.check_target_fit`): each size offered in its
region and zone, the vCPUs per family and in total within the quotas, the VM names free; every problem with its
plan path and figures, and what could not be checked as a warning. It never changes anything.

Where Site Recovery is: ``--topology FILE`` starts the local emulator with that topology (a dry run against the
examples); otherwise ``--arm-endpoint`` or ``ASR_ARM_ENDPOINT`` (Azure's public cloud by default) with
``DefaultAzureCredential``. Only the vaults the plan names are read, and of Compute the target regions' sizes and
quotas, the target VM names and the source VMs of Azure VMs. The exit status is 0 when the plan can run, 1 when
any machine has a problem.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from cli.errors import CliError
from cli.plan_file import load_plan
from migration.arm_ids import parse_resource_id
from migration.asr import AsrSettings, SiteRecovery
from migration.compute import Compute
from migration.errors import MigrationError
from migration.json_types import Json
from migration.payloads.target_fit import Finding, TargetFit
from migration.plan import Plan
from migration.preflight import check_machine, check_target_fit
from migration.stages import runbook_for
from migration.status_bounds import names_text

__all__ = ["preflight", "site_recovery_for", "target_verdict", "validate"]


def _fences(plan: Plan) -> dict[str, str]:
    """Settings that let the check read the plan's own vaults and targets, and the source VMs of its Azure VMs (an
    Azure VM's target takes its source's size): validate asks Site Recovery and Compute whether what the plan names
    exists and fits; whether the app may touch it is the app's settings' answer, checked when it is submitted."""
    machines = [machine for _, machine in plan.machines()]
    groups = {machine.target.resource_group_id for machine in machines}
    for machine in machines:
        if machine.asr.source_vm_id:
            source = parse_resource_id(machine.asr.source_vm_id)
            groups.add(f"/subscriptions/{source.subscription_id}/resourceGroups/{source.resource_group}")
    return {
        "ASR_ALLOWED_VAULT_IDS": ",".join(sorted({machine.vault.id for machine in machines})),
        "ASR_ALLOWED_TARGET_SCOPES": ",".join(sorted(groups)),
    }


@contextmanager
def site_recovery_for(
    plan: Plan, topology: Path | None, arm_endpoint: str | None
) -> Iterator[tuple[SiteRecovery, str]]:
    """The adapter to check with, and a phrase saying where it points."""
    if topology is not None:
        from cli.plan_file import load_document
        from emulators.siterecovery import start_emulator

        document = load_document(topology, "topology")
        try:
            emulator = start_emulator(document, speed=0)
        except Exception as error:  # noqa: BLE001 - the emulator reports a bad topology with its own message
            raise CliError(f"The topology {topology} cannot be used: {error}") from None
        try:
            settings = AsrSettings.from_environment({"ASR_ARM_ENDPOINT": emulator.base_url, **_fences(plan)})
            adapter = SiteRecovery(settings)
            try:
                yield adapter, f"the local Site Recovery emulator with {topology}"
            finally:
                adapter.close()
        finally:
            emulator.stop()
        return
    endpoint = arm_endpoint or os.environ.get("ASR_ARM_ENDPOINT") or ""
    environ = _fences(plan)
    if endpoint:
        environ["ASR_ARM_ENDPOINT"] = endpoint
    try:
        settings = AsrSettings.from_environment(environ)
    except ValueError as error:
        raise CliError(f"Cannot use that Site Recovery endpoint: {error}.") from None
    adapter = SiteRecovery(settings)
    try:
        yield adapter, f"Site Recovery at {settings.arm_endpoint}"
    finally:
        adapter.close()


def preflight(plan: Plan, asr: SiteRecovery) -> list[Json]:
    """One row per machine: its group, provider, the checks' verdict and what the runbook would do."""
    rows = []
    for group_index, machine in plan.machines():
        try:
            verdict = check_machine(asr, machine)
        except MigrationError as error:
            raise CliError(
                f"Site Recovery could not be read while checking {machine.name}: {error.message} ({error.code}). "
                "Check the endpoint, your sign-in (az login) and your network."
            ) from None
        stages = [stage.value for stage in runbook_for(machine, plan.options).stages]
        rows.append(
            {
                "machine": machine.name,
                "group": plan.groups[group_index].name,
                "sourceKind": machine.source_kind.value,
                "provider": machine.provider.value,
                "fabric": machine.asr.fabric,
                "container": machine.asr.protection_container,
                "item": machine.asr.protectable_item or machine.asr.source_vm_id or machine.asr.discovered_machine_id,
                "policy": machine.replication.policy,
                "mapping": machine.replication.container_mapping,
                **verdict,
                "stages": stages,
            }
        )
    return rows


def _index(plan: Plan, name: str) -> str:
    for g, group in enumerate(plan.groups):
        for m, machine in enumerate(group.machines):
            if machine.name == name:
                return f"groups[{g}].machines[{m}]"
    return name


def target_verdict(plan: Plan, asr: SiteRecovery) -> TargetFit:
    """The wave's own check of the plan's target (sizes, quotas, names), through a Compute adapter beside ``asr``."""
    compute = Compute(asr)
    try:
        return check_target_fit(asr, compute, plan)
    except MigrationError as error:
        raise CliError(
            f"Site Recovery or Compute could not be read while checking the plan's target: {error.message} "
            f"({error.code}). Check the endpoint, your sign-in (az login) and your network."
        ) from None
    finally:
        compute.close()


def _lines(findings: tuple[Finding, ...], machine: str, label: str) -> list[str]:
    """``label path: message`` for each path of ``machine`` in ``findings``."""
    return [
        f"{label}{path}: {finding.message}"
        for finding in findings
        for name, path in zip(finding.machines, finding.paths, strict=True)
        if name == machine
    ]


def validate(
    path: Path,
    console: Console,
    *,
    schema_only: bool = False,
    topology: Path | None = None,
    arm_endpoint: str | None = None,
) -> int:
    plan = load_plan(path)
    console.print(
        f"Plan {escape(str(path))}: [bold]{escape(plan.id)}[/bold] ({plan.machine_count} machines in "
        f"{len(plan.groups)} groups) matches the schema."
    )
    if schema_only:
        return 0
    with site_recovery_for(plan, topology, arm_endpoint) as (asr, where):
        console.print(f"Pre-flight against {escape(where)} (read-only):")
        rows = preflight(plan, asr)
        fit = target_verdict(plan, asr)
    bad = 0
    for row in rows:
        misfits = _lines(fit.problems, row["machine"], "")
        ok = row["ok"] and not misfits
        mark = "[green]ok[/green]" if ok else "[red]PROBLEM[/red]"
        console.print(
            f"  {mark} [bold]{escape(row['machine'])}[/bold] (group {escape(row['group'])}, {row['sourceKind']}, "
            f"{row['provider']}): fabric {escape(row['fabric'])}, container {escape(str(row['container']))}, "
            f"item {escape(str(row['item']))}, policy {escape(row['policy'])}, mapping {escape(str(row['mapping']))}"
        )
        if not ok:
            bad += 1
            for problem in row["problems"]:
                where_in_plan = f"{_index(plan, row['machine'])}.{problem['path']}"
                console.print(f"      {escape(where_in_plan)}: {escape(problem['message'])}")
            for line in misfits:
                console.print(f"      {escape(line)}")
        elif row["protected"]:
            console.print("      already protected: the runbook adopts it where it stands and goes on from there")
        else:
            console.print(f"      would run: {' → '.join(row['stages'])}")
        for line in _lines(fit.warnings, row["machine"], "warning: ") + _lines(fit.notes, row["machine"], "note: "):
            console.print(f"      {escape(line)}")
    unchecked = " Some checks could not be made: see the warnings above." if fit.warnings else ""
    if bad:
        misfit = [row["machine"] for row in rows if fit.concerning(row["machine"])]
        target = f" The target does not fit for {escape(names_text(misfit))}." if misfit else ""
        console.print(
            f"[red]{bad} of {len(rows)} machines cannot run as planned[/red]; nothing was changed.{target}{unchecked}"
        )
        return 1
    console.print(
        f"[green]All {len(rows)} machines resolve and their target fits; the plan can run.[/green]{unchecked}"
    )
    return 0
