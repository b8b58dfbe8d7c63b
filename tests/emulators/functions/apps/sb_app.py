# mypy: allow-untyped-decorators
"""A purpose-built Service Bus app: queue and topic triggers, a poison message, a durable starter."""

import threading
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

SEEN: list[dict[str, Any]] = []
_lock = threading.Lock()


def _record(trigger: str, msg: func.ServiceBusMessage) -> None:
    with _lock:
        SEEN.append(
            {
                "trigger": trigger,
                "body": msg.get_body().decode(),
                "message_id": msg.message_id,
                "correlation_id": msg.correlation_id,
                "content_type": msg.content_type,
                "subject": msg.subject,
                "application_properties": dict(msg.application_properties),
                "user_properties": dict(msg.user_properties),
                "delivery_count": msg.delivery_count,
                "sequence_number": msg.sequence_number,
                "enqueued": msg.enqueued_time_utc is not None,
                "lock_token": msg.lock_token,
            }
        )


@app.service_bus_queue_trigger(arg_name="msg", queue_name="orders", connection="SB_CONN")
def on_order(msg: func.ServiceBusMessage) -> None:
    _record("orders", msg)
    if b"poison" in msg.get_body():
        raise ValueError("cannot process a poison order")


@app.service_bus_topic_trigger(arg_name="msg", topic_name="events", subscription_name="audit", connection="SB_CONN")
async def on_event(msg: func.ServiceBusMessage) -> None:
    _record("events", msg)


@app.service_bus_queue_trigger(arg_name="msg", queue_name="starts", connection="SB_CONN")
@app.durable_client_input(client_name="client")
async def on_start(msg: func.ServiceBusMessage, client: df.DurableOrchestrationClient) -> None:
    """Idempotent starter: the message id is the instance id, redeliveries do not start twice."""
    existing = await client.get_status(msg.message_id)
    if not existing:
        await client.start_new("greet", msg.message_id, msg.get_body().decode())


ACTIVE = {"now": 0, "max": 0}


@app.service_bus_queue_trigger(arg_name="msg", queue_name="slow", connection="SB_CONN")
async def on_slow(msg: func.ServiceBusMessage) -> None:
    """Records how many invocations overlap, to check host.json's maxConcurrentCalls."""
    import asyncio

    with _lock:
        ACTIVE["now"] += 1
        ACTIVE["max"] = max(ACTIVE["max"], ACTIVE["now"])
    await asyncio.sleep(0.05)
    with _lock:
        ACTIVE["now"] -= 1
    _record("slow", msg)


@app.service_bus_queue_trigger(arg_name="msg", queue_name="manual", connection="SB_CONN", auto_complete_messages=False)
def on_manual(msg: func.ServiceBusMessage) -> None:
    """With autoCompleteMessages off the host settles nothing: the message stays locked."""
    _record("manual", msg)


@app.orchestration_trigger(context_name="context")
def greet(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("shout", context.get_input()))


@app.activity_trigger(input_name="text")
def shout(text: str) -> str:
    return text.upper()
