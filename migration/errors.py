"""The errors a migration can meet, and the one place that decides which are worth retrying.

::

    MigrationError                  base: carries a stage and a code, serializes to a small JSON dict
    ├── PlanValidationError         the plan is refused before anything starts; .problems lists every
    │                               problem as {path, message}
    └── AsrError                    Site Recovery did not do what was asked
        ├── AsrTransientError       try again later: 429 (with Retry-After), 408, 5xx, connection
        │                           errors, "another operation is in progress" conflicts; .retry_after
        └── AsrPermanentError       retrying will not help: validation, not found, a failed ASR job
                                    (with the job's error code and .job_id)

Durable Functions has no "non-retryable" error type, so activities raise only the
transient kind (the retry policy then applies) and *return* permanent failures as a
result; :func:`error_record` is that result's shape, the one every result, status and event carries
(orchestrators build it too, for failures no activity reported). Messages pass through
:func:`redact` so a SAS signature or bearer token echoed by a service never reaches a
status page, an event or a log.

:func:`classify_asr_failure` needs no SDK: it takes what any HTTP client exposes (status,
ARM error code, message, headers). ``migration.asr_errors`` maps ``azure.core`` exceptions
onto it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = [
    "MigrationError",
    "PlanValidationError",
    "Problem",
    "AsrError",
    "AsrTransientError",
    "AsrPermanentError",
    "classify_asr_failure",
    "error_from_failed_job",
    "error_record",
    "parse_retry_after",
    "redact",
    "redact_all",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a plan: where (``groups[0].machines[3].target.networkId``) and why."""

    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


_SECRET_PATTERNS = [
    # SAS signatures and keys in query strings or connection strings.
    (re.compile(r"(?i)\b(sig|signature|se|skoid|sktid|code|access_token|refresh_token)=([^&\s\"';]+)"), r"\1=***"),
    (
        re.compile(r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|Password|ClientSecret)=([^;\s\"']+)"),
        r"\1=***",
    ),
    (re.compile(r"(?i)\bBearer\s+[A-Za-z0-9\-._~+/]+=*"), "Bearer ***"),
    # Bare JWTs (three base64url parts, the first one starting like '{"').
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"), "***"),
]


def redact(text: str) -> str:
    """``text`` with tokens, SAS signatures, keys and passwords replaced by ``***``."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def error_record(
    stage: str | None, code: str, message: str, job_id: str | None = None, *, transient: bool = False
) -> dict[str, Any]:
    """``{stage, code, message, jobId, transient}``: the error of a failed stage, as results and events carry it.

    Built here alone, so the activities' errors (:meth:`MigrationError.to_dict`) and the ones orchestrators
    record themselves (a job that timed out, retries that ran out) can never drift apart in shape.
    """
    return {"stage": stage, "code": code, "message": message, "jobId": job_id, "transient": transient}


def redact_all(value: Any) -> Any:
    """``value`` (JSON-like) with :func:`redact` applied to every string in it, however deep.

    Documents and events quote ASR messages, URLs and command reasons, any of which may carry a secret; they pass
    through this once, just before they leave the app.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_all(item) for item in value]
    if isinstance(value, dict):
        return {key: redact_all(item) for key, item in value.items()}
    return value


class MigrationError(Exception):
    """Base of every error the domain raises; ``to_dict`` is what results and events carry."""

    transient = False
    default_code = "MigrationError"

    def __init__(
        self, message: str, *, code: str | None = None, stage: str | None = None, job_id: str | None = None
    ) -> None:
        self.message = redact(message)
        self.code = code or self.default_code
        self.stage = stage
        self.job_id = job_id
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """:func:`error_record` of this error: small, JSON-ready, free of secrets."""
        return error_record(self.stage, self.code, self.message, self.job_id, transient=self.transient)


class PlanValidationError(MigrationError):
    """The plan was refused; ``problems`` lists every problem found, each with its path."""

    default_code = "InvalidPlan"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        listing = "; ".join(str(p) for p in self.problems[:20])
        more = f"; and {count - 20} more" if count > 20 else ""
        super().__init__(f"the plan has {count} problem{'s' if count != 1 else ''}: {listing}{more}", stage="validate")

    def to_dict(self) -> dict[str, Any]:
        result = super().to_dict()
        result["problems"] = [p.to_dict() for p in self.problems]
        return result


class AsrError(MigrationError):
    """Site Recovery refused a call, failed a job or could not be reached."""

    default_code = "AsrError"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        stage: str | None = None,
        job_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, code=code, stage=stage, job_id=job_id)
        self.status = status


