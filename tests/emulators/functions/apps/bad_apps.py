# mypy: allow-untyped-decorators
"""Apps this host must refuse at load time, each naming the offending function."""

import azure.durable_functions as df
import azure.functions as func

queue_output = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@queue_output.route(route="enqueue")
@queue_output.queue_output(arg_name="msg", queue_name="out", connection="Storage")
def enqueue(req: func.HttpRequest, msg: func.Out[str]) -> str:
    msg.set("x")
    return "ok"


blob_trigger = func.FunctionApp()


@blob_trigger.blob_trigger(arg_name="blob", path="c/{name}", connection="Storage")
def on_blob(blob: func.InputStream) -> None:
    pass


entities = df.DFApp()


@entities.entity_trigger(context_name="context")
def counter_entity(context):
    pass


sessions = func.FunctionApp()


@sessions.service_bus_queue_trigger(arg_name="m", queue_name="q", connection="SB", is_sessions_enabled=True)
def session_listener(m: func.ServiceBusMessage) -> None:
    pass


not_an_app = object()
