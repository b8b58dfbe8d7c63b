# mypy: allow-untyped-decorators
"""The app the host benchmark runs: a sequence, a fan-out of activities, a fan-out of sub-orchestrations."""

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.activity_trigger(input_name="value")
def bench_step(value: int) -> int:
    return value + 1


@app.orchestration_trigger(context_name="context")
def bench_sequence(context: df.DurableOrchestrationContext):
    value = 0
    for _ in range(context.get_input()):
        value = yield context.call_activity("bench_step", value)
    return value


@app.orchestration_trigger(context_name="context")
def bench_fan_out(context: df.DurableOrchestrationContext):
    results = yield context.task_all([context.call_activity("bench_step", i) for i in range(context.get_input())])
    return sum(results)


@app.orchestration_trigger(context_name="context")
def bench_child(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("bench_step", context.get_input()))


@app.orchestration_trigger(context_name="context")
def bench_sub_fan_out(context: df.DurableOrchestrationContext):
    n = context.get_input()
    results = yield context.task_all([context.call_sub_orchestrator("bench_child", i) for i in range(n)])
    return sum(results)
