"""The SDK's model and operation tables, derived from the installed ``azure-mgmt-recoveryservicessiterecovery``.

The contract tests check request bodies and routes against what the real SDK declares. Reading that from
the installed package (rather than from a copy of it) keeps the tests runnable from a plain clone and makes
them follow the pinned SDK version: a newer SDK changes the tables, and the tests with them.

Models and enums come from the classes themselves: each model's own ``rest_field`` descriptors, its
annotations (``Optional[...]`` means optional, the forward references name the nested models and enums)
and the ``__mapping__`` its discriminated bases keep. Operations come from the operation classes: the
return annotation says whether a method pages or polls and which model it returns, calling its request
builder with placeholder arguments gives the HTTP method and URL, and the generated source (through
``ast``) gives the status codes the SDK accepts and the names of the URL's placeholders.
"""

from __future__ import annotations

import ast
import enum
import inspect
import types
import typing
import urllib.parse
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, ForwardRef, Literal, TypedDict, Union

from azure.core.paging import ItemPaged
from azure.core.polling import LROPoller
from azure.core.rest import HttpRequest
from azure.mgmt.recoveryservicessiterecovery import models as sdk_models
from azure.mgmt.recoveryservicessiterecovery import operations as sdk_operations
from azure.mgmt.recoveryservicessiterecovery._utils import model_base
from azure.mgmt.recoveryservicessiterecovery.operations import _operations as operations_source


class Field(TypedDict):
    """One REST field a model declares itself (its bases' fields are in their own rows)."""

    rest_name: str
    python_name: str
    required: bool
    refs: list[str]  # models the field's type names, in order of appearance
    enum: list[str]  # enums the field's type names (the values it may take), in order of appearance


class Model(TypedDict):
    bases: list[str]  # the SDK models it derives from (the root ``Model`` is left out)
    discriminator_value: str | None  # its key in a discriminated base's ``__mapping__``
    subtypes_by_discriminator: dict[str, str]  # a discriminated base's ``__mapping__``; empty otherwise
    fields: list[Field]


class Operation(TypedDict):
    http_method: str
    url: str  # the path template, ``{restName}`` placeholders as the request builder formats them
    accepted_status: list[int]  # the codes the SDK accepts on the (first) response; others raise
    result_model: str | None  # the model the SDK deserializes (a page's element when pageable)
    pageable: bool
    lro: bool


# -- models and enums --


def _classes() -> Iterator[tuple[str, type]]:
    for name in sdk_models.__all__:
        value = getattr(sdk_models, name)
        if isinstance(value, type):
            yield name, value


def _is_optional(annotation: object) -> bool:
    """``Optional[X]`` (or ``X | None``): the generated models annotate exactly their optional fields so."""
    return typing.get_origin(annotation) in (Union, types.UnionType) and type(None) in typing.get_args(annotation)


def _named(annotation: object) -> Iterator[str]:
    """Names of the classes an annotation refers to: forward references (``"_models.X"``, kept as strings
    inside ``list[...]``/``dict[...]``) and classes; ``Literal`` values are not names."""
    if isinstance(annotation, ForwardRef):
        yield annotation.__forward_arg__.rpartition(".")[2]
    elif isinstance(annotation, str):
        yield annotation.rpartition(".")[2]
    elif isinstance(annotation, type) and not typing.get_args(annotation):
        yield annotation.__name__
    elif typing.get_origin(annotation) is not Literal:
        for argument in typing.get_args(annotation):
            yield from _named(argument)


def _fields(cls: type, models: set[str], enums: set[str]) -> list[Field]:
    annotations = inspect.get_annotations(cls)
    fields: list[Field] = []
    for python_name, descriptor in vars(cls).items():
        if not isinstance(descriptor, model_base._RestField):
            continue
        annotation = annotations[python_name]
        named = list(dict.fromkeys(_named(annotation)))
        fields.append(
            {
                # Model.__new__ falls back to the attribute's name the same way when no name= is given.
                "rest_name": descriptor._rest_name_input or python_name,
                "python_name": python_name,
                "required": not _is_optional(annotation),
                "refs": [n for n in named if n in models],
                "enum": [n for n in named if n in enums],
            }
        )
    return fields


def _discriminator_value(cls: type) -> str | None:
    """The key ``Model.__init_subclass__`` registered the class under in its base's ``__mapping__``."""
    for base in cls.__bases__:
        mapping: dict[str, type] = getattr(base, "__mapping__", {})
        for value, subtype in mapping.items():
            if subtype is cls:
                return value
    return None


