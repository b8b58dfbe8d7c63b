"""Indexing checks over the composed app: what the host will discover from ``function_app:app``."""

import function_app


def _functions_by_name() -> dict[str, object]:
    return {fn.get_function_name(): fn for fn in function_app.app.get_functions()}


def test_health_route_is_registered_and_anonymous() -> None:
    functions = _functions_by_name()
    assert "health" in functions
    trigger = functions["health"].get_trigger()  # type: ignore[attr-defined]
    assert trigger.route == "health"
    assert str(trigger.auth_level).lower().endswith("anonymous")


def test_app_defaults_to_function_level_auth() -> None:
    assert str(function_app.app.auth_level).lower().endswith("function")
