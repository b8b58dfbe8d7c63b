"""``check_target_fit`` called as the Functions host calls it, against the Site Recovery emulator's Compute over a
socket: the verdict as the wave reads it, and a transient failure raised so the retry policy applies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import azure.durable_functions as df
import pytest

from activities import check_target_fit as module
from cli.local_stack import fence_settings
from emulators.siterecovery import EmulatorHandle, start_emulator
from migration.errors import AsrTransientError
from migration.payloads.target_fit import TargetFit, TargetFitRequest
from tests.support.machines import EXAMPLES, example_plan

PLAN = example_plan("azure.yaml").model_dump(by_alias=True, mode="json", exclude_none=True)


def activity_function() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The user code the Functions host would call, taken from the blueprint as the app registers it."""
    app = df.DFApp()
    app.register_functions(module.bp)
    functions = {f.get_function_name(): f for f in app.get_functions()}
    assert functions[module.name].get_bindings()[0].type == "activityTrigger"
    user_code: Callable[[dict[str, Any]], dict[str, Any]] = functions[module.name].get_user_function()
    return user_code


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorHandle]:
    with start_emulator(EXAMPLES / "topology.yaml") as handle:
        monkeypatch.setenv("ASR_ARM_ENDPOINT", handle.base_url)
        for key, value in fence_settings(vault.arm_id for vault in handle.store.topology.vaults).items():
            monkeypatch.setenv(key, value)
        yield handle


def test_the_verdict_names_the_machines_and_figures(emu: EmulatorHandle) -> None:
    check = activity_function()
    request = TargetFitRequest(PLAN).to_dict()
    fits = TargetFit.from_dict(check(request))
    assert fits.ok and [note.code for note in fits.notes] == ["SizeOfSource"]
    emu.add_fault({"kind": "quotaExhausted", "location": "northeurope", "name": "standardDSv5Family"})
    (problem,) = TargetFit.from_dict(check(request)).problems
    assert (problem.code, problem.machines) == ("QuotaExceeded", ("app01", "app02"))
    assert problem.message.startswith("standardDSv5Family in northeurope: the plan needs 4 vCPUs, 50 of 50 are in use")


def test_a_transient_failure_is_raised_for_the_retry_policy(emu: EmulatorHandle) -> None:
    emu.add_fault({"kind": "transient", "operation": "Usage_List", "status": 503, "count": 10})
    with pytest.raises(AsrTransientError):
        activity_function()(TargetFitRequest(PLAN).to_dict())