@cache
def models() -> dict[str, Model]:
    """Every model of ``azure.mgmt.recoveryservicessiterecovery.models``, by class name."""
    classes = dict(_classes())
    model_classes = {n: c for n, c in classes.items() if issubclass(c, model_base.Model)}
    enum_names = {n for n, c in classes.items() if issubclass(c, enum.Enum)}
    table: dict[str, Model] = {}
    for name, cls in model_classes.items():
        mapping: dict[str, type] = vars(cls).get("__mapping__", {})
        table[name] = {
            "bases": [b.__name__ for b in cls.__bases__ if b.__name__ in model_classes],
            "discriminator_value": _discriminator_value(cls),
            "subtypes_by_discriminator": {value: subtype.__name__ for value, subtype in mapping.items()},
            "fields": _fields(cls, set(model_classes), enum_names),
        }
    return table


@cache
def enums() -> dict[str, list[str]]:
    """Every enum of the models package: name -> its values, in declaration order."""
    return {name: [str(member.value) for member in cls] for name, cls in _classes() if issubclass(cls, enum.Enum)}


# -- operations --


@cache
def _source_tree() -> dict[str, ast.FunctionDef]:
    """The generated operations module's functions by ``Class.method`` (or ``builder``) name; for
    overloaded methods the last definition, the one that runs."""
    tree = ast.parse(inspect.getsource(operations_source))
    functions: dict[str, ast.FunctionDef] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    functions[f"{node.name}.{item.name}"] = item
    return functions


def _calls(function: ast.FunctionDef) -> Iterator[str]:
    """Names of the functions and ``self.`` methods a function calls (nested functions included)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                yield node.func.id
            elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                if node.func.value.id == "self":
                    yield node.func.attr


def _accepted_status(function: ast.FunctionDef) -> list[int]:
    """The list in ``if response.status_code not in [...]``: the codes the SDK does not raise on."""
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Attribute)
            and node.left.attr == "status_code"
            and isinstance(node.ops[0], ast.NotIn)
            and isinstance(node.comparators[0], ast.List)
        ):
            return [
                c.value for c in node.comparators[0].elts if isinstance(c, ast.Constant) and isinstance(c.value, int)
            ]
    raise AssertionError(f"{function.name}: no status code check")


def _path_parameters(builder: ast.FunctionDef) -> dict[str, str]:
    """python parameter -> the URL placeholder it fills, from the builder's ``path_format_arguments``."""
    for node in ast.walk(builder):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "path_format_arguments"
            and isinstance(node.value, ast.Dict)
        ):
            parameters: dict[str, str] = {}
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Call):
                    argument = value.args[1]
                    if isinstance(argument, ast.Name):
                        parameters[argument.id] = str(key.value)
            return parameters
    return {}


def _route(builder_name: str) -> tuple[str, str]:
    """(HTTP method, URL template): the builder called with a placeholder per parameter, the placeholders
    then put back as the ``{restName}`` they fill."""
    builder: Callable[..., HttpRequest] = getattr(operations_source, builder_name)
    names = [
        p.name
        for p in inspect.signature(builder).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is p.empty
    ]
    tokens = {name: f"~{index}~" for index, name in enumerate(names)}
    request = builder(**tokens)
    path = urllib.parse.urlsplit(request.url).path
    for name, placeholder in _path_parameters(_source_tree()[builder_name]).items():
        path = path.replace(tokens[name], "{" + placeholder + "}")
    assert "~" not in path, f"{builder_name}: placeholders left in {path}"
    return request.method, path


def _result(annotation: object) -> tuple[str | None, bool, bool]:
    """(result model, pageable, lro) from a public method's return annotation."""
    origin = typing.get_origin(annotation)
    pageable, lro = origin is ItemPaged, origin is LROPoller
    inner = typing.get_args(annotation)[0] if pageable or lro else annotation
    names = [n for n in _named(inner) if n in models()]
    return (names[0] if names else None), pageable, lro


def _operation(class_name: str, method_name: str, method: Callable[..., Any]) -> Operation:
    function = _source_tree()[f"{class_name}.{method_name}"]
    # A long-running operation sends its request (and checks the status) in its ``_..._initial`` method.
    initial = next((c for c in _calls(function) if c.startswith("_") and c.endswith("_initial")), None)
    sender = _source_tree()[f"{class_name}.{initial}"] if initial else function
    builder = next(c for c in _calls(sender) if c.startswith("build_") and c.endswith("_request"))
    http_method, url = _route(builder)
    result_model, pageable, lro = _result(inspect.signature(method).return_annotation)
    return {
        "http_method": http_method,
        "url": url,
        "accepted_status": _accepted_status(sender),
        "result_model": result_model,
        "pageable": pageable,
        "lro": lro,
    }


@cache
def operations() -> dict[str, dict[str, Operation]]:
    """operations class (``ReplicationProtectedItemsOperations``) -> public method (``begin_create``) -> row."""
    table: dict[str, dict[str, Operation]] = {}
    for class_name in sdk_operations.__all__:
        cls = getattr(sdk_operations, class_name)
        table[class_name] = {
            name: _operation(class_name, name, method)
            for name, method in vars(cls).items()
            if not name.startswith("_") and inspect.isfunction(method)
        }
    return table
