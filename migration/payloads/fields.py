"""How a payload is written and read: one codec (pydantic) for every class, and the field types that carry defaults.

Each payload class is a frozen pydantic dataclass with :data:`CONFIG` and :class:`Payload`'s methods: its fields,
in order, are the payload, and the wire keys are their camelCase spellings. :meth:`Payload.from_dict` validates a
received dict (a missing or mistyped key becomes a :class:`PayloadError` naming the payload and the key);
:meth:`Payload.to_dict` writes plain JSON with every field but the ``SPARSE`` ones still at their default, which
are sent only when set (the keys the history has always held).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import AwareDatetime, BeforeValidator, ConfigDict, PlainSerializer, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from migration.json_types import Json

__all__ = [
    "DEFAULT_TIME_SCALE",
    "CLOSED",
    "CONFIG",
    "Attempt",
    "Count",
    "Options",
    "Payload",
    "PayloadError",
    "Time",
    "TimeScale",
    "Unset",
    "from_wire",
]

# Plan-seconds per wall second (``orchestrators.timing``): 1 in Azure; an input without it runs in real time.
DEFAULT_TIME_SCALE = 1.0


class PayloadError(ValueError):
    """A function got a payload its contract does not allow: a programming error between two of our functions."""


def _or(default: Any) -> Callable[[Any], Any]:
    return lambda value: default if value is None else value


# The shared defaults, applied on reading whether the key is absent or null.
TimeScale = Annotated[float, BeforeValidator(_or(DEFAULT_TIME_SCALE))]
Attempt = Annotated[int, BeforeValidator(_or(0))]
Count = Annotated[int, BeforeValidator(_or(0))]
Options = Annotated[Json, BeforeValidator(_or({}))]
# A moment with its UTC offset, written as ``datetime.isoformat`` writes it (the form the history has always held).
Time = Annotated[AwareDatetime, PlainSerializer(lambda moment: moment.isoformat())]
# An optional text where an empty one means unset.
Unset = Annotated[str | None, BeforeValidator(lambda value: value or None)]


def from_wire(kind: Any) -> Callable[[Any], Any]:
    """A validator reading ``kind`` (a class with ``from_dict``) from its own wire form, or taking one as it is."""

    def read(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        try:
            return kind.from_dict(value)
        except (KeyError, TypeError, AttributeError) as error:  # the codec reports ValueError alone, by key
            raise ValueError(f"is not a {kind.__name__}: {type(error).__name__} {error}") from None

    return read


class Payload:
    """What every payload class shares: ``NAME`` (how errors call it), ``from_dict`` and ``to_dict``."""

    NAME: ClassVar[str]
    # The fields left out of ``to_dict`` while they hold their default: sent only when set.
    SPARSE: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """``data`` read as this payload; a :class:`PayloadError` naming the payload and the key when it is not."""
        if not isinstance(data, Mapping):
            raise PayloadError(f"{cls.NAME} takes a JSON object, not {type(data).__name__}")
        try:
            value: Self = _adapter(cls).validate_python(dict(data))
        except ValidationError as error:
            raise PayloadError("; ".join(_problem(cls.NAME, problem) for problem in error.errors())) from None
        return value

    def to_dict(self) -> Json:
        """Plain JSON with the camelCase keys, without the :attr:`SPARSE` fields that hold their default."""
        fields = self.__dataclass_fields__  # type: ignore[attr-defined]
        unset = {name for name in self.SPARSE if getattr(self, name) == fields[name].default}
        data: Json = _adapter(type(self)).dump_python(self, mode="json", by_alias=True, exclude=unset)
        return data


# The pydantic configuration of every payload class (``@dataclass(frozen=True, config=CONFIG)``): camelCase keys
# on the wire, snake_case in code; unknown keys ignored, or refused with ``CLOSED``.
CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
CLOSED = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(cls: type[Any]) -> TypeAdapter[Any]:
    """One validator and serializer per payload class, built on first use (building one takes milliseconds)."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


def _problem(payload_name: str, problem: Any) -> str:
    where = " ".join(str(part) for part in problem["loc"])
    if problem["type"] == "missing":
        *parent, key = [payload_name, *(str(part) for part in problem["loc"])]
        return f"{' '.join(parent)} lacks the required key {key!r}"
    if problem["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"{payload_name}: unknown {where}"
    message = str(problem.get("ctx", {}).get("error") or problem["msg"])
    return f"{payload_name} {where}: {message}"
