"""The work loops: orchestration episodes, activities and timers, on the host's single event loop.

Episodes (user orchestrator code, replay, SQLite commit) run on a small thread pool, one at a time per
instance; activities run on their own pool (sync) or the loop (async). Both are capped by host.json's
``maxConcurrentOrchestratorFunctions`` / ``maxConcurrentActivityFunctions``. Timers are inbox rows that
become visible at FireAt; the loop sleeps until the next one is due or new work is announced.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from . import history as h
from .app_loader import LoadedApp
from .episodes import EpisodeRunner
from .invoke import activity_failure, call, decode_activity_input, encode_activity_output
from .limits import Limits
from .taskhub import ActivityItem, TaskHub

log = logging.getLogger("emulators.functions")

IDLE_POLL_SECONDS = 1.0


class Dispatcher:
    def __init__(
        self,
        hub: TaskHub,
        app: LoadedApp,
        max_orchestrations: int,
        max_activities: int,
        activity_executor: ThreadPoolExecutor,
        client_binding: Callable[[], str] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.client_binding = client_binding
        self.hub = hub
        self.app = app
        self.max_orchestrations = max(1, max_orchestrations)
        self.max_activities = max(1, max_activities)
        self.runner = EpisodeRunner(hub, app, limits)
        self.episode_executor = ThreadPoolExecutor(
            max_workers=min(4, self.max_orchestrations), thread_name_prefix="episode"
        )
        self.activity_executor = activity_executor
        self._busy_instances: set[str] = set()
        self._busy_activities: set[int] = set()
        self._orch_wake = asyncio.Event()
        self._act_wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: set[asyncio.Future[object]] = set()
        self._stopping = False
        self.activities_run = 0
        hub.listeners.append(self._on_work)

    def _on_work(self, kind: str) -> None:
        event = self._act_wake if kind == "activity" else self._orch_wake
        try:
            self._loop.call_soon_threadsafe(event.set)
        except RuntimeError:
            pass  # loop closed during shutdown

    def start(self) -> None:
        self._tasks = [
            self._loop.create_task(self._orchestration_loop(), name="orchestrations"),
            self._loop.create_task(self._activity_loop(), name="activities"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except asyncio.CancelledError:
                pass
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=10)
        self.episode_executor.shutdown(wait=True, cancel_futures=True)
        if self._on_work in self.hub.listeners:
            self.hub.listeners.remove(self._on_work)

    # ----------------------------------------------------------------------------- orchestrations
    async def _orchestration_loop(self) -> None:
        while not self._stopping:
            self._orch_wake.clear()
            now = time.time()
            free = self.max_orchestrations - len(self._busy_instances)
            if free > 0:
                for iid in self.hub.ready_instances(now, self._busy_instances, free):
                    self._busy_instances.add(iid)
                    fut = self._loop.run_in_executor(self.episode_executor, self._episode, iid)
                    self._track(fut)
            nxt = self.hub.next_visible(now)
            timeout = IDLE_POLL_SECONDS if nxt is None else max(0.0, min(IDLE_POLL_SECONDS, nxt - time.time()))
            try:
                await asyncio.wait_for(self._orch_wake.wait(), timeout=timeout)
            except TimeoutError:
                pass

    def _episode(self, instance_id: str) -> object:
        try:
            while self.runner.run(instance_id):
                pass  # keep going while messages keep arriving for this instance
        except Exception:
            log.exception("episode for %s failed; it will be retried", instance_id)
            time.sleep(0.5)
        finally:
            self._loop.call_soon_threadsafe(self._release_instance, instance_id)
        return None

    def _release_instance(self, instance_id: str) -> None:
        self._busy_instances.discard(instance_id)
        self._orch_wake.set()

    def _track(self, fut: asyncio.Future[object]) -> None:
        self._inflight.add(fut)
        fut.add_done_callback(self._inflight.discard)

    # ----------------------------------------------------------------------------- activities
    async def _activity_loop(self) -> None:
        while not self._stopping:
            self._act_wake.clear()
            free = self.max_activities - len(self._busy_activities)
            for item in self.hub.claim_activities(self._busy_activities, free):
                self._busy_activities.add(item.seq)
                task: asyncio.Future[object] = asyncio.ensure_future(self._run_activity(item))
                self._track(task)
            try:
                await asyncio.wait_for(self._act_wake.wait(), timeout=IDLE_POLL_SECONDS)
            except TimeoutError:
                pass

    async def _run_activity(self, item: ActivityItem) -> object:
        try:
            spec = self.app.activities.get(item.name)
            ts = h.fmt_ts(h.utcnow())
            if spec is None:
                known = ", ".join(f"'{n}'" for n in sorted(self.app.activities))
                reason = (
                    f"The function '{item.name}' doesn't exist, is disabled, or is not an activity function. "
                    f"Additional info: The following are the known activity functions: {known}."
                )
                event = h.task_failed(ts, item.task_id, reason, None)
            else:
                try:
                    value = decode_activity_input(item.input)
                    kwargs: dict[str, object] = {spec.param: value}
                    if spec.client_param and self.client_binding is not None:
                        kwargs[spec.client_param] = self.client_binding()  # an activity may take a client too
                    result = await call(spec, kwargs, self.activity_executor)
                    event = h.task_completed(h.fmt_ts(h.utcnow()), item.task_id, encode_activity_output(result))
                except Exception as exc:
                    reason, details = activity_failure(item.name, exc)
                    event = h.task_failed(h.fmt_ts(h.utcnow()), item.task_id, reason, details)
            if self._stopping:
                return None  # a stopping host leaves the work item for the next start (at-least-once)
            self.hub.complete_activity(item, event)
            self.activities_run += 1
        except Exception:
            log.exception("activity %s for %s could not report back; it will run again", item.name, item.instance_id)
            await asyncio.sleep(0.5)
        finally:
            self._busy_activities.discard(item.seq)
            self._act_wake.set()
        return None
