"""Map ``azure.core`` exceptions onto the domain's transient / permanent ASR errors.

Kept apart from :mod:`migration.errors` so that module stays free of any Azure import;
this one needs azure-core only (never azure.functions). The decision itself is
:func:`migration.errors.classify_asr_failure`; this module only extracts its inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from migration.errors import AsrError, AsrTransientError, classify_asr_failure

__all__ = ["asr_error_from_exception", "translated"]


def _headers(error: HttpResponseError) -> Mapping[str, str]:
    # The response's static type (azure-core's common response API) does not declare headers.
    headers = getattr(error.response, "headers", None)
    if not isinstance(headers, Mapping):
        return {}
    return {str(key): str(value) for key, value in headers.items()}


def asr_error_from_exception(error: AzureError, *, stage: str | None = None, job_id: str | None = None) -> AsrError:
    """The domain error for an SDK failure.

    No response at all (``ServiceRequestError``: connection refused, DNS, TLS; or
    ``ServiceResponseError``: the connection dropped mid-answer) is transient. An HTTP
    error is classified by status, ARM error code (``e.error.code``, parsed by the SDK
    with ARMErrorFormat), message and headers (``Retry-After``).
    """
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return AsrTransientError(
            f"Site Recovery could not be reached: {error.message}",
            code="ConnectionError",
            stage=stage,
            job_id=job_id,
        )
    if isinstance(error, HttpResponseError):
        code = error.error.code if error.error is not None else None
        message = error.error.message if error.error is not None and error.error.message else error.message
        return classify_asr_failure(error.status_code, code, message, _headers(error), stage=stage, job_id=job_id)
    return classify_asr_failure(None, type(error).__name__, error.message, None, stage=stage, job_id=job_id)


@contextmanager
def translated(stage: str | None) -> Iterator[None]:
    """Every SDK failure inside the block raised as the app's transient or permanent error, for ``stage``."""
    try:
        yield
    except AzureError as error:
        raise asr_error_from_exception(error, stage=stage) from None
