"""How a client connects: the real ``SiteRecoveryManagementClient`` pointed at the emulator.

Plain ``http://`` and a bearer token do not mix in azure-core: the bearer policy refuses non-TLS
URLs unless each call passes ``enforce_https=False``. So by default the client is built with a
no-op ``authentication_policy`` (no ``Authorization`` header at all); with ``send_token=True`` it
keeps the bearer policy and sets ``enforce_https=False`` on every call, which the LRO polls inherit.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient


class StaticTokenCredential(TokenCredential):
    """A credential that always returns the same token (the emulator does not check signatures)."""

    def __init__(self, token: str = "emulator-token") -> None:
        self._token = token

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


class _AllowHttpPolicy(SansIOHTTPPolicy[Any, Any]):
    """Marks every request as allowed over plain http for the bearer-token policy."""

    def on_request(self, request: PipelineRequest[Any]) -> None:
        request.context.options.setdefault("enforce_https", False)
        request.context["enforce_https"] = False


def emulator_client(
    base_url: str,
    subscription_id: str,
    *,
    send_token: bool = False,
    token: str = "emulator-token",
    polling_interval: float = 0,
    **kwargs: Any,
) -> SiteRecoveryManagementClient:
    """A ``SiteRecoveryManagementClient`` for the emulator at ``base_url``.

    ``polling_interval=0`` makes LRO polls immediate when the emulator answers ``Retry-After: 0``
    (its answer whenever the simulated 30 s is under one wall second).
    """
    credential = StaticTokenCredential(token)
    if send_token:
        return SiteRecoveryManagementClient(
            credential,
            subscription_id,
            base_url=base_url,
            polling_interval=polling_interval,
            per_call_policies=[_AllowHttpPolicy()],
            **kwargs,
        )
    return SiteRecoveryManagementClient(
        credential,
        subscription_id,
        base_url=base_url,
        polling_interval=polling_interval,
        authentication_policy=SansIOHTTPPolicy(),
        **kwargs,
    )


def emulator_compute_client(
    base_url: str, subscription_id: str, *, polling_interval: float = 0, **kwargs: Any
) -> ComputeManagementClient:
    """A ``ComputeManagementClient`` for the emulator's ``Microsoft.Compute`` (no ``Authorization`` header, as
    :func:`emulator_client` builds it by default)."""
    return ComputeManagementClient(
        StaticTokenCredential(),
        subscription_id,
        base_url=base_url,
        polling_interval=polling_interval,
        authentication_policy=SansIOHTTPPolicy(),
        **kwargs,
    )
