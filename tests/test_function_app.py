"""Indexing checks over the composed app: what a host discovers from ``function_app:app``.

azure-functions indexes an app once per process (a second ``get_functions()`` on the same app raises a duplicate-
name error, as the worker never asks twice), so the app is read through the local host's loader, which indexes it
once and shares the result with every host started in this process.
"""

from pathlib import Path

from emulators.functions.app_loader import load_app
from migration import function_names

REPO = Path(__file__).resolve().parents[1]


def test_health_route_is_registered_and_anonymous() -> None:
    health = load_app("function_app:app", REPO).by_name("health")
    assert health is not None and health.http is not None
    assert health.http.route == "health"
    assert health.http.auth_level == "anonymous"


def test_every_http_route_is_anonymous_to_the_host_so_app_service_authentication_is_the_one_door() -> None:
    """Microsoft: with App Service authentication, set the HTTP trigger's level to anonymous; a function key left
    in place would make every caller hold a shared secret besides the token. The routes then check app roles
    themselves (``tests/triggers/test_e2e_entry_points.py`` tries each one without a token and with each role)."""
    loaded = load_app("function_app:app", REPO)
    routes = [spec for spec in loaded.functions if spec.http is not None]
    assert len(routes) >= 12
    assert {spec.http.auth_level for spec in routes if spec.http is not None} == {"anonymous"}


def test_every_orchestration_and_activity_named_in_code_is_registered() -> None:
    loaded = load_app("function_app:app", REPO)
    declared = {v for k, v in vars(function_names).items() if k.isupper() and isinstance(v, str)}
    # Every constant is in one of the two sets, so a name added to the module cannot escape this check.
    assert declared == function_names.ORCHESTRATORS | function_names.ACTIVITIES
    assert function_names.ORCHESTRATORS - set(loaded.orchestrators) == set()
    assert function_names.ACTIVITIES - set(loaded.activities) == set()
