"""Checks of request bodies against the SDK's model tables, for the tests that build ASR bodies.

The tables are derived from the installed SDK (``tests/support/sdk_tables.py``), so the check follows the pinned
SDK version and needs nothing outside the repository.
"""

from typing import Any

from tests.support.sdk_tables import Field, enums, models


def _fields(model_name: str) -> dict[str, Field]:
    """Every REST field of a model, its bases' included."""
    fields: dict[str, Field] = {}
    for base in models()[model_name]["bases"]:
        fields.update(_fields(base))
    fields.update({f["rest_name"]: f for f in models()[model_name]["fields"]})
    return fields


def _resolve(model_name: str, body: dict[str, Any], path: str, problems: list[str]) -> str:
    subtypes = models()[model_name]["subtypes_by_discriminator"]
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
        refs = known["refs"]
        enum = known["enum"]
        if enum:
            values = enums()[enum[0]]
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
