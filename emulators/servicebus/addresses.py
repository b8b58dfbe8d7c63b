"""Link addresses as the Service Bus clients write them, reduced to entity paths.

Clients address entities as ``amqps://host[:port]/<path>`` even without TLS, management nodes as
``<path>/$management`` and the token endpoint as ``$cbs``. Entity paths are ``queue``, ``topic``,
``topic/Subscriptions/sub`` and either of the receivable ones with ``/$DeadLetterQueue`` appended.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

CBS_NODE = "$cbs"
MANAGEMENT_SUFFIX = "/$management"


class NodeKind(Enum):
    CBS = "cbs"
    MANAGEMENT = "management"
    ENTITY = "entity"


@dataclass(frozen=True, slots=True)
class Node:
    kind: NodeKind
    entity_path: str
    address: str


def entity_path(address: str) -> str:
    """Strip scheme and host from an address, leaving the path inside the namespace."""
    path = address
    if "://" in path:
        rest = path.split("://", 1)[1]
        path = rest.split("/", 1)[1] if "/" in rest else ""
    return path.strip("/")


def classify(address: str | None) -> Node:
    path = entity_path(address or "")
    if path.lower() == CBS_NODE:
        return Node(NodeKind.CBS, "", address or "")
    if path.lower().endswith(MANAGEMENT_SUFFIX):
        return Node(NodeKind.MANAGEMENT, path[: -len(MANAGEMENT_SUFFIX)], address or "")
    return Node(NodeKind.ENTITY, path, address or "")
