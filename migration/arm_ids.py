"""Azure Resource Manager resource ids: parse them, build them, compare them.

A plan names many Azure resources by id (target networks, resource groups, storage
accounts, the source VM of a region move). A loose regular expression would accept
an id of the wrong type, or one with a missing segment, and the mistake would only
surface hours later when ASR refuses a failover. So ids are *parsed* into their parts
(subscription, resource group, provider namespace, type chain, names) and checked
segment by segment, and the plan model asks for an id of a precise type.

ARM treats ids case-insensitively (ASR itself answers with ``/Subscriptions/...``,
see ReplicationProtectedItems_Get.json), so comparison ignores case while
``str()`` keeps the names as given and the keywords in their documented spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "InvalidResourceIdError",
    "ResourceId",
    "VaultRef",
    "parse_resource_id",
    "resource_group_id",
    "same_resource",
    "VAULT_TYPE",
    "FABRIC_TYPE",
    "PROTECTION_CONTAINER_TYPE",
    "PROTECTED_ITEM_TYPE",
    "PROTECTABLE_ITEM_TYPE",
    "POLICY_TYPE",
    "CONTAINER_MAPPING_TYPE",
    "RECOVERY_POINT_TYPE",
    "MIGRATION_ITEM_TYPE",
    "VMWARE_RUN_AS_ACCOUNT_TYPE",
    "JOB_TYPE",
    "VIRTUAL_MACHINE_TYPE",
    "VIRTUAL_NETWORK_TYPE",
    "STORAGE_ACCOUNT_TYPE",
]

# Full types (namespace + type chain) of the resources the plan and the scenarios name.
VAULT_TYPE = "Microsoft.RecoveryServices/vaults"
FABRIC_TYPE = f"{VAULT_TYPE}/replicationFabrics"
PROTECTION_CONTAINER_TYPE = f"{FABRIC_TYPE}/replicationProtectionContainers"
PROTECTED_ITEM_TYPE = f"{PROTECTION_CONTAINER_TYPE}/replicationProtectedItems"
PROTECTABLE_ITEM_TYPE = f"{PROTECTION_CONTAINER_TYPE}/replicationProtectableItems"
CONTAINER_MAPPING_TYPE = f"{PROTECTION_CONTAINER_TYPE}/replicationProtectionContainerMappings"
RECOVERY_POINT_TYPE = f"{PROTECTED_ITEM_TYPE}/recoveryPoints"
MIGRATION_ITEM_TYPE = f"{PROTECTION_CONTAINER_TYPE}/replicationMigrationItems"
VMWARE_RUN_AS_ACCOUNT_TYPE = "Microsoft.OffAzure/VMwareSites/runasaccounts"
POLICY_TYPE = f"{VAULT_TYPE}/replicationPolicies"
JOB_TYPE = f"{VAULT_TYPE}/replicationJobs"
VIRTUAL_MACHINE_TYPE = "Microsoft.Compute/virtualMachines"
VIRTUAL_NETWORK_TYPE = "Microsoft.Network/virtualNetworks"
STORAGE_ACCOUNT_TYPE = "Microsoft.Storage/storageAccounts"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Resource group names: 1-90 characters, letters (any script), digits, '_', '-', '.', '(' and ')';
# they may not end with a period (Azure naming rules for Microsoft.Resources/resourcegroups).
_RESOURCE_GROUP = re.compile(r"^[\w\-.()]{1,90}$")
_NAMESPACE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$")
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
# Resource names vary by type; what every type forbids is a slash (it would shift the
# segments), '?' and '#' (they would end the path of a URL), and control characters.
_NAME_FORBIDDEN = re.compile(r"[/?#\x00-\x1f\x7f]")
_MAX_NAME = 260


class InvalidResourceIdError(ValueError):
    """The text is not a well-formed ARM resource id (the message says which part is wrong)."""


@dataclass(frozen=True)
class ResourceId:
    """A parsed ARM resource id.

    ``types`` and ``names`` run in parallel: ``types[0]`` is the top-level type under
    ``namespace`` and ``names[0]`` its name, ``types[-1]``/``names[-1]`` describe the
    resource itself. A bare resource group or subscription id has no namespace and no types.
    """

    subscription_id: str
    resource_group: str | None = None
    namespace: str | None = None
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    _key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Validating here (not only in the parser) means no invalid id can be built at all.
        _check_subscription(self.subscription_id)
        if self.resource_group is not None:
            _check_resource_group(self.resource_group)
        if len(self.types) != len(self.names):
            raise InvalidResourceIdError("every resource type needs a name")
        if self.namespace is not None:
            if not _NAMESPACE.match(self.namespace):
                raise InvalidResourceIdError(f"{self.namespace!r} is not a namespace such as 'Microsoft.Network'")
            if not self.types:
                raise InvalidResourceIdError("a provider namespace needs a resource type and name")
        elif self.types:
            raise InvalidResourceIdError("resource types need a provider namespace")
        for resource_type in self.types:
            _check_type(resource_type)
        for name in self.names:
            _check_name(name)
        object.__setattr__(self, "_key", str(self).lower())

    @property
    def full_type(self) -> str:
        """``Namespace/type/childType…`` (``Microsoft.Network/virtualNetworks``); '' for groups and subscriptions."""
        if self.namespace is None:
            return ""
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        """The resource's own name (the resource group's name for a group id)."""
        if self.names:
            return self.names[-1]
        if self.resource_group is not None:
            return self.resource_group
        return self.subscription_id

    @property
    def parent(self) -> ResourceId | None:
        """The id one level up (a child resource's parent, a top-level resource's group), or None for a subscription."""
        if len(self.types) > 1:
            group, namespace = self.resource_group, self.namespace
            return ResourceId(self.subscription_id, group, namespace, self.types[:-1], self.names[:-1])
        if self.types:
            return ResourceId(self.subscription_id, self.resource_group)
        if self.resource_group is not None:
            return ResourceId(self.subscription_id)
        return None

    def is_type(self, full_type: str) -> bool:
        """True when this id's full type is ``full_type``, compared case-insensitively as ARM does."""
        return self.full_type.lower() == full_type.lower()

    def child(self, resource_type: str, name: str) -> ResourceId:
        """The id of a child resource (``…/{resource_type}/{name}``), validated like a parsed one."""
        if self.namespace is None:
            raise InvalidResourceIdError("only a provider resource can have children")
        return ResourceId(
            self.subscription_id, self.resource_group, self.namespace, (*self.types, resource_type), (*self.names, name)
        )

    def same_as(self, other: ResourceId | str) -> bool:
        """Case-insensitive equality, as ARM compares ids; accepts an unparsed id too."""
        if isinstance(other, str):
            try:
                other = parse_resource_id(other)
            except InvalidResourceIdError:
                return False
        return self._key == other._key

    def __str__(self) -> str:
        parts = ["", "subscriptions", self.subscription_id]
        if self.resource_group is not None:
            parts += ["resourceGroups", self.resource_group]
        if self.namespace is not None:
            parts += ["providers", self.namespace]
            for resource_type, name in zip(self.types, self.names, strict=True):
                parts += [resource_type, name]
        return "/".join(parts)


