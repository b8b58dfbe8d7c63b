"""The one door to Azure Site Recovery: reads items and jobs, starts operations, and never waits on them.

Activities call this adapter; it is the only code that imports the Site Recovery SDK. Three choices shape it:

* **Start, don't wait.** Every mutating operation is begun with ``polling=False`` and returns the ASR job
  name taken from the 202's ``Location`` (``…/operationresults/{job}``) or ``Azure-AsyncOperation``
  (``…/replicationOperationStatus/{job}``) header, the way Azure PowerShell's ASR module finds it. The
  orchestrator then waits on the job with durable timers, so no process holds a poller for hours.
* **Raw JSON out.** Reads return the response body as the REST service sent it (camelCase, provider
  ``instanceType`` discriminators), which is what the scenario readers in ``migration.scenarios`` parse,
  and what results and events may quote. Nothing the SDK adds, such as tokens, is in it.
* **Refuse what isn't ours.** Every call checks the vault against the allow-list from the settings before
  anything is sent, so a plan naming another vault fails the same way everywhere.

Failures arrive as :class:`~migration.errors.AsrTransientError` (worth retrying later, with the server's
``Retry-After``) or :class:`~migration.errors.AsrPermanentError`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.core.pipeline import PipelineResponse
from azure.core.rest import HttpRequest
from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

from migration.arm_ids import InvalidResourceIdError, VaultRef, parse_resource_id
from migration.asr_errors import asr_error_from_exception, translated
from migration.errors import AsrPermanentError, parse_retry_after
from migration.scenarios.base import ItemAddress, ItemKind
from migration.target_scopes import target_allowed, target_scopes_from

__all__ = [
    "AsrSettings",
    "LocalEmulatorCredential",
    "SiteRecovery",
    "StartedOperation",
    "job_name_from_headers",
    "raw_json",
]

PUBLIC_ARM_ENDPOINT = "https://management.azure.com"
# Microsoft.OffAzure's stable api-version (VMwareSites, their machines and vCenters), as Az.Migrate reads them.
OFFAZURE_API_VERSION = "2020-01-01"
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class AsrSettings:
    """Where Site Recovery is and which vaults the app may touch, from the app settings.

    ``ASR_ARM_ENDPOINT``: ARM's base URL; Azure's public cloud when absent, the Site Recovery emulator's
    base URL locally. ``ASR_ALLOWED_VAULT_IDS``: comma-separated vault ids; a vault not listed is refused.
    ``ASR_ALLOWED_TARGET_SCOPES``: comma-separated subscription (``/subscriptions/<id>``) or resource group ids the
    app may create VMs in; a machine whose ``target.resourceGroupId`` lies outside every one is refused (the
    template sets it to the resource groups it grants the identity Virtual Machine Contributor on).
    ``ASR_CREDENTIAL``: ``default`` (``DefaultAzureCredential``: the managed identity in Azure) or
    ``local-emulator`` (a fixed token the emulator accepts); when absent, ``local-emulator`` for a loopback
    endpoint and ``default`` otherwise.
    """

    arm_endpoint: str
    allowed_vault_ids: frozenset[str]
    credential: str
    allowed_target_scopes: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> AsrSettings:
        endpoint = (environ.get("ASR_ARM_ENDPOINT") or PUBLIC_ARM_ENDPOINT).rstrip("/")
        split = urlsplit(endpoint)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ValueError(f"ASR_ARM_ENDPOINT: {endpoint!r} is not an http(s) URL")
        is_loopback = split.hostname in _LOOPBACK_HOSTS
        if split.scheme == "http" and not is_loopback:
            raise ValueError(f"ASR_ARM_ENDPOINT: plain http is allowed only on loopback, not {split.hostname}")
        credential = environ.get("ASR_CREDENTIAL") or ("local-emulator" if is_loopback else "default")
        if credential not in ("default", "local-emulator"):
            raise ValueError(f"ASR_CREDENTIAL: {credential!r} is not 'default' or 'local-emulator'")
        if credential == "local-emulator" and not is_loopback:
            raise ValueError("ASR_CREDENTIAL: 'local-emulator' only works with a loopback ASR_ARM_ENDPOINT")
        allowed: set[str] = set()
        for position, raw in enumerate((environ.get("ASR_ALLOWED_VAULT_IDS") or "").split(",")):
            text = raw.strip()
            if not text:
                continue
            try:
                vault = parse_resource_id(text)
            except InvalidResourceIdError as error:
                raise ValueError(f"ASR_ALLOWED_VAULT_IDS[{position}]: {error}") from None
            if vault.full_type.lower() != "microsoft.recoveryservices/vaults":
                raise ValueError(f"ASR_ALLOWED_VAULT_IDS[{position}]: {text!r} is not a Recovery Services vault id")
            allowed.add(str(vault).lower())
        return cls(endpoint, frozenset(allowed), credential, target_scopes_from(environ))

    @property
    def uses_plain_http(self) -> bool:
        return self.arm_endpoint.startswith("http://")

    def allows(self, vault: VaultRef) -> bool:
        return vault.id.lower() in self.allowed_vault_ids

    def allows_target(self, resource_group_id: str) -> bool:
        return target_allowed(self.allowed_target_scopes, resource_group_id)


class LocalEmulatorCredential:
    """A fixed bearer token for the local Site Recovery emulator, which accepts any token it is told to.

    Only :class:`AsrSettings` selects it, and only for a loopback endpoint, so it can never reach Azure.
    """

    TOKEN = "local-emulator-token"

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.TOKEN, 4_102_444_800)  # 2100-01-01: it never needs refreshing


@dataclass(frozen=True)
class StartedOperation:
    """What starting an operation tells us: the ASR job to watch and how soon to look."""

    job_name: str
    job_id: str
    retry_after_seconds: float | None

    def to_dict(self) -> JsonDict:
        return {"jobName": self.job_name, "jobId": self.job_id, "retryAfterSeconds": self.retry_after_seconds}


def job_name_from_headers(headers: Mapping[str, str]) -> str | None:
    """The ASR job name in a 202's ``Location`` (``…/operationresults/{job}``) or ``Azure-AsyncOperation``
    (``…/replicationOperationStatus/{job}``) header; ``None`` when neither carries one."""
    lowered = {key.lower(): value for key, value in headers.items()}
    for header, marker in (("location", "operationresults"), ("azure-asyncoperation", "replicationoperationstatus")):
        url = lowered.get(header)
        if not url:
            continue
        segments = [segment for segment in urlsplit(url).path.split("/") if segment]
        for index, segment in enumerate(segments[:-1]):
            if segment.lower() == marker:
                return segments[index + 1]
    return None


def _item_args(item: ItemAddress) -> tuple[str, str, str, str, str]:
    """The SDK's positional arguments for an item: resource group, vault, fabric, container, item."""
    return (item.vault.resource_group, item.vault.name, item.fabric, item.container, item.name)


