"""Discover an app's functions from its ``FunctionRegister`` object, the way the Python worker indexes them.

Each function becomes a small, typed spec the rest of the host works with. Anything this host cannot run
faithfully (an unknown trigger, an output binding we would silently drop, entities) is refused at load time
with the function's name, so an app never appears to work here while a binding is ignored.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure.functions as func

log = logging.getLogger("emulators.functions")

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


class AppLoadError(RuntimeError):
    """The app cannot be loaded or uses something this host does not support; the message says what."""


@dataclass(frozen=True)
class HttpTriggerSpec:
    route: str
    methods: tuple[str, ...]
    auth_level: str  # "anonymous" | "function" | "admin"
    param: str


@dataclass(frozen=True)
class ServiceBusTriggerSpec:
    param: str
    connection: str
    queue_name: str | None
    topic_name: str | None
    subscription_name: str | None
    auto_complete: bool | None
    many: bool


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the app: its name, its trigger kind and what it needs at invocation."""

    name: str
    kind: str  # "http" | "orchestration" | "activity" | "servicebus" | "timer"
    trigger_type: str
    trigger: dict[str, Any]
    bindings: tuple[dict[str, Any], ...]
    user_function: Callable[..., Any]
    param: str
    durable_name: str | None = None  # the name orchestrations/activities are called by
    client_param: str | None = None  # the durableClient binding's parameter name
    client_task_hub: str | None = None
    http: HttpTriggerSpec | None = None
    servicebus: ServiceBusTriggerSpec | None = None
    wants_context: bool = False
    is_async: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadedApp:
    app: func.FunctionRegister
    functions: list[FunctionSpec]
    orchestrators: dict[str, FunctionSpec]
    activities: dict[str, FunctionSpec]

    def by_name(self, name: str) -> FunctionSpec | None:
        for spec in self.functions:
            if spec.name == name:
                return spec
        return None


_DIRECTIONS = {0: "in", 1: "out", 2: "inout"}


def _enum_text(value: Any) -> str:
    raw = getattr(value, "value", value)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return _DIRECTIONS.get(raw, str(raw))
    text = str(raw)
    return text.split(".")[-1].lower()


def _dict_repr(binding: Any) -> dict[str, Any]:
    raw = binding.get_dict_repr()
    result: dict[str, Any] = json.loads(json.dumps(raw, default=_enum_text))
    return result


def import_app(target: str, app_dir: Path | None = None) -> func.FunctionRegister:
    """Import ``module:attribute`` (attribute optional: the module's only FunctionRegister is used)."""
    module_name, _, attribute = target.partition(":")
    if not module_name:
        raise AppLoadError(f"app target {target!r}: expected 'module:attribute', e.g. 'function_app:app'")
    if app_dir is not None and str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise AppLoadError(f"cannot import app module {module_name!r}: {type(exc).__name__}: {exc}") from exc
    if attribute:
        app = getattr(module, attribute, None)
        if app is None:
            raise AppLoadError(f"module {module_name!r} has no attribute {attribute!r}")
    else:
        found = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
        if len(found) != 1:
            raise AppLoadError(f"module {module_name!r} holds {len(found)} FunctionRegister objects; name one")
        app = found[0]
    if not isinstance(app, func.FunctionRegister):
        raise AppLoadError(f"{target!r} is a {type(app).__name__}, not a FunctionApp / DFApp")
    return app


def _http_spec(name: str, trig: dict[str, Any], app: func.FunctionRegister) -> HttpTriggerSpec:
    methods_raw = trig.get("methods")
    methods = tuple(str(m).upper() for m in methods_raw) if methods_raw else HTTP_METHODS
    for m in methods:
        if m not in HTTP_METHODS:
            raise AppLoadError(f"function {name!r}: unsupported HTTP method {m!r}")
    auth = _enum_text(trig.get("authLevel") or getattr(app, "auth_level", "function"))
    if auth not in ("anonymous", "function", "admin"):
        raise AppLoadError(f"function {name!r}: unsupported authLevel {auth!r}")
    route = str(trig.get("route") or name).strip("/")
    return HttpTriggerSpec(route=route, methods=methods, auth_level=auth, param=str(trig["name"]))