def _check_type(segment: str) -> None:
    if not _TYPE.match(segment):
        raise InvalidResourceIdError(f"{segment!r} is not a resource type name")


def _check_name(segment: str) -> None:
    if not segment or segment != segment.strip():
        raise InvalidResourceIdError("a resource name is empty or has surrounding spaces")
    if len(segment) > _MAX_NAME:
        raise InvalidResourceIdError(f"a resource name is longer than {_MAX_NAME} characters")
    if _NAME_FORBIDDEN.search(segment):
        raise InvalidResourceIdError(f"resource name {segment!r} contains a forbidden character")


def _check_subscription(segment: str) -> None:
    if not _GUID.match(segment):
        raise InvalidResourceIdError(f"subscription {segment!r} is not a GUID")


def _check_resource_group(segment: str) -> None:
    if not _RESOURCE_GROUP.match(segment) or segment.endswith("."):
        raise InvalidResourceIdError(f"{segment!r} is not a valid resource group name")


def parse_resource_id(text: str) -> ResourceId:
    """Split an ARM id into its parts, checking each; raises :class:`InvalidResourceIdError`.

    Accepts subscription ids, resource group ids and provider resources at group or
    subscription scope, with any depth of child resources. Keywords (``subscriptions``,
    ``resourceGroups``, ``providers``) match case-insensitively.
    """
    if not isinstance(text, str):
        raise InvalidResourceIdError("a resource id must be a string")
    if not text.startswith("/"):
        raise InvalidResourceIdError("a resource id starts with '/subscriptions/'")
    segments = text[1:].split("/")
    if segments and segments[-1] == "" and len(segments) > 1:
        raise InvalidResourceIdError("a resource id does not end with '/'")
    if len(segments) < 2 or segments[0].lower() != "subscriptions":
        raise InvalidResourceIdError("a resource id starts with '/subscriptions/{subscriptionId}'")
    subscription_id = segments[1]
    rest = segments[2:]
    resource_group: str | None = None
    if rest and rest[0].lower() == "resourcegroups":
        if len(rest) < 2:
            raise InvalidResourceIdError("'resourceGroups' needs a resource group name")
        resource_group = rest[1]
        rest = rest[2:]
    if not rest:
        return ResourceId(subscription_id, resource_group)
    if rest[0].lower() != "providers":
        raise InvalidResourceIdError(f"expected 'providers' but found {rest[0]!r}")
    if len(rest) < 2:
        raise InvalidResourceIdError("'providers' needs a namespace such as 'Microsoft.Network'")
    pairs = rest[2:]
    if len(pairs) % 2:
        raise InvalidResourceIdError(f"resource type {pairs[-1]!r} has no name")
    return ResourceId(subscription_id, resource_group, rest[1], tuple(pairs[0::2]), tuple(pairs[1::2]))