class AsrTransientError(AsrError):
    """Worth retrying; ``retry_after`` (seconds) is what ASR asked for, when it said."""

    transient = True
    default_code = "AsrTransient"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        stage: str | None = None,
        job_id: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, stage=stage, job_id=job_id, status=status)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        result = super().to_dict()
        result["retryAfter"] = self.retry_after
        return result


class AsrPermanentError(AsrError):
    """Retrying will not help: the request is wrong, the resource is missing, or the ASR job failed."""

    default_code = "AsrPermanent"


# Statuses Azure's own retry policy treats as transient (azure-core RetryPolicy: 408, 429, 500, 502, 503, 504);
# every other 5xx is a server-side failure too.
_TRANSIENT_STATUSES = frozenset({408, 429})
# ARM: "RetryableErrorDueToAnotherOperation ... when the target resource is locked by another operation"
# (request-limits-and-throttling.md); the others are ARM/ASR throttling and busy codes.
_TRANSIENT_CODES = frozenset(
    code.lower()
    for code in (
        "RetryableErrorDueToAnotherOperation",
        "AnotherOperationInProgress",
        "OperationInProgress",
        "Conflict.AnotherOperationInProgress",
        "TooManyRequests",
        "ServerBusy",
        "ServiceUnavailable",
        "InternalServerError",
        "GatewayTimeout",
        "RequestTimeout",
    )
)
_ANOTHER_OPERATION = re.compile(r"(?i)another (operation|job|request)\b.*\b(in progress|running|pending)")


def parse_retry_after(headers: Mapping[str, str] | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait, from ``retry-after-ms``, ``x-ms-retry-after-ms`` or ``Retry-After`` (seconds or HTTP date).

    The same headers, in the same order, that azure-core's polling reads; 0 or negative
    counts as absent. ``now`` is only needed for the HTTP-date form (defaults to the clock).
    """
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = lowered.get(name)
        if value is not None:
            try:
                millis = float(value)
            except ValueError:
                continue
            if millis > 0:
                return millis / 1000.0
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return seconds if seconds > 0 else None


def classify_asr_failure(
    status: int | None,
    code: str | None,
    message: str | None,
    headers: Mapping[str, str] | None = None,
    *,
    stage: str | None = None,
    job_id: str | None = None,
) -> AsrError:
    """Decide whether a failed ASR call is worth retrying, and say why.

    ``status`` is None when no response arrived at all (connection refused, reset, DNS,
    timeout): those are transient. So are 408, 429, every 5xx, and conflicts that say
    another operation holds the item. Everything else (400 validation, 401/403, 404, other
    409s) is permanent.
    """
    text = message or (f"HTTP {status}" if status is not None else "no response from Site Recovery")
    retry_after = parse_retry_after(headers)
    lowered_code = (code or "").lower()
    transient = (
        status is None
        or status in _TRANSIENT_STATUSES
        or status >= 500
        or lowered_code in _TRANSIENT_CODES
        or (status == 409 and bool(_ANOTHER_OPERATION.search(text)))
    )
    if transient:
        return AsrTransientError(
            text,
            code=code or (f"Http{status}" if status is not None else "ConnectionError"),
            stage=stage,
            job_id=job_id,
            status=status,
            retry_after=retry_after,
        )
    return AsrPermanentError(
        text, code=code or (f"Http{status}" if status is not None else None), stage=stage, job_id=job_id, status=status
    )


def error_from_failed_job(job: Mapping[str, Any], *, stage: str | None = None) -> AsrPermanentError:
    """The permanent error a failed ASR job reports (``Job.properties.errors[]``, REST shape).

    ASR puts its own code in ``serviceErrorDetails.code`` and the provider's (often numeric)
    one in ``providerErrorDetails.errorCode``; the first error that has either wins.
    """
    properties = job.get("properties") or {}
    job_id = job.get("id") if isinstance(job.get("id"), str) else None
    state = properties.get("state") or "Failed"
    for error in properties.get("errors") or []:
        service = error.get("serviceErrorDetails") or {}
        provider = error.get("providerErrorDetails") or {}
        code = service.get("code") or (str(provider["errorCode"]) if provider.get("errorCode") is not None else None)
        message = service.get("message") or provider.get("errorMessage")
        if code or message:
            hint = service.get("recommendedAction") or provider.get("recommendedAction")
            text = f"{message or 'the job failed'}" + (f" (recommended action: {hint})" if hint else "")
            return AsrPermanentError(text, code=code or "JobFailed", stage=stage, job_id=job_id)
    name = properties.get("friendlyName") or properties.get("scenarioName") or "the ASR job"
    return AsrPermanentError(f"{name} ended in state {state}", code=f"Job{state}", stage=stage, job_id=job_id)
