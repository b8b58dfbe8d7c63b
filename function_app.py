"""The Function App: composes the blueprints of triggers, orchestrators and activities.

It holds no logic of its own, so the same object runs unchanged under the Azure Functions
host and under the local host in ``emulators/functions``.
"""

import azure.durable_functions as df
import azure.functions as func

from triggers import health

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

for blueprint in (health.bp,):
    app.register_functions(blueprint)
