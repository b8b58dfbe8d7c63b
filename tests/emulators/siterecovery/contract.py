"""Helpers for comparing emulator responses with the official examples: key paths with JSON
types, and the attributes the SDK populates when it deserializes a body into its result model."""

from __future__ import annotations

import re
from typing import Any

import requests
from azure.mgmt.recoveryservicessiterecovery import models

from emulators.siterecovery import EmulatorHandle


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def key_paths(value: Any, prefix: str = "") -> dict[str, str]:
    """Every path in a JSON document with its JSON type; list elements are merged under ``[]``."""
    out = {prefix or "$": json_type(value)}
    if isinstance(value, dict):
        for key, child in value.items():
            out.update(key_paths(child, f"{prefix}.{key}"))
    elif isinstance(value, list):
        for child in value:
            out.update(key_paths(child, f"{prefix}[]"))
    return out


def missing_paths(expected: Any, actual: Any) -> list[str]:
    """Paths of ``expected`` absent from ``actual`` or with another JSON type there."""
    want, have = key_paths(expected), key_paths(actual)
    return sorted(f"{p} ({t}; got {have.get(p, 'nothing')})" for p, t in want.items() if have.get(p) != t)


def populated(model: Any, prefix: str = "") -> set[str]:
    """Attribute paths the SDK model has set (reading each one forces its deserialization)."""
    out: set[str] = set()
    fields = getattr(model, "_attr_to_rest_field", None)
    if fields is None:
        return out
    for attr in fields:
        value = getattr(model, attr)
        if value is None:
            continue
        path = f"{prefix}.{attr}"
        out.add(path)
        if isinstance(value, list):
            for element in value:
                out |= populated(element, f"{path}[]")
        else:
            out |= populated(value, path)
    return out


def deserialize(result_model: str, body: Any) -> Any:
    return getattr(models, result_model)(body)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def example_url(emu: EmulatorHandle, template: str, params: dict[str, Any]) -> str:
    """An example's request URL on the emulator: the SDK operation's template with the example's parameters."""
    path = template
    for key, value in params.items():
        path = path.replace("{" + key + "}", str(value))
    assert "{" not in path, path
    return f"{emu.base_url}{path}?api-version=2025-08-01"


def follow(response: requests.Response) -> requests.Response:
    """Poll like ARMPolling: the operation status until terminal, then the Location."""
    status_url = response.headers["Azure-AsyncOperation"]
    status = "InProgress"
    for _ in range(500):
        status = requests.get(status_url, timeout=10).json()["status"]
        if status != "InProgress":
            break
    assert status == "Succeeded", status
    final = requests.get(response.headers["Location"], timeout=10)
    while final.status_code == 202:
        final = requests.get(response.headers["Location"], timeout=10)
    return final
