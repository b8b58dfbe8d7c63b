"""Local stand-in for ARM's Azure Site Recovery API (api-version 2025-08-01).

The official ``SiteRecoveryManagementClient`` talks to it over HTTP on loopback. See README.md.
"""

from emulators.siterecovery.arm_limits import ArmLimits, ArmLimitsError
from emulators.siterecovery.server import EmulatorHandle, create_emulator, start_emulator
from emulators.siterecovery.topology import Topology, TopologyError, load_topology, parse_topology

__all__ = [
    "ArmLimits",
    "ArmLimitsError",
    "EmulatorHandle",
    "Topology",
    "TopologyError",
    "create_emulator",
    "load_topology",
    "parse_topology",
    "start_emulator",
]
