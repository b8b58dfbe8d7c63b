"""The ``python -m cli`` command line: parse, dispatch, and turn every failure into one readable paragraph.

Commands that act on the app (``submit``, ``status``, ``watch``, ``approve``…) take ``--endpoint`` and a way to
sign in: ``--entra-scope`` (Entra ID through ``azure-identity``) against Azure, ``--local-sign-in`` (the local
token issuer) against the local stack; ``run`` without an
endpoint brings up the local stand-ins instead. ``validate`` and ``import`` work on files (``validate`` also
reads Site Recovery). A :class:`~cli.errors.CliError` anywhere ends the command with its message and a
non-zero status; so do unreadable files and interrupted prompts, never with a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from cli.api_client import ENDPOINT_ENV, SCOPE_ENV, ApiClient, Credentials, entra_token_provider
from cli.errors import EXIT_USAGE, CliError
from cli.local_stack import Terminated
from migration.commands import ACTIONS

__all__ = ["build_parser", "main"]

DEFAULT_SPEED = 3600.0
DEFAULT_DATA = Path(".data") / "cli"
ACTOR_HELP = "a name to note beside the signed-in caller, whom the app records as the actor (default: none)"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one paragraph naming the command, with exit status 2."""

    def error(self, message: str) -> Any:
        raise CliError(f"{self.prog}: {message}. See `{self.prog} --help`.", EXIT_USAGE)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than zero")
    return value


