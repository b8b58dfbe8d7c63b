# mypy: allow-untyped-decorators
"""A Durable app for crash tests: activities leave a trace in a folder so re-runs are visible."""

import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.activity_trigger(input_name="item")
def record(item: str) -> str:
    """Writes one trace file per execution (so a re-run shows as two files), then takes a little time."""
    folder = Path(os.environ["CRASH_EFFECTS_DIR"])
    (folder / f"{item}.{uuid.uuid4().hex}").write_text(item)
    time.sleep(0.05)
    return f"done {item}"


@app.orchestration_trigger(context_name="context")
def crash_fan_out(context: df.DurableOrchestrationContext):
    n = context.get_input()
    results = yield context.task_all([context.call_activity("record", f"{context.instance_id}-{i}") for i in range(n)])
    return len(results)


@app.orchestration_trigger(context_name="context")
def crash_timer(context: df.DurableOrchestrationContext):
    seconds = context.get_input()
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    return (yield context.call_activity("record", f"{context.instance_id}-after-timer"))
