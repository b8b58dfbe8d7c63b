"""The migration report as one self-contained HTML page: a timeline chart first, then the details.

People read a wave's report to answer "what happened when, and how long were we down"; a Gantt-style chart
answers that at a glance: one row per machine, a coloured bar per stage, cutover groups as bands, downtime as a
red mark. The page is a single file with inline CSS and an inline SVG drawn here (no script, no fonts, no
network), so it opens anywhere, attaches to a change ticket, and renders the same in a headless browser.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from cli.report_files import STAGES, machine_records
from migration.json_types import Json

__all__ = ["STAGE_COLOURS", "render_html"]

STAGE_COLOURS = {
    "validate": "#9aa5b1",
    "enableReplication": "#5b8def",
    "initialReplication": "#2f6fdf",
    "testFailover": "#9b6ee8",
    "validateTestVm": "#b48ef0",
    "testFailoverCleanup": "#7c57c9",
    "cutoverGate": "#c9ced6",
    "unplannedFailover": "#f08c2e",
    "validateMigratedVm": "#f5b971",
    "commit": "#e0a030",
    "completeMigration": "#2fa86b",
    "drProtection": "#1f8a8a",
}
_OUTCOME_COLOURS = {"migrated": "#2fa86b", "failed": "#d64545", "cancelled": "#c79a00"}
_ROW = 26
_LABEL = 190
_CHART = 860
_TOP = 34

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2933;background:#fff}
h1{font-size:22px;margin:0 0 4px}.sub{color:#52606d;margin:0 0 16px}
.cards{display:flex;gap:12px;margin:0 0 18px;flex-wrap:wrap}
.card{border:1px solid #e4e7eb;border-radius:8px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}.card span{color:#52606d;font-size:12px}
.legend{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 16px;font-size:12px;color:#3e4c59}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-2px}
table{border-collapse:collapse;margin-top:18px;font-size:13px}
th,td{border-bottom:1px solid #e4e7eb;padding:5px 10px;text-align:left;vertical-align:top}
th{background:#f5f7fa}.migrated{color:#1e7d4f}.failed{color:#c53030}.cancelled{color:#946f00}
.passed{color:#1e7d4f}.skipped{color:#7b8794}.checks ul{margin:0;padding-left:16px}
.checks pre{margin:2px 0;white-space:pre-wrap;max-width:420px;font-size:12px;background:#f5f7fa;padding:4px}
svg text{font:12px system-ui,-apple-system,Segoe UI,Roboto,sans-serif;fill:#1f2933}
svg .axis{fill:#7b8794;font-size:11px}svg .group{font-weight:600;fill:#52606d}
"""


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _bounds(records: list[Json]) -> tuple[datetime, datetime] | None:
    times: list[datetime] = []
    for record in records:
        for stage in record["stages"].values():
            if isinstance(stage, dict):
                times += [t for t in (_parse(stage.get("startedAt")), _parse(stage.get("endedAt"))) if t]
    if not times:
        return None
    start, end = min(times), max(times)
    return start, max(end, start + timedelta(seconds=1))


