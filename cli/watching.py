"""Following a wave until it ends: poll its status, draw it, and answer the approval gate when asked to.

Shared by ``run`` and ``watch``. The loop only reads, except at the gate: with ``--approve auto`` it approves once,
with ``--approve ask`` (on a terminal) it asks the person, and otherwise it says how to approve from elsewhere.
It returns the last status document; interrupting it (Ctrl-C) is left to the caller, which knows whether to
detach or cancel.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rich.console import Console
from rich.live import Live
from rich.markup import escape

from cli.live_view import change_lines, render
from cli.terminal_text import printable
from migration.json_types import Json

__all__ = ["MigrationApi", "WatchOptions", "command_body", "watch"]


class MigrationApi(Protocol):
    """What watching needs of the app (:class:`cli.api_client.ApiClient`)."""

    def status(self, migration_id: str) -> Json: ...

    def command(self, migration_id: str, action: str, body: Json) -> Json: ...


@dataclass(frozen=True)
class WatchOptions:
    approve: str = "ask"  # ask | auto | never
    actor: str = ""  # an optional note; the app records the signed-in caller as the actor
    interval: float = 1.0
    approve_hint: str = ""  # the command that approves from another terminal


def command_body(actor: str, reason: str) -> Json:
    """A command's body: the reason, and ``actor`` only when given.

    The app records whoever signed in as the actor; a name in the body is kept only as a note beside it
    (``assertedActor``), so the command line sends none unless asked to.
    """
    return {"reason": reason, **({"actor": actor} if actor else {})}


def _ask(console: Console, status: Json) -> str:
    """Ask the person at the terminal: approve, reject, or keep waiting."""
    ready = [m["name"] for m in status.get("machines") or [] if m.get("stage") == "cutoverGate"]
    names = escape(printable(", ".join(str(name) for name in ready)))
    console.print(
        f"[bold]Approval needed[/bold]: {len(ready)} machine(s) are ready for cutover ({names}). "
        "Failover cannot be undone."
    )
    while True:
        try:
            answer = console.input(
                "Approve the cutover? [bold]\\[y]es[/bold] / \\[n]o (reject and roll back) / \\[w]ait: "
            )
        except EOFError:
            return "wait"
        choice = answer.strip().lower()[:1]
        if choice in ("y", "n", "w"):
            return {"y": "approve", "n": "reject", "w": "wait"}[choice]
        console.print("Please answer y, n or w.")


def watch(
    api: MigrationApi,
    migration_id: str,
    console: Console,
    options: WatchOptions,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Json:
    """Poll until the wave is no longer ``Running``; return its final status document."""
    interactive = console.is_terminal
    asked = False
    previous: Json | None = None
    live = Live(console=console, auto_refresh=False, transient=False) if interactive else None
    try:
        if live is not None:
            live.start()
        while True:
            status = api.status(migration_id)
            if live is not None:
                live.update(render(status), refresh=True)
            else:
                for line in change_lines(previous, status):
                    console.print(line, highlight=False, soft_wrap=True, markup=False)
            previous = status
            if status.get("status") != "Running":
                return status
            if status.get("phase") == "awaitingApproval" and not asked:
                asked = True
                decision = "approve" if options.approve == "auto" else "wait"
                if options.approve == "ask" and interactive and sys.stdin.isatty():
                    if live is not None:
                        live.stop()
                    decision = _ask(console, status)
                    if live is not None:  # a new region below the prompt; the old one stays as it was
                        live = Live(console=console, auto_refresh=False, transient=False)
                        live.start()
                if decision == "wait":
                    console.print(
                        f"Waiting for approval. To approve from another terminal: {options.approve_hint}",
                        markup=False,
                        soft_wrap=True,
                    )
                else:
                    reason = (
                        "approved with --approve auto" if options.approve == "auto" else f"{decision} at the prompt"
                    )
                    api.command(migration_id, decision, command_body(options.actor, reason))
                    console.print(f"Sent {decision}.", markup=False)
            elif status.get("phase") != "awaitingApproval":
                asked = False
            sleep(options.interval)
    finally:
        if live is not None:
            live.stop()