def same_resource(left: str, right: str) -> bool:
    """True when two ids name the same resource (case-insensitive); malformed ids are never the same."""
    try:
        return parse_resource_id(left).same_as(parse_resource_id(right))
    except InvalidResourceIdError:
        return False


def resource_group_id(subscription_id: str, resource_group: str) -> ResourceId:
    """The id of a resource group, validated."""
    return ResourceId(subscription_id, resource_group)


@dataclass(frozen=True)
class VaultRef:
    """A Recovery Services vault, and the ids of the ASR resources that live in it.

    Every ASR operation is addressed by vault (subscription, resource group, name) plus
    fabric / container / item names; these builders keep the segment names in one place.
    """

    subscription_id: str
    resource_group: str
    name: str

    @property
    def resource_id(self) -> ResourceId:
        namespace = "Microsoft.RecoveryServices"
        return ResourceId(self.subscription_id, self.resource_group, namespace, ("vaults",), (self.name,))

    @property
    def id(self) -> str:
        return str(self.resource_id)

    def fabric_id(self, fabric: str) -> str:
        return str(self.resource_id.child("replicationFabrics", fabric))

    def container_id(self, fabric: str, container: str) -> str:
        return str(self._container(fabric, container))

    def _container(self, fabric: str, container: str) -> ResourceId:
        return self.resource_id.child("replicationFabrics", fabric).child("replicationProtectionContainers", container)

    def protected_item_id(self, fabric: str, container: str, item: str) -> str:
        return str(self._container(fabric, container).child("replicationProtectedItems", item))

    def migration_item_id(self, fabric: str, container: str, item: str) -> str:
        return str(self._container(fabric, container).child("replicationMigrationItems", item))

    def protectable_item_id(self, fabric: str, container: str, item: str) -> str:
        return str(self._container(fabric, container).child("replicationProtectableItems", item))

    def container_mapping_id(self, fabric: str, container: str, mapping: str) -> str:
        return str(self._container(fabric, container).child("replicationProtectionContainerMappings", mapping))

    def recovery_point_id(self, fabric: str, container: str, item: str, recovery_point: str) -> str:
        item_id = self._container(fabric, container).child("replicationProtectedItems", item)
        return str(item_id.child("recoveryPoints", recovery_point))

    def policy_id(self, policy: str) -> str:
        return str(self.resource_id.child("replicationPolicies", policy))

    def job_id(self, job: str) -> str:
        return str(self.resource_id.child("replicationJobs", job))
