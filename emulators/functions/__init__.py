"""A local Azure Functions + Durable Functions host that runs ``function_app.py`` unchanged.

In process: ``start_host(app, app_dir=..., data_dir=..., port=0) -> HostHandle``.
As a child process: ``start_host_process(app, app_dir=..., data_dir=..., port=None) -> HostProcess``.
Either takes ``easy_auth=<authsettingsV2 JSON file>`` to put App Service authentication in front of the app.
"""

from .app_loader import AppLoadError, load_app
from .easy_auth import EasyAuth, EasyAuthError
from .host import FunctionsHost, HostHandle, HostOptions, start_host
from .local_entra import LocalEntra, LocalEntraError
from .process import HostProcess, start_host_process

__all__ = [
    "AppLoadError",
    "EasyAuth",
    "EasyAuthError",
    "FunctionsHost",
    "HostHandle",
    "HostOptions",
    "HostProcess",
    "LocalEntra",
    "LocalEntraError",
    "load_app",
    "start_host",
    "start_host_process",
]
