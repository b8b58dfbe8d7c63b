"""Service Bus triggers: receive with the real ``azure-servicebus`` client, the way the Functions host does.

Messages are received in peek-lock mode with automatic lock renewal, handed to the function as a
``func.ServiceBusMessage`` with the broker's properties, completed when the function returns and abandoned
when it raises, so the broker's MaxDeliveryCount dead-letters poison messages. With
``autoCompleteMessages: false`` the host settles nothing and the lock simply expires, as in Azure.
``delivery_count`` is 1 on the first delivery, as the host's .NET client reports it.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

import azure.functions as func
from azure.functions.servicebus import ServiceBusMessage

from .app_loader import FunctionSpec, LoadedApp
from .invoke import call
from .settings import HostConfig

log = logging.getLogger("emulators.functions")


class ServiceBusConfigError(RuntimeError):
    """A trigger whose connection setting is missing; names the function and the setting."""


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def _body(message: Any) -> bytes:
    body = message.body
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    try:
        return b"".join(bytes(part) for part in body)
    except TypeError:
        return str(body).encode("utf-8")


def to_function_message(message: Any) -> func.ServiceBusMessage:
    """A received message as the Python worker builds ``func.ServiceBusMessage`` from trigger metadata."""
    props = {str(_text(k)): _text(v) for k, v in (message.application_properties or {}).items()}
    delivery = (message.delivery_count or 0) + 1
    enqueued: datetime | None = message.enqueued_time_utc
    metadata = {
        "MessageId": message.message_id,
        "DeliveryCount": delivery,
        "SequenceNumber": message.sequence_number,
        "EnqueuedTimeUtc": enqueued.isoformat() if enqueued else None,
        "ContentType": message.content_type,
        "CorrelationId": message.correlation_id,
        "Subject": message.subject,
        "ApplicationProperties": props,
        "UserProperties": props,
        "LockToken": str(message.lock_token) if message.lock_token else None,
    }
    return ServiceBusMessage(
        body=_body(message),
        trigger_metadata=metadata,
        application_properties=props,
        content_type=message.content_type,
        correlation_id=message.correlation_id,
        dead_letter_error_description=message.dead_letter_error_description,
        dead_letter_reason=message.dead_letter_reason,
        dead_letter_source=message.dead_letter_source,
        delivery_count=delivery,
        enqueued_sequence_number=message.enqueued_sequence_number,
        enqueued_time_utc=enqueued,
        expires_at_utc=message.expires_at_utc,
        label=message.subject,
        locked_until=message.locked_until_utc,
        lock_token=str(message.lock_token) if message.lock_token else None,
        message_id=str(message.message_id),
        partition_key=message.partition_key,
        reply_to=message.reply_to,
        reply_to_session_id=message.reply_to_session_id,
        scheduled_enqueue_time_utc=message.scheduled_enqueue_time_utc,
        sequence_number=message.sequence_number,
        session_id=message.session_id,
        state=int(getattr(message.state, "value", message.state or 0)),
        subject=message.subject,
        time_to_live=message.time_to_live,
        to=message.to,
        transaction_partition_key=None,
        user_properties=dict(props),
    )


class _Listener:
    def __init__(
        self,
        spec: FunctionSpec,
        config: HostConfig,
        connection: str,
        executor: Executor,
        client_binding: Any,
    ) -> None:
        assert spec.servicebus is not None
        self.spec = spec
        self.sb = spec.servicebus
        self.config = config
        self.connection = connection
        self.executor = executor
        self.client_binding = client_binding
        self.auto_complete = config.sb_auto_complete if self.sb.auto_complete is None else self.sb.auto_complete
        self.semaphore = asyncio.Semaphore(max(1, config.sb_max_concurrent_calls))
        self.task: asyncio.Task[None] | None = None
        self.stopping = False
        self.invocations = 0
        self.failures = 0

    def entity(self) -> str:
        if self.sb.queue_name:
            return self.sb.queue_name
        return f"{self.sb.topic_name}/Subscriptions/{self.sb.subscription_name}"

    async def run(self) -> None:
        from azure.servicebus import ServiceBusReceiveMode
        from azure.servicebus.aio import AutoLockRenewer, ServiceBusClient

        backoff = 1.0
        while not self.stopping:
            try:
                async with ServiceBusClient.from_connection_string(self.connection) as client:
                    renewer = AutoLockRenewer(max_lock_renewal_duration=self.config.sb_max_auto_lock_renewal)
                    if self.sb.queue_name:
                        receiver = client.get_queue_receiver(
                            self.sb.queue_name,
                            receive_mode=ServiceBusReceiveMode.PEEK_LOCK,
                            prefetch_count=self.config.sb_prefetch_count,
                        )
                    else:
                        receiver = client.get_subscription_receiver(
                            str(self.sb.topic_name),
                            str(self.sb.subscription_name),
                            receive_mode=ServiceBusReceiveMode.PEEK_LOCK,
                            prefetch_count=self.config.sb_prefetch_count,
                        )
                    async with receiver, renewer:
                        backoff = 1.0
                        await self._receive_loop(receiver, renewer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.stopping:
                    return
                log.warning("service bus trigger %r on %s: %s; reconnecting", self.spec.name, self.entity(), exc)
                deadline = asyncio.get_running_loop().time() + backoff
                while not self.stopping and asyncio.get_running_loop().time() < deadline:
                    await asyncio.sleep(0.1)
                backoff = min(backoff * 2, 30.0)

    async def _receive_loop(self, receiver: Any, renewer: Any) -> None:
        inflight: set[asyncio.Task[None]] = set()
        try:
            while not self.stopping:
                await self.semaphore.acquire()
                self.semaphore.release()
                free = self.semaphore._value  # how many more invocations may start now
                batch = await receiver.receive_messages(max_message_count=max(1, free), max_wait_time=1)
                if not batch:
                    continue
                if self.sb.many:
                    groups = [batch]
                else:
                    groups = [[m] for m in batch]
                for group in groups:
                    for m in group:
                        renewer.register(receiver, m)
                    await self.semaphore.acquire()
                    t = asyncio.ensure_future(self._invoke(receiver, group))
                    inflight.add(t)
                    t.add_done_callback(inflight.discard)
        finally:
            if inflight:
                await asyncio.wait(inflight, timeout=30)

    async def _invoke(self, receiver: Any, messages: list[Any]) -> None:
        try:
            converted = [to_function_message(m) for m in messages]
            arg: Any = converted if self.sb.many else converted[0]
            kwargs: dict[str, Any] = {self.sb.param: arg}
            if self.spec.client_param:
                kwargs[self.spec.client_param] = self.client_binding()
            try:
                self.invocations += 1
                await call(self.spec, kwargs, self.executor)
            except Exception:
                self.failures += 1
                log.exception("service bus function %r raised; abandoning the message", self.spec.name)
                if self.auto_complete:
                    for m in messages:
                        await self._settle(receiver.abandon_message, m)
                return
            if self.auto_complete:
                for m in messages:
                    await self._settle(receiver.complete_message, m)
        finally:
            self.semaphore.release()

    async def _settle(self, op: Any, message: Any) -> None:
        try:
            await op(message)
        except Exception as exc:  # a lost lock: the broker redelivers, as it would in Azure
            log.warning(
                "service bus function %r: settling message %s failed: %s", self.spec.name, message.message_id, exc
            )


class ServiceBusListeners:
    """One listener per Service Bus trigger; the connection comes from the setting the trigger names."""

    def __init__(
        self, app: LoadedApp, config: HostConfig, settings: dict[str, str], executor: Executor, client_binding: Any
    ) -> None:
        self.listeners: list[_Listener] = []
        for spec in app.functions:
            if spec.servicebus is None:
                continue
            name = spec.servicebus.connection
            conn = settings.get(name) or settings.get(f"AzureWebJobs{name}")
            if not conn:
                raise ServiceBusConfigError(
                    f"function {spec.name!r}: the Service Bus connection setting {name!r} is not defined "
                    "(local.settings.json Values or the environment)"
                )
            if "Endpoint=" not in conn:
                raise ServiceBusConfigError(
                    f"function {spec.name!r}: setting {name!r} must be a Service Bus connection string"
                )
            self.listeners.append(_Listener(spec, config, conn, executor, client_binding))

    async def start(self) -> None:
        for listener in self.listeners:
            listener.task = asyncio.ensure_future(listener.run())

    async def stop(self) -> None:
        for listener in self.listeners:
            listener.stopping = True
        # The receive loop notices ``stopping`` within a second and leaves its ``async with`` blocks, which
        # closes the AMQP links and sockets cleanly; cancelling is only the fallback.
        tasks = [listener.task for listener in self.listeners if listener.task is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=10)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
