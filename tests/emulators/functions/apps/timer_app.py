"""A purpose-built timer app: an every-second schedule, a schedule from a setting, run on startup."""

import threading

import azure.functions as func

app = func.FunctionApp()

TICKS: list[dict[str, object]] = []
_lock = threading.Lock()


def _next(timer: func.TimerRequest) -> object:
    status: dict[str, object] = getattr(timer, "schedule_status", {})  # on the concrete class only
    return status.get("Next")


@app.timer_trigger(arg_name="timer", schedule="* * * * * *")
def every_second(timer: func.TimerRequest) -> None:
    with _lock:
        TICKS.append({"fn": "every_second", "past_due": timer.past_due, "next": _next(timer)})


@app.timer_trigger(arg_name="timer", schedule="%NIGHTLY_SCHEDULE%", run_on_startup=True)
async def nightly(timer: func.TimerRequest) -> None:
    with _lock:
        TICKS.append({"fn": "nightly", "past_due": timer.past_due, "next": _next(timer)})


bad = func.FunctionApp()


@bad.timer_trigger(arg_name="timer", schedule="0 61 * * * *")
def bad_minute(timer: func.TimerRequest) -> None:
    pass