def _ticks(start: datetime, end: datetime) -> list[datetime]:
    span = (end - start).total_seconds()
    steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400]
    step = next((s for s in steps if span / s <= 8), 86400 * max(1, int(span // (86400 * 8)) + 1))
    first = start + timedelta(seconds=(-start.timestamp()) % step)
    ticks, tick = [], first
    while tick <= end:
        ticks.append(tick)
        tick += timedelta(seconds=step)
    return ticks


def _timeline(records: list[Json]) -> str:
    """The SVG chart: group bands, one row per machine, a bar per stage, downtime in red."""
    bounds = _bounds(records)
    if bounds is None:
        return '<p class="sub">No stage has started yet, so there is no timeline to draw.</p>'
    start, end = bounds
    span = (end - start).total_seconds()
    label = "%m-%d %H:%M" if span > 86400 else "%H:%M:%S"

    def x(moment: datetime) -> float:
        return _LABEL + (moment - start).total_seconds() / span * _CHART

    groups: list[tuple[str, list[Json]]] = []
    for record in records:
        name = str(record.get("group") or "")
        if not groups or groups[-1][0] != name:
            groups.append((name, []))
        groups[-1][1].append(record)
    height = _TOP + sum(len(members) * _ROW + 22 for _, members in groups) + 10
    parts = [
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{_LABEL + _CHART + 20}" height="{height}" '
        f'viewBox="0 0 {_LABEL + _CHART + 20} {height}" role="img" aria-label="Migration timeline">'
    ]
    for tick in _ticks(start, end):
        tx = x(tick)
        parts.append(f'<line x1="{tx:.1f}" y1="{_TOP - 6}" x2="{tx:.1f}" y2="{height - 8}" stroke="#eef0f3"/>')
        parts.append(f'<text class="axis" x="{tx:.1f}" y="{_TOP - 12}" text-anchor="middle">{tick:{label}}</text>')
    y = _TOP
    for index, (group, members) in enumerate(groups):
        band = len(members) * _ROW + 22
        fill = "#f7f9fc" if index % 2 == 0 else "#ffffff"
        parts.append(
            f'<rect class="group-band" x="0" y="{y}" width="{_LABEL + _CHART + 20}" height="{band}" fill="{fill}"/>'
        )
        parts.append(f'<text class="group" x="6" y="{y + 15}">group {index + 1}: {html.escape(group)}</text>')
        y += 22
        for record in members:
            outcome = str(record.get("outcome") or "")
            colour = _OUTCOME_COLOURS.get(outcome, "#52606d")
            parts.append(f'<g class="machine-row" data-machine="{html.escape(str(record["name"]))}">')
            parts.append(f'<circle cx="14" cy="{y + _ROW / 2:.1f}" r="4" fill="{colour}"/>')
            parts.append(f'<text x="24" y="{y + _ROW / 2 + 4:.1f}">{html.escape(str(record["name"]))}</text>')
            for stage in STAGES:
                times = record["stages"].get(stage)
                if not isinstance(times, dict):
                    continue
                began, ended = _parse(times.get("startedAt")), _parse(times.get("endedAt")) or end
                if began is None:
                    continue
                width = max(2.0, x(ended) - x(began))
                tip = f"{record['name']}: {stage} {began:%H:%M:%S} to {ended:%H:%M:%S}"
                parts.append(
                    f'<rect class="stage-bar" data-stage="{stage}" x="{x(began):.1f}" y="{y + 5}" width="{width:.1f}" '
                    f'height="{_ROW - 10}" rx="2" fill="{STAGE_COLOURS.get(stage, "#888")}">'
                    f"<title>{html.escape(tip)}</title></rect>"
                )
            downtime = record.get("downtime") if isinstance(record.get("downtime"), dict) else None
            down_start = _parse((downtime or {}).get("startedAt"))
            if downtime and down_start:
                down_end = _parse(downtime.get("endedAt")) or end
                seconds = downtime.get("seconds")
                tip = f"{record['name']}: downtime {seconds} s (simulated)" if seconds is not None else "downtime"
                parts.append(
                    f'<rect class="downtime" x="{x(down_start):.1f}" y="{y + 1}" '
                    f'width="{max(2.0, x(down_end) - x(down_start)):.1f}" height="{_ROW - 2}" fill="none" '
                    f'stroke="#d64545" stroke-width="2" stroke-dasharray="4 2"><title>{html.escape(tip)}</title></rect>'
                )
            parts.append("</g>")
            y += _ROW
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    items = [f'<span><i style="background:{c}"></i>{html.escape(s)}</span>' for s, c in STAGE_COLOURS.items()]
    items.append('<span><i style="border:2px dashed #d64545;width:9px;height:9px"></i>downtime</span>')
    return f'<div class="legend">{"".join(items)}</div>'


_PHASES = (("testVm", "test VM"), ("migratedVm", "migrated VM"))


def _checks(record: Json) -> str:
    """Each VM's checks: the outcome per check, and a failed script's output and error stream."""
    raw = record.get("checks")
    checks: Json = raw if isinstance(raw, dict) else {}
    parts = []
    for phase, label in _PHASES:
        report = checks.get(phase)
        if not isinstance(report, dict):
            continue
        items = []
        for check in report.get("checks") or []:
            if not isinstance(check, dict):
                continue
            outcome = html.escape(str(check.get("outcome") or ""))
            text = f'<li><span class="{outcome}">{outcome}</span> {html.escape(str(check.get("name") or ""))}'
            text += f": {html.escape(str(check.get('detail') or ''))}"
            streams = [str(check[k]) for k in ("output", "errorOutput") if check.get(k) and outcome == "failed"]
            text += "".join(f"<pre>{html.escape(stream)}</pre>" for stream in streams)
            items.append(text + "</li>")
        outcome = html.escape(str(report.get("outcome") or ""))
        vm = html.escape(str(report.get("vm") or ""))
        parts.append(f'<b>{label}</b> {vm}: <span class="{outcome}">{outcome}</span><ul>{"".join(items)}</ul>')
    return "".join(parts)


def _hooks(report: Json) -> str:
    """Each group's hooks before and after its cutover: the run's outcome and attempt, each hook's outcome and why."""
    raw = report.get("hooks")
    groups: Json = raw if isinstance(raw, dict) else {}
    rows = []
    for group, phases in groups.items():
        if not isinstance(phases, dict):
            continue
        for phase, run in phases.items():
            if not isinstance(run, dict):
                continue
            for hook in run.get("hooks") or [{"name": "", "outcome": run.get("outcome"), "detail": "not run"}]:
                outcome = html.escape(str(hook.get("outcome") or ""))
                rows.append(
                    f"<tr><td>{html.escape(str(group))}</td><td>{html.escape(str(phase))}</td>"
                    f"<td>{html.escape(str(run.get('attempt') or 0))}</td><td>{html.escape(str(hook.get('name')))}</td>"
                    f'<td>{html.escape(str(hook.get("type") or ""))}</td><td class="{outcome}">{outcome}</td>'
                    f"<td>{html.escape(str(hook.get('attempts') or ''))}</td>"
                    f"<td>{html.escape(str(hook.get('detail') or ''))}</td></tr>"
                )
    if not rows:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("group", "when", "run", "hook", "type", "outcome", "calls", "detail"))
    return f"<h2>Hooks</h2><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _details(records: list[Json]) -> str:
    rows = []
    for record in records:
        outcome = html.escape(str(record.get("outcome") or ""))
        error = record.get("error") if isinstance(record.get("error"), dict) else None
        downtime = record.get("downtime") if isinstance(record.get("downtime"), dict) else {}
        jobs = record.get("jobs") or [s.get("jobId") for s in record["stages"].values() if isinstance(s, dict)]
        error_text = f"{error.get('code')}: {error.get('message')}" if error else ""
        job_names = ", ".join(str(j).rsplit("/", 1)[-1] for j in jobs if j)
        rows.append(
            "<tr>"
            f"<td>{html.escape(str(record['name']))}</td><td>{html.escape(str(record.get('group') or ''))}</td>"
            f"<td>{html.escape(str(record.get('sourceKind') or ''))}</td>"
            f"<td>{html.escape(str(record.get('provider') or ''))}</td>"
            f'<td class="{outcome}">{outcome}</td><td>{html.escape(str(record.get("stage") or ""))}</td>'
            f"<td>{html.escape(str((downtime or {}).get('seconds') or ''))}</td>"
            f"<td>{html.escape(str(record.get('recoveryPointId') or '').rsplit('/', 1)[-1])}</td>"
            f"<td>{html.escape(job_names)}</td>"
            f'<td class="checks">{_checks(record)}</td>'
            f"<td>{html.escape(error_text)}</td>"
            "</tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "machine",
            "group",
            "source",
            "provider",
            "outcome",
            "last stage",
            "downtime (s)",
            "recovery point",
            "ASR jobs",
            "checks",
            "error",
        )
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_html(report: Json) -> str:
    records = machine_records(report)
    counts: dict[str, int] = {}
    for record in records:
        key = str(record.get("outcome") or "in progress")
        counts[key] = counts.get(key, 0) + 1
    downtimes = [
        float(r["downtime"]["seconds"])
        for r in records
        if isinstance(r.get("downtime"), dict) and isinstance(r["downtime"].get("seconds"), int | float)
    ]
    cards = [("status", str(report.get("status") or "")), ("machines", str(len(records)))]
    cards += [(k, str(v)) for k, v in sorted(counts.items())]
    if downtimes:
        cards.append(("longest downtime", f"{max(downtimes) / 60:.1f} min"))
    card_html = "".join(
        f'<div class="card"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>' for k, v in cards
    )
    title = html.escape(str(report.get("name") or report.get("id") or "Migration"))
    ident = html.escape(str(report.get("id") or report.get("migrationId") or ""))
    moments = [_parse(report.get(k)) for k in ("startedAt", "endedAt")]
    when = " to ".join(f"{m:%Y-%m-%d %H:%M:%S} UTC" for m in moments if m is not None)
    clock: Json = report["clock"] if isinstance(report.get("clock"), dict) else {}
    if when and clock.get("simulated"):
        when += f" (simulated clock, {float(clock.get('speed') or 1):g}× wall time)"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}: migration report</title><style>{_CSS}</style></head><body>"
        f'<h1>{title}</h1><p class="sub">Migration {ident}{" · " + when if when else ""}</p>'
        f'<div class="cards">{card_html}</div>'
        f"<h2>Timeline</h2>{_legend()}{_timeline(records)}"
        f"<h2>Machines</h2>{_details(records)}"
        f"{_hooks(report)}"
        "</body></html>\n"
    )
