"""The process-wide Site Recovery and Compute adapters the activities share, built once from the app settings.

One SDK client per subscription serves every activity in the worker process; building it per call would repeat
credential and pipeline setup on every one of a wave's thousands of calls.
"""

from __future__ import annotations

import os
import threading

from migration.asr import AsrSettings, SiteRecovery
from migration.compute import Compute
from migration.json_types import Json
from migration.machine import Machine

_lock = threading.Lock()
_adapters: dict[AsrSettings, SiteRecovery] = {}
_compute: dict[AsrSettings, Compute] = {}


def site_recovery() -> SiteRecovery:
    """The adapter for the current settings (``ASR_ARM_ENDPOINT``, ``ASR_ALLOWED_VAULT_IDS``, ``ASR_CREDENTIAL``).

    Keyed by the settings, so a process whose settings change (a test starting a new emulator) gets a new one.
    """
    settings = AsrSettings.from_environment(os.environ)
    with _lock:
        adapter = _adapters.get(settings)
        if adapter is None:
            adapter = _adapters[settings] = SiteRecovery(settings)
        return adapter


def compute() -> Compute:
    """The Compute adapter beside the current Site Recovery adapter: the same settings, credential and endpoint."""
    asr = site_recovery()
    with _lock:
        adapter = _compute.get(asr.settings)
        if adapter is None:
            adapter = _compute[asr.settings] = Compute(asr)
        return adapter


def machine_from(machine: Json) -> Machine:
    """The machine an activity acts on, from its plan entry in the activity's input (the plan's camelCase spelling)."""
    return Machine.model_validate(machine)
