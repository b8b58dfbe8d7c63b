"""What a person watching a wave sees: one line per machine (stage, progress bar, ETA) and a wave summary.

Two renderings of the same status document (``GET /api/migrations/{id}``): a table that ``rich.live`` redraws in
place on a terminal, and plain lines, one per change, when the output is a file or a pipe (a CI log should read
as a story, not as hundreds of redrawn tables). Both are pure functions of the documents, so they are tested
without a terminal.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from cli.terminal_text import printable, text
from migration.json_types import Json
from migration.stages import FULL_RUNBOOK, Stage

__all__ = ["change_lines", "machine_fraction", "render", "stage_counts", "summary_line"]

_ORDER = [stage.value for stage in FULL_RUNBOOK]
_STYLE = {"migrated": "green", "failed": "red", "cancelled": "yellow", "cutoverGate": "cyan"}
_PHASE_TEXT = {
    "preparing": "replicating and testing",
    "awaitingApproval": "waiting for approval",
    "waitingForWindow": "waiting for the cutover window",
    "held": "held",
    "cuttingOver": "cutting over",
    "runningHooks": "running the group's hooks",
    "cancelling": "cancelling (rolling back)",
    "completed": "completed",
}


def _outcome(machine: Json) -> str | None:
    """The machine's outcome in lower case (the app spells it ``Migrated``; runbook records ``migrated``)."""
    outcome = machine.get("outcome")
    return str(outcome).lower() if outcome else None


def stage_counts(status: Json) -> dict[str, int]:
    """Machines per stage: the app's ``counts.byStage``, or a flat ``counts`` mapping."""
    counts = status.get("counts") or {}
    by_stage = counts.get("byStage") if isinstance(counts, dict) else None
    chosen = by_stage if isinstance(by_stage, dict) else counts
    return {str(k): int(v) for k, v in chosen.items() if isinstance(v, int)}


def machine_fraction(machine: Json) -> float:
    """How far along its runbook a machine is, 0..1: finished stages plus the current stage's own progress."""
    stage = machine.get("stage")
    if _outcome(machine) == "migrated" or stage == Stage.MIGRATED.value:
        return 1.0
    if stage not in _ORDER:
        return 0.0
    index = _ORDER.index(stage)
    within = machine.get("progressPercent")
    part = float(within) / 100 if isinstance(within, int | float) and stage == "initialReplication" else 0.0
    return min(1.0, (index + part) / len(_ORDER))


def _eta(machine: Json, now: datetime | None = None) -> str:
    """How long until the machine's ETA (``in 3m 20s``), or the ETA as written if it is not a time."""
    eta = machine.get("eta")
    if not eta:
        return ""
    try:
        moment = datetime.fromisoformat(str(eta).replace("Z", "+00:00"))
    except ValueError:
        return str(eta)
    if moment.tzinfo is None:
        return str(eta)
    seconds = int((moment - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return "due"
    if seconds < 60:
        return f"in {seconds}s"
    if seconds < 3600:
        return f"in {seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"in {seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"in {seconds // 86400}d {seconds % 86400 // 3600}h"


def _stage_text(machine: Json) -> Text:
    stage = str(machine.get("stage") or "pending")
    outcome = _outcome(machine)
    label = outcome if outcome in ("migrated", "failed", "cancelled") else stage
    percent = machine.get("progressPercent")
    if stage == "initialReplication" and isinstance(percent, int | float) and not outcome:
        label = f"{stage} {percent:.0f}%"
    return text(label, style=_STYLE.get(str(outcome or stage), ""))


def summary_line(status: Json) -> str:
    """``Running · cutting over · migrated 2, commit 1 · approved · window 22:00–06:00``."""
    parts = [str(status.get("status")), _PHASE_TEXT.get(str(status.get("phase")), str(status.get("phase")))]
    counts = stage_counts(status)
    if counts:
        parts.append(", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    gate = status.get("gate") or {}
    if gate.get("approvalRequired"):
        parts.append("approved" if gate.get("approved") else "approval pending")
    window = status.get("window") or {}
    if window.get("notBefore") or window.get("notAfter"):
        parts.append(f"window {window.get('notBefore') or '…'} to {window.get('notAfter') or '…'}")
    hold = status.get("hold")
    if isinstance(hold, dict) and hold.get("reason"):
        parts.append(f"held: {hold.get('reason')} ({hold.get('detail')})")
    return " · ".join(parts)


def render(status: Json, now: datetime | None = None) -> RenderableType:
    """The table of machines and the wave summary under it (``now`` for the ETAs; the current time by default)."""
    table = Table(expand=False, box=None, pad_edge=False, header_style="bold")
    table.add_column("machine")
    table.add_column("group")
    table.add_column("stage", min_width=24)
    table.add_column("progress", width=24)
    table.add_column("ETA", min_width=11)
    table.add_column("job / error", overflow="ellipsis", max_width=60)
    for machine in status.get("machines") or []:
        error = machine.get("error")
        detail = ""
        if isinstance(error, dict):
            detail = f"{error.get('code')}: {error.get('message')}"
        elif machine.get("jobId"):
            detail = str(machine.get("jobId")).rsplit("/", 1)[-1]
        fraction = machine_fraction(machine)
        table.add_row(
            text(machine.get("name")),
            text(machine.get("group") or ""),
            _stage_text(machine),
            ProgressBar(total=100, completed=fraction * 100, width=22),
            _eta(machine, now),
            text(detail, style="red" if isinstance(error, dict) else "dim"),
        )
    title = text(f"{status.get('name') or status.get('id')} ({status.get('id')})")
    return Panel(Group(table, Text(""), text(summary_line(status), style="bold")), title=title, title_align="left")


def change_lines(previous: Json | None, current: Json, now: datetime | None = None) -> list[str]:
    """Plain lines for what changed between two status documents (machine stages, the wave's phase)."""
    lines: list[str] = []
    before = {m.get("name"): m for m in (previous or {}).get("machines") or []}
    for machine in current.get("machines") or []:
        old = before.get(machine.get("name")) or {}
        stage, outcome = machine.get("stage"), _outcome(machine)
        if (stage, outcome) != (old.get("stage"), _outcome(old)) and (stage or outcome):
            state = outcome if outcome in ("migrated", "failed", "cancelled") else stage
            eta = f" (done {_eta(machine, now)})" if machine.get("eta") and not outcome else ""
            error = machine.get("error")
            why = f": {error.get('code')} {error.get('message')}" if isinstance(error, dict) and outcome else ""
            lines.append(printable(f"  {machine.get('name')} [{machine.get('group')}] → {state}{eta}{why}"))
    if previous is None or (previous.get("phase"), previous.get("status")) != (
        current.get("phase"),
        current.get("status"),
    ):
        lines.append(printable(f"wave: {summary_line(current)}"))
    return lines
