"""Access to the shared ASR reference data (SDK model tables, official examples) for contract tests.

The data lives next to the repository (``../shared/specs/siterecovery``) and is never copied
in; ``ASR_SPECS_DIR`` points elsewhere. When it cannot be found the tests fail and say so,
rather than skip: a contract test that silently skips proves nothing.
"""

import json
import os
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_VERSION = "2025-08-01"


def specs_dir() -> Path:
    configured = os.environ.get("ASR_SPECS_DIR")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "specs" / "siterecovery"
    if not (path / "sdk" / "sdk-2.0.0-models.json").is_file():
        pytest.fail(
            f"ASR reference data not found at {path} (expected sdk/sdk-2.0.0-models.json and "
            f"examples/{EXAMPLES_VERSION}/); set ASR_SPECS_DIR to the siterecovery specs folder",
            pytrace=False,
        )
    return path


@cache
def _sdk_tables() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((specs_dir() / "sdk" / "sdk-2.0.0-models.json").read_text(encoding="utf-8")))


def sdk_models() -> dict[str, Any]:
    return cast(dict[str, Any], _sdk_tables()["models"])


def sdk_enums() -> dict[str, Any]:
    return cast(dict[str, Any], _sdk_tables()["enums"])


def _fields(model_name: str) -> dict[str, dict[str, Any]]:
    """Every REST field of a model, its bases' included."""
    models = sdk_models()
    fields: dict[str, dict[str, Any]] = {}
    for base in models[model_name]["bases"]:
        if base in models:
            fields.update(_fields(base))
    fields.update({f["rest_name"]: f for f in models[model_name]["fields"]})
    return fields


def _resolve(model_name: str, body: dict[str, Any], path: str, problems: list[str]) -> str:
    subtypes = sdk_models()[model_name].get("subtypes_by_discriminator")
    if not subtypes:
        return model_name
    kind = body.get("instanceType")
    if kind not in subtypes:
        problems.append(f"{path}.instanceType: {kind!r} is not a subtype of {model_name} ({sorted(subtypes)})")
        return model_name
    return str(subtypes[kind])


def sdk_model_problems(body: dict[str, Any], model_name: str, path: str = "$") -> list[str]:
    """Problems of a REST body against the SDK's model table: unknown fields, missing required ones,
    unresolvable discriminators, wrong enum values; nested models are checked too."""
    problems: list[str] = []
    model_name = _resolve(model_name, body, path, problems)
    fields = _fields(model_name)
    for name, field in fields.items():
        if field["required"] and name not in body:
            problems.append(f"{path}.{name}: required by {model_name}")
    for key, value in body.items():
        known = fields.get(key)
        if known is None:
            problems.append(f"{path}.{key}: not a field of {model_name}")
            continue
        refs = [r for r in known["refs"] if r in sdk_models()]
        enum = known.get("enum")
        if enum:
            values = sdk_enums()[enum[0]]["values"]
            if value not in values:
                problems.append(f"{path}.{key}: {value!r} is not one of {enum[0]} {values}")
        if not refs:
            continue
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            where = f"{path}.{key}[{index}]" if isinstance(value, list) else f"{path}.{key}"
            if isinstance(item, dict):
                problems.extend(sdk_model_problems(item, refs[0], where))
            else:
                problems.append(f"{where}: expected an object for {refs[0]}")
    return problems


def sdk_model(cls: type[Any], **values: Any) -> Any:
    """An SDK model with attributes set by their *python* names; a name the model lacks is an error.

    (The SDK's constructors leave some settable fields out of their signatures.)
    """
    model = cls()
    for name, value in values.items():
        if name not in model._attr_to_rest_field:
            raise AttributeError(f"{cls.__name__} has no field {name}")
        setattr(model, name, value)
    return model