def _build_spec(fn: Any, app: func.FunctionRegister) -> FunctionSpec:
    name = str(fn.get_function_name())
    trigger = fn.get_trigger()
    if trigger is None:
        raise AppLoadError(f"function {name!r}: has no trigger")
    trig = _dict_repr(trigger)
    ttype = str(trig.get("type"))
    user_fn = fn.get_user_function()
    bindings = tuple(_dict_repr(b) for b in fn.get_bindings() if b is not trigger)
    client_param = None
    client_hub = None
    for b in bindings:
        btype = b.get("type")
        if btype == "durableClient":
            client_param = str(b["name"])
            client_hub = b.get("taskHub")
        elif btype == "http" and _enum_text(b.get("direction")) == "out" and ttype == "httpTrigger":
            continue
        else:
            raise AppLoadError(
                f"function {name!r}: binding {b.get('name')!r} of type {btype!r} "
                f"({_enum_text(b.get('direction'))}) is not supported by this host"
            )
    try:
        params = inspect.signature(user_fn).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]
    wants_context = "context" in params and trig.get("name") != "context"
    is_async = inspect.iscoroutinefunction(user_fn)
    common: dict[str, Any] = dict(
        name=name,
        trigger_type=ttype,
        trigger=trig,
        bindings=bindings,
        user_function=user_fn,
        param=str(trig.get("name")),
        client_param=client_param,
        client_task_hub=client_hub,
        wants_context=wants_context,
        is_async=is_async,
    )
    if ttype == "httpTrigger":
        return FunctionSpec(kind="http", http=_http_spec(name, trig, app), **common)
    if ttype == "orchestrationTrigger":
        if client_param:
            raise AppLoadError(f"function {name!r}: an orchestrator cannot take a durableClient binding")
        alias = trig.get("orchestration")
        durable_name = str(alias) if alias else name
        if alias and alias != name:
            log.warning("orchestrator %r is registered under its alias %r", name, alias)
        return FunctionSpec(kind="orchestration", durable_name=durable_name, **common)
    if ttype == "activityTrigger":
        alias = trig.get("activity")
        durable_name = str(alias) if alias else name
        return FunctionSpec(kind="activity", durable_name=durable_name, **common)
    if ttype == "serviceBusTrigger":
        if trig.get("isSessionsEnabled"):
            raise AppLoadError(f"function {name!r}: session-enabled Service Bus triggers are not supported")
        if not trig.get("connection"):
            raise AppLoadError(f"function {name!r}: serviceBusTrigger needs a 'connection' setting name")
        queue = trig.get("queueName")
        topic = trig.get("topicName")
        sub = trig.get("subscriptionName")
        if not queue and not (topic and sub):
            raise AppLoadError(
                f"function {name!r}: serviceBusTrigger needs queueName, or topicName and subscriptionName"
            )
        auto = trig.get("autoCompleteMessages")
        sb = ServiceBusTriggerSpec(
            param=str(trig["name"]),
            connection=str(trig["connection"]),
            queue_name=str(queue) if queue else None,
            topic_name=str(topic) if topic else None,
            subscription_name=str(sub) if sub else None,
            auto_complete=None if auto is None else bool(auto),
            many=_enum_text(trig.get("cardinality") or "one") == "many",
        )
        return FunctionSpec(kind="servicebus", servicebus=sb, **common)
    if ttype == "timerTrigger":
        if not trig.get("schedule"):
            raise AppLoadError(f"function {name!r}: timerTrigger needs a schedule")
        return FunctionSpec(kind="timer", **common)
    if ttype == "entityTrigger":
        raise AppLoadError(f"function {name!r}: durable entities (entityTrigger) are not supported by this host")
    raise AppLoadError(f"function {name!r}: trigger type {ttype!r} is not supported by this host")


_INDEXED: dict[int, tuple[func.FunctionRegister, list[Any]]] = {}


def _indexed(app: func.FunctionRegister) -> list[Any]:
    """``get_functions()`` once per app object, as the worker does.

    The library records names across calls and reports every function as a duplicate on a second call,
    so several hosts in one process (tests) share the first indexing of an app object.
    """
    cached = _INDEXED.get(id(app))
    if cached is not None and cached[0] is app:
        return cached[1]
    app.functions_bindings = {}  # a previous caller (an indexing test) may have indexed it already
    functions = list(app.get_functions())
    _INDEXED[id(app)] = (app, functions)
    return functions


def load_app(target: str = "function_app:app", app_dir: Path | None = None) -> LoadedApp:
    """Import the app and index its functions; raise ``AppLoadError`` naming the first unsupported one."""
    app = import_app(target, app_dir)
    try:
        functions = _indexed(app)
    except Exception as exc:
        raise AppLoadError(f"indexing {target!r} failed: {type(exc).__name__}: {exc}") from exc
    specs = [_build_spec(fn, app) for fn in functions]
    orchestrators: dict[str, FunctionSpec] = {}
    activities: dict[str, FunctionSpec] = {}
    for spec in specs:
        assert spec.durable_name is not None or spec.kind not in ("orchestration", "activity")
        if spec.kind == "orchestration" and spec.durable_name:
            orchestrators[spec.durable_name] = spec
        elif spec.kind == "activity" and spec.durable_name:
            activities[spec.durable_name] = spec
    routes: dict[tuple[str, str], str] = {}
    for spec in specs:
        if spec.http:
            for m in spec.http.methods:
                key = (spec.http.route.lower(), m)
                if key in routes:
                    raise AppLoadError(
                        f"function {spec.name!r}: route {spec.http.route!r} {m} is already used by {routes[key]!r}"
                    )
                routes[key] = spec.name
    return LoadedApp(app=app, functions=specs, orchestrators=orchestrators, activities=activities)


def describe(loaded: LoadedApp) -> list[dict[str, Any]]:
    """A JSON-able listing of functions, triggers and bindings (what ``func start`` shows, and more)."""
    return [
        {"name": s.name, "trigger": s.trigger, "bindings": list(s.bindings), "durableName": s.durable_name}
        for s in loaded.functions
    ]