def _endpoint_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    group = parser.add_argument_group("the app")
    group.add_argument(
        "--endpoint",
        default=os.environ.get(ENDPOINT_ENV),
        help=f"the Function App's base URL (default: ${ENDPOINT_ENV})"
        + ("" if required else "; without one, the local stand-ins are started"),
    )
    sign_in = group.add_mutually_exclusive_group()
    sign_in.add_argument(
        "--entra-scope",
        default=os.environ.get(SCOPE_ENV),
        help=f"sign in with Entra ID for this scope, the template's {SCOPE_ENV} output (default: ${SCOPE_ENV})",
    )
    sign_in.add_argument(
        "--local-sign-in",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="sign in as the local demo user with the local token issuer in FOLDER (printed by `run`)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m cli",
        description="Run Azure Site Recovery migration waves locally or drive a deployed migration orchestrator.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    run = commands.add_parser("run", help="submit a plan and follow it live to the end (local stand-ins by default)")
    run.add_argument("plan", type=Path, help="plan file (YAML or JSON)")
    _endpoint_options(run, required=False)
    run.add_argument(
        "--approve",
        choices=("ask", "auto", "never"),
        default="ask",
        help="at the approval gate: ask at the terminal (default), approve automatically, or wait",
    )
    run.add_argument(
        "--speed",
        type=_positive,
        default=DEFAULT_SPEED,
        help=f"local only: simulated seconds per wall second (default {DEFAULT_SPEED:g})",
    )
    run.add_argument(
        "--topology",
        type=Path,
        default=None,
        help="local only: Site Recovery topology (default examples/topology.yaml)",
    )
    run.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"local only: state and logs (default {DEFAULT_DATA})"
    )
    run.add_argument(
        "--report",
        type=Path,
        action="append",
        default=None,
        help="when the wave ends, write its report here (.json, .csv or .html; repeatable)",
    )
    run.add_argument(
        "--cancel-on-interrupt", action="store_true", help="Ctrl-C cancels the migration instead of detaching"
    )
    run.add_argument("--interval", type=_positive, default=1.0, help="seconds between status reads (default 1)")
    run.add_argument("--actor", default=None, help=ACTOR_HELP)

    validate = commands.add_parser("validate", help="check a plan's schema, then pre-flight it against Site Recovery")
    validate.add_argument("plan", type=Path)
    validate.add_argument("--schema-only", action="store_true", help="skip the Site Recovery pre-flight")
    validate.add_argument(
        "--topology",
        type=Path,
        default=None,
        help="pre-flight against a local Site Recovery emulator started with this topology",
    )
    validate.add_argument(
        "--arm-endpoint",
        default=None,
        help="Site Recovery's ARM endpoint (default: $ASR_ARM_ENDPOINT, else Azure's public cloud)",
    )

    imp = commands.add_parser("import", help="build a plan from an inventory CSV (see cli/README.md for the columns)")
    imp.add_argument("csv", type=Path)
    imp.add_argument("--id", dest="plan_id", required=True, help="the plan id (a slug)")
    imp.add_argument("--name", default=None, help="the plan name (default: the id)")
    imp.add_argument("--output", "-o", type=Path, default=None, help="write the plan here (default: stdout)")
    imp.add_argument("--options", type=Path, default=None, help="YAML/JSON file with the wave options to use")

    submit = commands.add_parser("submit", help="submit a plan and print its id and links")
    submit.add_argument("plan", type=Path)
    submit.add_argument("--idempotency-key", default=None)
    _endpoint_options(submit)

    for name, text in (("status", "show a migration's status"), ("watch", "follow a migration live until it ends")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("id")
        if name == "status":
            sub.add_argument("--machine", default=None, help="show one machine in detail")
            sub.add_argument("--json", action="store_true", help="print the status document as JSON")
        else:
            sub.add_argument("--approve", choices=("ask", "auto", "never"), default="ask")
            sub.add_argument("--interval", type=_positive, default=2.0)
            sub.add_argument("--actor", default=None, help=ACTOR_HELP)
            sub.add_argument("--report", type=Path, action="append", default=None)
        _endpoint_options(sub)

    for action in ACTIONS:
        sub = commands.add_parser(action, help=f"{action} a migration (optionally only some machines)")
        sub.add_argument("id")
        sub.add_argument("--reason", default="", help="why; recorded with the command")
        sub.add_argument("--actor", default=None, help=ACTOR_HELP)
        sub.add_argument("--machine", dest="machines", action="append", default=None, help="a machine (repeatable)")
        if action == "postpone":
            sub.add_argument("--not-before", required=True, help="new cutover window start (ISO 8601 UTC)")
            sub.add_argument("--not-after", required=True, help="new cutover window end (ISO 8601 UTC)")
        _endpoint_options(sub)

    report = commands.add_parser("report", help="write a migration's report as JSON, CSV or HTML (timeline)")
    report.add_argument("id")
    report.add_argument("--output", "-o", type=Path, required=True, help="file to write (.json, .csv or .html)")
    report.add_argument("--format", choices=("json", "csv", "html"), default=None)
    _endpoint_options(report)

    listing = commands.add_parser("list", help="list migrations")
    listing.add_argument("--status", default=None)
    listing.add_argument("--created-from", default=None)
    listing.add_argument("--created-to", default=None)
    listing.add_argument("--top", default=None)
    listing.add_argument("--continuation-token", default=None)
    listing.add_argument("--skip", default=None, help="skip this many (paging, as the app's nextLink does)")
    listing.add_argument("--json", action="store_true")
    _endpoint_options(listing)
    return parser


def _client(args: argparse.Namespace) -> ApiClient:
    if not args.endpoint:
        raise CliError(
            f"No endpoint: pass --endpoint https://<app>.azurewebsites.net or set {ENDPOINT_ENV}. "
            "(Only `run` starts the local stand-ins when no endpoint is given.)",
            EXIT_USAGE,
        )
    return ApiClient(args.endpoint, _credentials(args))


def _credentials(args: argparse.Namespace) -> Credentials:
    if getattr(args, "local_sign_in", None):
        from cli.local_identity import local_sign_in

        return Credentials(token=local_sign_in(args.local_sign_in))
    if getattr(args, "entra_scope", None):
        return Credentials(token=entra_token_provider(args.entra_scope))
    return Credentials()


def _actor(args: argparse.Namespace) -> str:
    return str(args.actor or "")


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    command = args.command
    if command == "run":
        from cli.run_command import RunOptions, run

        options = RunOptions(
            plan=args.plan,
            endpoint=args.endpoint,
            credentials=_credentials(args),
            approve=args.approve,
            speed=args.speed,
            topology=args.topology,
            data_dir=args.data,
            reports=args.report or [],
            cancel_on_interrupt=args.cancel_on_interrupt,
            actor=_actor(args),
            interval=args.interval,
        )
        return run(options, console)
    if command == "validate":
        from cli.preflight import validate

        return validate(
            args.plan, console, schema_only=args.schema_only, topology=args.topology, arm_endpoint=args.arm_endpoint
        )
    if command == "import":
        from cli.inventory_csv import import_command

        return import_command(args.csv, args.plan_id, args.name, args.output, args.options, console)
    if command == "submit":
        from cli.plan_file import load_plan, plan_json

        plan = load_plan(args.plan)
        body, created = _client(args).submit(plan_json(plan), args.idempotency_key)
        # A repeat of a running migration is answered like the first submission (202), an ended one with 200.
        verdict = "Accepted" if created else "Already submitted and ended"
        console.print(f"{verdict}: {body.get('id')} ({body.get('status')})", markup=False)
        for name, link in (body.get("links") or {}).items():
            console.print(f"  {name}: {link}", highlight=False)
        return 0
    if command == "status":
        client = _client(args)
        if args.machine:
            console.print_json(json.dumps(client.machine(args.id, args.machine)))
            return 0
        status = client.status(args.id)
        if args.json:
            console.print_json(json.dumps(status))
        else:
            from cli.live_view import render

            console.print(render(status))
        return 0 if status.get("status") in ("Running", "Migrated") else 3
    if command == "watch":
        from cli.run_command import command_hint, follow
        from cli.watching import WatchOptions

        client = _client(args)
        hint = command_hint("approve", args.id, args.endpoint, args.local_sign_in)
        watch_options = WatchOptions(
            approve=args.approve, actor=_actor(args), interval=args.interval, approve_hint=hint
        )
        try:
            return follow(client, args.id, console, watch_options, reports=args.report or [], report_source=client)
        except KeyboardInterrupt:
            reattach = command_hint("watch", args.id, args.endpoint, args.local_sign_in)
            console.print(f"Detached; the migration goes on. Reattach with: {reattach}", markup=False, soft_wrap=True)
            return 130
    if command in ACTIONS:
        from cli.watching import command_body

        request = command_body(_actor(args), args.reason)
        if args.machines:
            request["machines"] = args.machines
        if command == "postpone":
            request["window"] = {"notBefore": args.not_before, "notAfter": args.not_after}
        answer = _client(args).command(args.id, command, request)
        console.print(f"{command}: accepted={answer.get('accepted')} command {answer.get('commandId')}")
        return 0
    if command == "report":
        from cli.report_files import format_for, write_report

        fmt = format_for(args.output, args.format)
        document = _client(args).report(args.id, csv=fmt == "csv")
        write_report(document, args.output, fmt)
        console.print(f"Report written to {args.output}")
        return 0
    if command == "list":
        query = {
            "status": args.status,
            "createdFrom": args.created_from,
            "createdTo": args.created_to,
            "top": args.top,
            "continuationToken": args.continuation_token,
            "skip": args.skip,
        }
        page = _client(args).list(**query)
        if args.json:
            console.print_json(json.dumps(page))
            return 0
        for item in page.get("items") or page.get("value") or []:
            line = f"{item.get('id')!s:<32} {item.get('status')!s:<18} {item.get('createdAt')!s:<22} {item.get('name')}"
            console.print(line, markup=False)
        token, following = page.get("continuationToken"), page.get("nextLink")
        if token:
            console.print(f"more: --continuation-token {token}", markup=False)
        elif following:
            console.print(f"more: {following}", markup=False)
        return 0
    raise CliError(f"unknown command {command!r}", EXIT_USAGE)  # pragma: no cover - argparse refuses it first


def main(argv: Sequence[str] | None = None) -> int:
    console = Console(highlight=False, soft_wrap=not sys.stdout.isatty())
    errors = Console(stderr=True, highlight=False)
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args, console)
    except CliError as error:
        errors.print(f"[bold red]error:[/bold red] {escape(str(error))}", soft_wrap=True)
        return error.exit_code
    except KeyboardInterrupt:
        errors.print("Interrupted.")
        return 130
    except Terminated as signal_name:
        errors.print(f"Stopped by {signal_name}; any local stand-ins were stopped.", markup=False)
        return 143
    except Exception as error:  # noqa: BLE001 - a bug still gets one paragraph; CLI_DEBUG=1 shows the traceback
        if os.environ.get("CLI_DEBUG"):
            raise
        errors.print(
            f"error: unexpected {type(error).__name__}: {error}. This is a fault in the command line, not in your "
            "input; run again with CLI_DEBUG=1 to see where it happened, and report it.",
            markup=False,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
