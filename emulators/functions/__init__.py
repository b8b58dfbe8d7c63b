"""A local Azure Functions + Durable Functions host that runs ``function_app.py`` unchanged.

In process: ``start_host(app, app_dir=..., data_dir=..., port=0) -> HostHandle``.
As a child process: ``start_host_process(app, app_dir=..., data_dir=..., port=None) -> HostProcess``.
"""

from .app_loader import AppLoadError, load_app
from .host import FunctionsHost, HostHandle, HostOptions, start_host
from .process import HostProcess, start_host_process

__all__ = [
    "AppLoadError",
    "FunctionsHost",
    "HostHandle",
    "HostOptions",
    "HostProcess",
    "load_app",
    "start_host",
    "start_host_process",
]