def raw_json(pipeline_response: PipelineResponse[Any, Any], _deserialized: Any, _headers: Any) -> Any:
    """``cls`` hook: the body exactly as the service sent it, instead of the SDK's model."""
    return pipeline_response.http_response.json()


class SiteRecovery:
    """Site Recovery for the activities: one SDK client per subscription, shared across threads."""

    # The SDK retries 408/429/5xx itself; a few quick tries absorb blips, and what outlasts them is raised as
    # transient so the orchestrator waits on a durable timer rather than a thread sleeping in an activity.
    _RETRY: dict[str, Any] = {"retry_total": 2, "retry_backoff_factor": 0.5, "retry_backoff_max": 10}

    def __init__(self, settings: AsrSettings, credential: TokenCredential | None = None) -> None:
        self._settings = settings
        self._credential = credential
        self._clients: dict[str, SiteRecoveryManagementClient] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> AsrSettings:
        return self._settings

    def credential(self) -> TokenCredential:
        """The credential of every ARM call (the Compute adapter shares it): made once, on first use."""
        if self._credential is None:
            if self._settings.credential == "local-emulator":
                self._credential = LocalEmulatorCredential()
            else:
                from azure.identity import DefaultAzureCredential  # imported here: slow, and unused locally

                self._credential = DefaultAzureCredential()
        return self._credential

    def client(self, subscription_id: str) -> SiteRecoveryManagementClient:
        with self._lock:
            client = self._clients.get(subscription_id)
            if client is None:
                client = SiteRecoveryManagementClient(
                    self.credential(),
                    subscription_id,
                    base_url=self._settings.arm_endpoint,
                    **self._RETRY,
                )
                self._clients[subscription_id] = client
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    # -- plumbing ---------------------------------------------------------------------------------------

    def call_options(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for an SDK call under these settings (the Compute adapter's calls too)."""
        if self._settings.uses_plain_http:
            extra["enforce_https"] = False  # the emulator on loopback; bearer tokens stay on this machine
        return extra

    def check_vault(self, vault: VaultRef, stage: str | None) -> None:
        """Refuse a vault outside ``ASR_ALLOWED_VAULT_IDS`` before anything is sent to it."""
        if not self._settings.allows(vault):
            raise AsrPermanentError(
                f"vault {vault.id} is not in ASR_ALLOWED_VAULT_IDS; the app may not touch it",
                code="VaultNotAllowed",
                stage=stage,
            )

    def _read(self, vault: VaultRef, stage: str | None, call: Callable[..., Any], *args: Any) -> JsonDict:
        self.check_vault(vault, stage)
        with translated(stage):
            body: JsonDict = call(*args, **self.call_options(cls=raw_json))
            return body

    def _read_or_none(
        self, vault: VaultRef, stage: str | None, call: Callable[..., Any], *args: Any
    ) -> JsonDict | None:
        self.check_vault(vault, stage)
        try:
            body: JsonDict = call(*args, **self.call_options(cls=raw_json))
        except ResourceNotFoundError:
            return None
        except AzureError as error:
            raise asr_error_from_exception(error, stage=stage) from None
        return body

    def _start(
        self, vault: VaultRef, stage: str | None, begin: Callable[..., Any], *args: Any, **options: Any
    ) -> StartedOperation:
        self.check_vault(vault, stage)
        captured: dict[str, str] = {}

        def keep_headers(response: PipelineResponse[Any, Any]) -> None:
            captured.clear()
            captured.update(response.http_response.headers)

        with translated(stage):
            begin(*args, **self.call_options(polling=False, raw_response_hook=keep_headers, **options))
        job_name = job_name_from_headers(captured)
        if job_name is None:
            raise AsrPermanentError(
                "Site Recovery accepted the operation but named no job in Location or Azure-AsyncOperation",
                code="NoJobInResponse",
                stage=stage,
            )
        return StartedOperation(job_name, vault.job_id(job_name), parse_retry_after(captured))

    # -- reads ------------------------------------------------------------------------------------------

    def get_protected_item(self, item: ItemAddress, *, stage: str | None = None) -> JsonDict | None:
        """The item's JSON (a protected or a migration item, as its address says), or ``None`` when it does not
        exist (404)."""
        client = self.client(item.vault.subscription_id)
        ops: Any = client.replication_migration_items if _migration(item) else client.replication_protected_items
        return self._read_or_none(item.vault, stage, ops.get, *_item_args(item))

    def get_discovery_resource(self, vault: VaultRef, resource_id: str, *, stage: str | None = None) -> JsonDict | None:
        """An Azure Migrate discovery resource (``Microsoft.OffAzure/VMwareSites/...``: a machine, a vCenter), or
        ``None`` when it does not exist. Read with the vault's client and credential, at ARM's own endpoint: the
        path is rebuilt from the parsed id, so a crafted id cannot point the request anywhere else."""
        self.check_vault(vault, stage)
        try:
            parsed = parse_resource_id(resource_id)
        except InvalidResourceIdError as error:
            message = f"{resource_id!r} is not an ARM id: {error}"
            raise AsrPermanentError(message, code="InvalidResourceId", stage=stage) from None
        if (parsed.namespace or "").lower() != "microsoft.offazure":
            raise AsrPermanentError(
                f"{resource_id} is not an Azure Migrate discovery resource", code="InvalidResourceId", stage=stage
            )
        request = HttpRequest("GET", f"{self._settings.arm_endpoint}{parsed}?api-version={OFFAZURE_API_VERSION}")
        client = self.client(parsed.subscription_id or vault.subscription_id)
        with translated(stage):
            response = client.send_request(request, **self.call_options())
            if response.status_code == 404:
                return None
            response.raise_for_status()
            body: JsonDict = response.json()
            return body

    def get_protectable_item(
        self, vault: VaultRef, fabric: str, container: str, name: str, *, stage: str | None = None
    ) -> JsonDict | None:
        ops = self.client(vault.subscription_id).replication_protectable_items
        return self._read_or_none(vault, stage, ops.get, vault.resource_group, vault.name, fabric, container, name)

    def get_fabric(self, vault: VaultRef, fabric: str, *, stage: str | None = None) -> JsonDict | None:
        ops = self.client(vault.subscription_id).replication_fabrics
        return self._read_or_none(vault, stage, ops.get, vault.resource_group, vault.name, fabric)

    def get_container(
        self, vault: VaultRef, fabric: str, container: str, *, stage: str | None = None
    ) -> JsonDict | None:
        ops = self.client(vault.subscription_id).replication_protection_containers
        return self._read_or_none(vault, stage, ops.get, vault.resource_group, vault.name, fabric, container)

    def get_policy(self, vault: VaultRef, policy: str, *, stage: str | None = None) -> JsonDict | None:
        ops = self.client(vault.subscription_id).replication_policies
        return self._read_or_none(vault, stage, ops.get, vault.resource_group, vault.name, policy)

    def get_container_mapping(
        self, vault: VaultRef, fabric: str, container: str, mapping: str, *, stage: str | None = None
    ) -> JsonDict | None:
        ops = self.client(vault.subscription_id).replication_protection_container_mappings
        return self._read_or_none(vault, stage, ops.get, vault.resource_group, vault.name, fabric, container, mapping)

    def get_job(self, vault: VaultRef, job_name: str, *, stage: str | None = None) -> JsonDict:
        ops = self.client(vault.subscription_id).replication_jobs
        return self._read(vault, stage, ops.get, vault.resource_group, vault.name, job_name)

    def list_recovery_points(self, item: ItemAddress, *, stage: str | None = None) -> list[JsonDict]:
        """Every recovery point of the item (all pages) in the service's order: a protected item's recovery points
        or a migration item's migration recovery points."""
        self.check_vault(item.vault, stage)
        client = self.client(item.vault.subscription_id)
        with translated(stage):
            if _migration(item):
                pages: Any = client.migration_recovery_points.list_by_replication_migration_items(
                    *_item_args(item), **self.call_options()
                )
            else:
                pages = client.recovery_points.list_by_replication_protected_items(
                    *_item_args(item), **self.call_options()
                )
            return [point.as_dict() if hasattr(point, "as_dict") else dict(point) for point in pages]

    # -- operations (each returns at once with the job to watch) ------------------------------------------

    def start_enable_replication(
        self, item: ItemAddress, body: JsonDict, *, stage: str | None = None
    ) -> StartedOperation:
        """Enable replication (a protected item's create) or enable migration (a migration item's)."""
        client = self.client(item.vault.subscription_id)
        ops: Any = client.replication_migration_items if _migration(item) else client.replication_protected_items
        return self._start(item.vault, stage, ops.begin_create, *_item_args(item), body)

    def start_test_failover(self, item: ItemAddress, body: JsonDict, *, stage: str | None = None) -> StartedOperation:
        """Test failover, or a migration item's test migrate."""
        if _migration(item):
            ops = self.client(item.vault.subscription_id).replication_migration_items
            return self._start(item.vault, stage, ops.begin_test_migrate, *_item_args(item), body)
        protected = self.client(item.vault.subscription_id).replication_protected_items
        return self._start(item.vault, stage, protected.begin_test_failover, *_item_args(item), body)

    def start_test_failover_cleanup(
        self, item: ItemAddress, body: JsonDict, *, stage: str | None = None
    ) -> StartedOperation:
        """Test failover cleanup, or a migration item's test migrate cleanup."""
        if _migration(item):
            ops = self.client(item.vault.subscription_id).replication_migration_items
            return self._start(item.vault, stage, ops.begin_test_migrate_cleanup, *_item_args(item), body)
        protected = self.client(item.vault.subscription_id).replication_protected_items
        return self._start(item.vault, stage, protected.begin_test_failover_cleanup, *_item_args(item), body)

    def start_unplanned_failover(
        self, item: ItemAddress, body: JsonDict, *, stage: str | None = None
    ) -> StartedOperation:
        """Unplanned failover, or a migration item's migrate."""
        if _migration(item):
            ops = self.client(item.vault.subscription_id).replication_migration_items
            return self._start(item.vault, stage, ops.begin_migrate, *_item_args(item), body)
        protected = self.client(item.vault.subscription_id).replication_protected_items
        return self._start(item.vault, stage, protected.begin_unplanned_failover, *_item_args(item), body)

    def start_failover_commit(self, item: ItemAddress, *, stage: str | None = None) -> StartedOperation:
        if _migration(item):
            raise AsrPermanentError("a migration item has no failover to commit", code="NoCommit", stage=stage)
        ops = self.client(item.vault.subscription_id).replication_protected_items
        return self._start(item.vault, stage, ops.begin_failover_commit, *_item_args(item))

    def start_disable_protection(
        self, item: ItemAddress, body: JsonDict, *, stage: str | None = None
    ) -> StartedOperation:
        """``POST …/remove``: disable protection, with ``MigrationComplete`` after a migration; for a migration item,
        ``DELETE`` (stop replicating; ``body`` may carry its one input, ``deleteOption``)."""
        if _migration(item):
            ops = self.client(item.vault.subscription_id).replication_migration_items
            option = body.get("deleteOption")
            return self._start(item.vault, stage, ops.begin_delete, *_item_args(item), delete_option=option)
        protected = self.client(item.vault.subscription_id).replication_protected_items
        return self._start(item.vault, stage, protected.begin_delete, *_item_args(item), body)

    def start_resync(self, item: ItemAddress, body: JsonDict, *, stage: str | None = None) -> StartedOperation:
        """A migration item's resynchronization."""
        ops = self._migration_ops(item, stage)
        return self._start(item.vault, stage, ops.begin_resync, *_item_args(item), body)

    def start_pause_replication(
        self, item: ItemAddress, body: JsonDict, *, stage: str | None = None
    ) -> StartedOperation:
        ops = self._migration_ops(item, stage)
        return self._start(item.vault, stage, ops.begin_pause_replication, *_item_args(item), body)

    def start_resume_replication(
        self, item: ItemAddress, body: JsonDict, *, stage: str | None = None
    ) -> StartedOperation:
        ops = self._migration_ops(item, stage)
        return self._start(item.vault, stage, ops.begin_resume_replication, *_item_args(item), body)

    def _migration_ops(self, item: ItemAddress, stage: str | None) -> Any:
        if not _migration(item):
            raise AsrPermanentError(
                "only migration items (agentless VMware) resync, pause and resume",
                code="NotAMigrationItem",
                stage=stage,
            )
        return self.client(item.vault.subscription_id).replication_migration_items


def _migration(item: ItemAddress) -> bool:
    return item.kind is ItemKind.MIGRATION
