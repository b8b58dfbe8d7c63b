"""Crash safety: SIGKILL the host mid fan-out and mid timer; every instance finishes after a restart.

Each activity's completion must appear exactly once in its instance's history; an activity that was
running when the host died runs again (at-least-once), one that had completed does not.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from emulators.functions import load_app, start_host_process
from emulators.functions.consistency import check_hub
from emulators.functions.taskhub import TaskHub
from tests.emulators.functions.conftest import http, wait_until

pytestmark = pytest.mark.slow

APP = "tests.emulators.functions.apps.crash_app:app"


def _mgmt(proc, method: str, path: str, body: str | None = None):
    sep = "&" if "?" in path else "?"
    url = f"{proc.base_url}/runtime/webhooks/durabletask/{path}{sep}code={proc.system_key}"
    return http(method, url, body, {"Content-Type": "application/json"} if body else {})


def _start(proc, name: str, payload: object) -> str:
    reply = _mgmt(proc, "POST", f"orchestrators/{name}", json.dumps(json.dumps(payload)))
    assert reply.status == 202, reply.body
    return str(reply.json()["id"])


def _status(proc, iid: str) -> dict[str, Any]:
    body: dict[str, Any] = _mgmt(proc, "GET", f"instances/{iid}?showHistory=true&showHistoryOutput=true").json()
    return body


def _traces_at_least(folder: Path, count: int) -> bool:
    return len(list(folder.iterdir())) >= count


def _completed(proc, iid: str) -> bool:
    return bool(_status(proc, iid)["runtimeStatus"] == "Completed")


def test_sigkill_mid_fan_out_and_mid_timer_then_restart(tmp_path: Path) -> None:
    effects = tmp_path / "effects"
    effects.mkdir()
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"durableTask": {"maxConcurrentActivityFunctions": 4}}})
    )
    data = tmp_path / "data"
    env = {"CRASH_EFFECTS_DIR": str(effects)}
    proc = start_host_process(APP, app_dir=app_dir, data_dir=data, env=env)
    try:
        fans = [_start(proc, "crash_fan_out", 40) for _ in range(3)]
        timers = [_start(proc, "crash_timer", 1.5) for _ in range(2)]
        # Kill once some activities ran but well before all 120 could have (4 at a time, 50 ms each).
        wait_until(lambda: len(list(effects.iterdir())) >= 10, timeout=60, interval=0.01)
        proc.kill()
        traces_at_kill = len(list(effects.iterdir()))
        assert traces_at_kill < 120
    finally:
        proc.kill()
    restarted = start_host_process(APP, app_dir=app_dir, data_dir=data, env=env)
    try:
        for iid in fans + timers:
            wait_until(partial(_completed, restarted, iid), timeout=120)
        for iid in fans:
            st = _status(restarted, iid)
            assert st["output"] == 40
            done = Counter(e["TaskScheduledId"] for e in st["historyEvents"] if e["EventType"] == "TaskCompleted")
            assert sorted(done) == list(range(40)) and set(done.values()) == {1}
        for iid in timers:
            st = _status(restarted, iid)
            assert st["output"] == f"done {iid}-after-timer"
            kinds = [e["EventType"] for e in st["historyEvents"]]
            assert kinds.count("TimerFired") == 1 and kinds.count("TaskCompleted") == 1
        # Every activity left at least one trace; re-runs only for those in flight at the kill.
        traces = Counter(p.name.rsplit(".", 1)[0] for p in effects.iterdir())
        expected = {f"{iid}-{i}" for iid in fans for i in range(40)} | {f"{iid}-after-timer" for iid in timers}
        assert set(traces) == expected
        assert sum(traces.values()) - len(expected) <= 4  # at most the activities running at the kill
    finally:
        restarted.stop()
    hub = TaskHub(data / "taskhub.sqlite3")
    try:
        assert check_hub(hub, load_app(APP)) == []
        assert hub.counts()["activities"] == 0
    finally:
        hub.close()


def test_sigkill_while_idle_loses_nothing_and_restart_is_quick(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    data = tmp_path / "data"
    effects = tmp_path / "effects"
    effects.mkdir()
    env = {"CRASH_EFFECTS_DIR": str(effects)}
    proc = start_host_process(APP, app_dir=app_dir, data_dir=data, env=env)
    iid = _start(proc, "crash_fan_out", 3)
    wait_until(lambda: _status(proc, iid)["runtimeStatus"] == "Completed", timeout=60)
    proc.kill()
    started = time.monotonic()
    again = start_host_process(APP, app_dir=app_dir, data_dir=data, env=env)
    try:
        assert time.monotonic() - started < 60
        st = _status(again, iid)
        assert st["runtimeStatus"] == "Completed" and st["output"] == 3
        assert len(list(effects.iterdir())) == 3  # nothing ran twice
    finally:
        again.stop()


def test_repeated_sigkills_at_different_points(tmp_path: Path) -> None:
    """Kill three times at growing progress points; nothing is lost or recorded twice."""
    effects = tmp_path / "effects"
    effects.mkdir()
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    data = tmp_path / "data"
    env = {"CRASH_EFFECTS_DIR": str(effects)}
    proc = start_host_process(APP, app_dir=app_dir, data_dir=data, env=env)
    fans = [_start(proc, "crash_fan_out", 25) for _ in range(4)]
    timers = [_start(proc, "crash_timer", 0.2) for _ in range(3)]
    for threshold in (5, 30, 60):
        try:
            wait_until(partial(_traces_at_least, effects, threshold), timeout=60, interval=0.005)
        finally:
            proc.kill()
        proc = start_host_process(APP, app_dir=app_dir, data_dir=data, env=env)
    try:
        for iid in fans + timers:
            wait_until(partial(_completed, proc, iid), timeout=120)
        for iid in fans:
            st = _status(proc, iid)
            done = Counter(e["TaskScheduledId"] for e in st["historyEvents"] if e["EventType"] == "TaskCompleted")
            assert st["output"] == 25 and sorted(done) == list(range(25)) and set(done.values()) == {1}
        traces = Counter(p.name.rsplit(".", 1)[0] for p in effects.iterdir())
        expected = {f"{iid}-{i}" for iid in fans for i in range(25)} | {f"{iid}-after-timer" for iid in timers}
        assert set(traces) == expected
    finally:
        proc.stop()
    hub = TaskHub(data / "taskhub.sqlite3")
    try:
        assert check_hub(hub, load_app(APP)) == []
    finally:
        hub.close()
