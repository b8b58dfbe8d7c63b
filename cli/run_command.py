"""``run PLAN``: submit a plan and follow it to the end, on the local stand-ins or on a deployed app.

Without an endpoint it starts the local Site Recovery, Service Bus and Functions hosts (``cli.local_stack``),
so one command shows the whole product; with ``--endpoint`` it drives the real thing the same way.

Ctrl-C never cancels by accident: against a deployed app it detaches (the migration goes on; ``watch``
reattaches); on the local stand-ins, which live only as long as this command, it detaches the view and keeps
the stand-ins up until the wave ends or a second Ctrl-C. ``--cancel-on-interrupt`` cancels instead and waits
for the rollback.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from rich.console import Console

from cli.api_client import ApiClient, Credentials
from cli.errors import CliError
from cli.live_view import stage_counts
from cli.local_identity import LOCAL_USER
from cli.local_stack import DEFAULT_TOPOLOGY, local_stack
from cli.plan_file import load_plan, plan_json
from cli.plan_topology import topology_for
from cli.preflight import preflight, site_recovery_for
from cli.report_files import write_report
from cli.terminal_text import text
from cli.watching import MigrationApi, WatchOptions, command_body, watch
from migration.plan import Plan

__all__ = ["RunOptions", "command_hint", "follow", "run"]

EXIT_DETACHED = 130
EXIT_NOT_MIGRATED = 3


@dataclass(frozen=True)
class RunOptions:
    plan: Path
    endpoint: str | None
    credentials: Credentials
    approve: str
    speed: float
    topology: Path | None
    data_dir: Path
    reports: list[Path]
    cancel_on_interrupt: bool
    actor: str
    interval: float


def command_hint(command: str, migration_id: str, endpoint: str, sign_in: Path | None = None) -> str:
    """The command that does ``command`` from another terminal; locally it signs in with the stack's issuer."""
    parts = ["python", "-m", "cli", command, migration_id, "--endpoint", endpoint]
    if sign_in is not None:
        parts += ["--local-sign-in", str(sign_in)]
    return shlex.join(parts)


def follow(
    api: MigrationApi,
    migration_id: str,
    console: Console,
    options: WatchOptions,
    *,
    reports: list[Path],
    report_source: ApiClient,
) -> int:
    """Watch to the end, write the report if asked, and return the exit status (0 only when ``Migrated``)."""
    final = watch(api, migration_id, console, options)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(stage_counts(final).items()))
    console.print(text(f"{migration_id}: {final.get('status')}", style="bold"), text(f"({counts})"))
    if reports:
        document = report_source.report(migration_id)
        for path in reports:
            write_report(document, path)
            console.print(f"Report written to {path}", markup=False)
    return 0 if final.get("status") == "Migrated" else EXIT_NOT_MIGRATED


def _interrupted(api: MigrationApi, migration_id: str, console: Console, options: RunOptions, hint: str) -> None:
    if options.cancel_on_interrupt:
        console.print("Interrupted: cancelling the migration (machines that have not failed over are rolled back)…")
        api.command(migration_id, "cancel", command_body(options.actor, "interrupted with --cancel-on-interrupt"))
        return
    # Not wrapped by the console: a command broken across lines would not paste back whole.
    console.print(f"Detached; the migration was not cancelled. Reattach with: {hint}", markup=False, soft_wrap=True)


def choose_topology(plan: Plan, given: Path | None, data_dir: Path, console: Console) -> Path:
    """The topology for the local Site Recovery: the one given (the plan must resolve in it), else the example
    topology when the plan resolves there, else one built from the plan. Checked before anything starts."""
    candidate = given or DEFAULT_TOPOLOGY
    with site_recovery_for(plan, candidate, None) as (asr, _):
        rows = preflight(plan, asr)
    problems = [f"{row['machine']}: {p['path']}: {p['message']}" for row in rows for p in row["problems"]]
    if not problems:
        return candidate
    if given is not None:
        listing = "; ".join(problems[:10])
        raise CliError(f"The plan does not resolve in the topology {given}: {listing}. Nothing was started.")
    data_dir.mkdir(parents=True, exist_ok=True)
    built = data_dir / "topology.yaml"
    built.write_text(yaml.safe_dump(topology_for(plan), sort_keys=False), encoding="utf-8")
    console.print(f"The plan names resources the example topology lacks; using a topology built from it: {built}")
    return built


def run(options: RunOptions, console: Console) -> int:
    plan = load_plan(options.plan)
    document = plan_json(plan)
    watch_options = WatchOptions(approve=options.approve, actor=options.actor, interval=options.interval)
    if options.endpoint is not None:
        client = ApiClient(options.endpoint, options.credentials)
        client.submit(document)
        hint = command_hint("watch", plan.id, options.endpoint)
        watch_options = WatchOptions(
            approve=options.approve,
            actor=options.actor,
            interval=options.interval,
            approve_hint=command_hint("approve", plan.id, options.endpoint),
        )
        console.print(f"Submitted {plan.id} to {options.endpoint}.")
        try:
            return follow(client, plan.id, console, watch_options, reports=options.reports, report_source=client)
        except KeyboardInterrupt:
            _interrupted(client, plan.id, console, options, hint)
            if not options.cancel_on_interrupt:
                return EXIT_DETACHED
            return follow(client, plan.id, console, watch_options, reports=options.reports, report_source=client)

    data_dir = options.data_dir / datetime.now(UTC).strftime("run-%Y%m%dT%H%M%S")
    topology = choose_topology(plan, options.topology, data_dir, console)
    console.print(f"Starting the local Site Recovery, Service Bus and Functions hosts (logs in {data_dir})…")
    with local_stack(data_dir, speed=options.speed, topology=topology) as stack:
        api = ApiClient(stack.app_url, Credentials(token=stack.sign_in()))
        api.submit(document)
        hint = command_hint("watch", plan.id, stack.app_url, stack.sign_in_folder)
        watch_options = WatchOptions(
            approve=options.approve,
            actor=options.actor,
            interval=options.interval,
            approve_hint=command_hint("approve", plan.id, stack.app_url, stack.sign_in_folder),
        )
        console.print(
            f"Submitted {plan.id} ({plan.machine_count} machines) to the local app at {stack.app_url} as "
            f"{LOCAL_USER.name} (roles {', '.join(LOCAL_USER.roles)}); "
            f"Site Recovery simulated at {stack.speed:g}× speed."
        )
        try:
            return follow(api, plan.id, console, watch_options, reports=options.reports, report_source=api)
        except KeyboardInterrupt:
            _interrupted(api, plan.id, console, options, hint)
            if not options.cancel_on_interrupt:
                console.print(
                    "The local stand-ins live only as long as this command: they stay up until the wave ends. "
                    "Press Ctrl-C again to stop them now (the local migration stops with them)."
                )
            quiet = WatchOptions(approve="never", actor=options.actor, interval=options.interval, approve_hint=hint)
            try:
                return follow(
                    api,
                    plan.id,
                    Console(quiet=not options.cancel_on_interrupt),
                    quiet,
                    reports=options.reports,
                    report_source=api,
                )
            except KeyboardInterrupt:
                console.print("Stopping the local stand-ins.")
                return EXIT_DETACHED
