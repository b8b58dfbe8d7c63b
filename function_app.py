"""The Function App: composes the blueprints of triggers, orchestrators and activities.

It holds no logic of its own, so the same object runs unchanged under the Azure Functions
host and under the local host in ``emulators/functions``.
"""

import os

import azure.durable_functions as df
import azure.functions as func

from activities import (
    call_hook,
    check_machine,
    check_target_fit,
    post_callback,
    publish_event,
    read_asr_job,
    read_protected_item,
    release_claims,
    start_asr_step,
    start_callback_delivery,
    stop_starting,
    terminate_instances,
    vm_checks,
)
from migration import servicebus
from orchestrators import (
    deliver_callback,
    group_hooks,
    idempotency_record,
    machine_claim,
    machine_rollback,
    machine_runbook,
    wait_for_job,
    wait_for_replication,
    wave,
    wave_batch,
)
from triggers import (
    health,
    http_control,
    http_migrations,
    http_openapi,
    servicebus_control,
    servicebus_requests,
)

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

for blueprint in (
    health.bp,
    http_migrations.bp,
    http_control.bp,
    http_openapi.bp,
    wave.bp,
    wave_batch.bp,
    machine_rollback.bp,
    machine_runbook.bp,
    wait_for_job.bp,
    wait_for_replication.bp,
    check_machine.bp,
    check_target_fit.bp,
    vm_checks.bp,
    read_protected_item.bp,
    start_asr_step.bp,
    read_asr_job.bp,
    terminate_instances.bp,
    stop_starting.bp,
    publish_event.bp,
    deliver_callback.bp,
    start_callback_delivery.bp,
    post_callback.bp,
    machine_claim.bp,
    release_claims.bp,
    idempotency_record.bp,
    group_hooks.bp,
    call_hook.bp,
):
    app.register_functions(blueprint)

# The Service Bus entry points listen only where the app has a Service Bus: the rule events follow too
# (migration/servicebus.py, ``configured``), so an empty setting switches both off.
if servicebus.configured(os.environ):
    app.register_functions(servicebus_requests.bp)
    app.register_functions(servicebus_control.bp)
