"""Where the app may create virtual machines: ``ASR_ALLOWED_TARGET_SCOPES``, the fence around a plan's targets.

Vaults are allow-listed (``ASR_ALLOWED_VAULT_IDS``); without the same for targets, a plan could name a resource
group in any subscription the identity happens to reach. The setting lists subscriptions (``/subscriptions/<id>``)
and resource groups; a machine's ``target.resourceGroupId`` must be one of them or lie in one of the
subscriptions. An empty setting allows nothing, as for vaults. It is checked when a plan is submitted (every machine
outside is refused by path, nothing starts) and again by every runbook's validate stage (``migration.preflight``),
so a setting narrowed while a migration waits still stops it before anything is created. The template sets it to
the resource groups on which it grants the identity Virtual Machine Contributor (``infra/main.bicep``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["TARGET_SCOPES_SETTING", "target_allowed", "target_refusal", "target_scopes_from"]


TARGET_SCOPES_SETTING = "ASR_ALLOWED_TARGET_SCOPES"


def target_scopes_from(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The subscription and resource group ids of ``ASR_ALLOWED_TARGET_SCOPES``, lower case, each checked."""
    scopes: list[str] = []
    for position, raw in enumerate((environ.get(TARGET_SCOPES_SETTING) or "").split(",")):
        text = raw.strip().rstrip("/")
        if not text:
            continue
        parts = text.split("/")
        is_subscription = len(parts) == 3 and parts[1].lower() == "subscriptions" and parts[2]
        is_group = len(parts) == 5 and parts[1].lower() == "subscriptions" and parts[3].lower() == "resourcegroups"
        if parts[0] or not (is_subscription or (is_group and parts[2] and parts[4])):
            raise ValueError(
                f"{TARGET_SCOPES_SETTING}[{position}]: {text!r} is not /subscriptions/<id> or "
                "/subscriptions/<id>/resourceGroups/<name>"
            )
        scopes.append(text.lower())
    return tuple(scopes)


def target_allowed(scopes: Iterable[str], resource_group_id: str) -> bool:
    """Whether ``resource_group_id`` is one of ``scopes`` or lies in one of its subscriptions (ids are
    case-insensitive in ARM)."""
    group = resource_group_id.rstrip("/").lower()
    return any(group == scope or group.startswith(scope + "/resourcegroups/") for scope in scopes)


def target_refusal(resource_group_id: str) -> str:
    """The refusal of a target outside the scopes, in the words both checks use."""
    return f"resource group {resource_group_id} is outside {TARGET_SCOPES_SETTING}; the app may not create VMs there"
