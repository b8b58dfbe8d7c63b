"""Host settings: ``local.settings.json`` (``Values``) layered under the process environment, and ``host.json``.

The Functions host exposes ``local.settings.json`` values to the app as environment variables, but a
variable already set in the environment wins (Core Tools prints "Skipping 'X' from local.settings.json as
it's already defined in current environment variables"). We do the same, so an app reads its settings with
``os.environ`` here exactly as it does in Azure.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .limits import DEFAULT_MAX_ORCHESTRATION_ACTIONS, Limits


class SettingsError(ValueError):
    """A settings or host.json file that cannot be used; the message names the file and the problem."""


def load_local_settings(path: Path) -> dict[str, str]:
    """Return ``Values`` from a ``local.settings.json`` file (empty when the file is absent)."""
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path.name}: not valid JSON ({exc})") from exc
    values = doc.get("Values", {}) if isinstance(doc, dict) else None
    if not isinstance(values, dict):
        raise SettingsError(f"{path.name}: 'Values' must be an object of strings")
    return {str(k): "" if v is None else str(v) for k, v in values.items()}


def merged_settings(local_values: dict[str, str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """Local values overlaid by the environment: the environment wins, as under the real host."""
    env = dict(os.environ if environ is None else environ)
    merged = dict(local_values)
    merged.update(env)
    return merged


_EXPORTED: dict[str, str] = {}


def apply_to_environment(local_values: dict[str, str]) -> list[str]:
    """Export local values that the environment does not define yet; return the names exported.

    A value this process exported for an earlier host (tests start several) is not "the environment":
    it is replaced, so each host sees its own ``local.settings.json``.
    """
    exported = []
    for key in [k for k in _EXPORTED if k not in local_values]:
        if os.environ.get(key) == _EXPORTED.pop(key):
            del os.environ[key]
    for key, value in local_values.items():
        current = os.environ.get(key)
        if current is None or (key in _EXPORTED and _EXPORTED[key] == current):
            os.environ[key] = value
            _EXPORTED[key] = value
            exported.append(key)
    return exported


def _parse_timespan(text: str) -> float:
    """Parse a .NET TimeSpan ("hh:mm:ss" or "d.hh:mm:ss") into seconds."""
    days = 0
    if "." in text.split(":")[0]:
        day_part, text = text.split(".", 1)
        days = int(day_part)
    parts = [float(p) for p in text.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    hours, minutes, seconds = parts[-3:]
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True)
class HostConfig:
    """The parts of ``host.json`` this host honours; defaults are the real host's defaults."""

    route_prefix: str = "api"
    hub_name: str = "TestHubName"
    max_concurrent_activities: int = 10
    max_concurrent_orchestrations: int = 10
    sb_max_concurrent_calls: int = 16
    sb_auto_complete: bool = True
    sb_max_auto_lock_renewal: float = 300.0
    sb_prefetch_count: int = 0
    max_orchestration_actions: int = DEFAULT_MAX_ORCHESTRATION_ACTIONS
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def limits(self) -> Limits:
        """The extension's refusals that ``host.json`` configures."""
        return Limits(max_orchestration_actions=self.max_orchestration_actions)


def load_host_json(path: Path) -> HostConfig:
    """Read ``host.json``; an absent file gives the defaults, a broken one fails loudly."""
    if not path.exists():
        return HostConfig()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path.name}: not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise SettingsError(f"{path.name}: the top level must be an object")
    ext = doc.get("extensions") or {}
    http = ext.get("http") or {}
    durable = ext.get("durableTask") or {}
    sb = ext.get("serviceBus") or {}
    prefix = http.get("routePrefix", "api")
    if not isinstance(prefix, str):
        raise SettingsError(f"{path.name}: extensions.http.routePrefix must be a string")
    try:
        return HostConfig(
            route_prefix=prefix.strip("/"),
            hub_name=str(durable.get("hubName") or "TestHubName"),
            max_concurrent_activities=int(durable.get("maxConcurrentActivityFunctions", 10)),
            max_concurrent_orchestrations=int(durable.get("maxConcurrentOrchestratorFunctions", 10)),
            sb_max_concurrent_calls=int(sb.get("maxConcurrentCalls", 16)),
            sb_auto_complete=bool(sb.get("autoCompleteMessages", True)),
            sb_max_auto_lock_renewal=_parse_timespan(str(sb.get("maxAutoLockRenewalDuration", "00:05:00"))),
            sb_prefetch_count=int(sb.get("prefetchCount", 0)),
            max_orchestration_actions=int(durable.get("maxOrchestrationActions", DEFAULT_MAX_ORCHESTRATION_ACTIONS)),
            raw=doc,
        )
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{path.name}: {exc}") from exc
