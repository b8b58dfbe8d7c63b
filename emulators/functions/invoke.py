"""Calling user functions the way the Python worker does: converters in, converters out, one event loop.

Sync functions run in a thread pool and coroutines on the host's single loop (the SDK's client keeps a
module-level aiohttp session bound to the first loop that uses it, so there must be only one).
"""

from __future__ import annotations

import asyncio
import threading
import traceback
import uuid
from concurrent.futures import Executor
from typing import Any

import azure.functions as func
from azure.functions import _abc, meta
from azure.functions.durable_functions import ActivityTriggerConverter

from .app_loader import FunctionSpec


class _TraceContext(_abc.TraceContext):
    def __init__(self) -> None:
        self._tp = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"

    @property
    def trace_parent(self) -> str:
        return self._tp

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _RetryContext(_abc.RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> _abc.RpcException:
        raise AttributeError("no retry policy")


class InvocationContext(func.Context):
    """``func.Context`` for a parameter named ``context`` (the DF client reads its ``invocation_id``)."""

    def __init__(self, function_name: str, function_directory: str = ".") -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._tls = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._tls

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> _abc.TraceContext:
        return _TraceContext()

    @property
    def retry_context(self) -> _abc.RetryContext:
        return _RetryContext()


async def call(spec: FunctionSpec, kwargs: dict[str, Any], executor: Executor) -> Any:
    """Invoke ``spec``'s user function with ``kwargs`` (+ ``context`` when it asks for one)."""
    if spec.wants_context:
        kwargs = dict(kwargs, context=InvocationContext(spec.name))
    fn = spec.user_function
    if spec.is_async or asyncio.iscoroutinefunction(fn):
        return await fn(**kwargs)
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(executor, lambda: fn(**kwargs))
    if asyncio.iscoroutine(result):
        return await result
    return result


def decode_activity_input(input_json: str | None) -> Any:
    """The worker's ActivityTriggerConverter: ``df_loads`` with a fall back to the raw string."""
    if input_json is None:
        return None
    return ActivityTriggerConverter.decode(meta.Datum(type="json", value=input_json), trigger_metadata=None)


def encode_activity_output(value: Any) -> str:
    datum = ActivityTriggerConverter.encode(value, expected_type=None)
    return str(datum.value)


def activity_failure(name: str, exc: BaseException) -> tuple[str, str]:
    """Reason and Details of a TaskFailed event, in the shape the real stack produces.

    The worker reports ``Result: Failure / Exception: <Type>: <msg> / Stack: ...`` and the extension
    prefixes ``Activity function '<name>' failed: ``; Details is a serialized exception.
    """
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[1:]).rstrip()
    friendly = f"Result: Failure\nException: {type(exc).__name__}: {exc}\nStack: {stack}"
    reason = f"Activity function '{name}' failed: {friendly}"
    details = (
        '{"$type":"Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException, Microsoft.Azure.WebJobs.Script",'
        f'"ClassName":"Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException","Message":{_json_str(friendly)},'
        f'"RemoteStackTrace":{_json_str(stack)}}}'
    )
    return reason, details


def _json_str(text: str) -> str:
    import json

    return json.dumps(text)
