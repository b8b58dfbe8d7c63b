"""Fixtures: a fresh emulator per test (frozen clock, polls move it) and the real SDK client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from emulators.siterecovery import EmulatorHandle, start_emulator
from emulators.siterecovery.client import emulator_client

REPO_ROOT = Path(__file__).resolve().parents[3]
TOPOLOGY = REPO_ROOT / "examples" / "topology.yaml"


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with start_emulator(TOPOLOGY, advance_on_poll=True) as handle:
        yield handle


@pytest.fixture
def client(emu: EmulatorHandle) -> SiteRecoveryManagementClient:
    return emulator_client(emu.base_url, emu.subscription_id, retry_backoff_factor=0.01)
