"""A local AMQP 1.0 broker speaking the Service Bus dialect, for the real ``azure-servicebus`` client.

Start it in-process with :func:`start_emulator` or as ``python -m emulators.servicebus``; see
``README.md`` next to this file for the config format, the API and the behaviour copied from Azure.
"""

from emulators.servicebus.config import ConfigError, EmulatorConfig, load_config, parse_config
from emulators.servicebus.inspection import Inspection
from emulators.servicebus.server import DEFAULT_CONFIG, EmulatorHandle, connection_string, start_emulator

__all__ = [
    "DEFAULT_CONFIG",
    "ConfigError",
    "EmulatorConfig",
    "EmulatorHandle",
    "Inspection",
    "connection_string",
    "load_config",
    "parse_config",
    "start_emulator",
]
