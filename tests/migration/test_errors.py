"""The transient/permanent decision, Retry-After parsing, job failures and secret redaction."""

import json
from datetime import UTC, datetime

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError
from azure.core.pipeline.transport import HttpResponse
from azure.mgmt.core.exceptions import ARMErrorFormat
from hypothesis import given
from hypothesis import strategies as st

from migration.asr_errors import asr_error_from_exception
from migration.errors import (
    _TRANSIENT_CODES,
    AsrPermanentError,
    AsrTransientError,
    MigrationError,
    PlanValidationError,
    Problem,
    classify_asr_failure,
    error_from_failed_job,
    parse_retry_after,
    redact,
)


@pytest.mark.parametrize(
    ("status", "code", "message", "transient"),
    [
        (None, None, None, True),
        (429, "TooManyRequests", "throttled", True),
        (408, None, "timeout", True),
        (500, "InternalServerError", "boom", True),
        (503, None, "unavailable", True),
        (409, "RetryableErrorDueToAnotherOperation", "locked", True),
        (409, "Conflict", "Another operation is already in progress on the item.", True),
        (409, "ResourceExists", "The item is already protected.", False),
        (400, "InvalidParameter", "bad input", False),
        (400, "150261", "Replication policy creation failed.", False),
        (401, "AuthenticationFailed", "no", False),
        (404, "ResourceNotFound", "gone", False),
    ],
)
def test_classifies_failures(status, code, message, transient):
    error = classify_asr_failure(status, code, message, stage="enableReplication")
    assert error.transient is transient
    assert isinstance(error, AsrTransientError if transient else AsrPermanentError)
    assert error.stage == "enableReplication"
    assert error.status == status


def test_transient_error_carries_retry_after():
    error = classify_asr_failure(429, "TooManyRequests", "slow down", {"Retry-After": "17"})
    assert isinstance(error, AsrTransientError)
    assert error.retry_after == 17
    assert error.to_dict()["retryAfter"] == 17


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "30"}, 30.0),
        ({"retry-after": "0"}, None),
        ({"retry-after-ms": "1500", "Retry-After": "30"}, 1.5),
        ({"x-ms-retry-after-ms": "250"}, 0.25),
        ({"Retry-After": "Fri, 27 Nov 2026 07:00:10 GMT"}, 10.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_parses_retry_after(headers, expected):
    assert parse_retry_after(headers, now=datetime(2026, 11, 27, 7, 0, 0, tzinfo=UTC)) == expected


def test_failed_job_reports_asr_code_and_job_id():
    job = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/replicationJobs/j1",
        "properties": {
            "state": "Failed",
            "errors": [
                {
                    "serviceErrorDetails": {
                        "code": "28031",
                        "message": "Test failover failed.",
                        "recommendedAction": "Check the test network.",
                    }
                }
            ],
        },
    }
    error = error_from_failed_job(job, stage="testFailover")
    assert error.to_dict() == {
        "stage": "testFailover",
        "code": "28031",
        "message": "Test failover failed. (recommended action: Check the test network.)",
        "jobId": job["id"],
        "transient": False,
    }


def test_failed_job_falls_back_to_provider_code_then_state():
    with_provider = {"properties": {"errors": [{"providerErrorDetails": {"errorCode": 540, "errorMessage": "x"}}]}}
    assert error_from_failed_job(with_provider).code == "540"
    bare = {"properties": {"state": "Cancelled", "friendlyName": "Commit"}}
    error = error_from_failed_job(bare)
    assert error.code == "JobCancelled"
    assert "Commit ended in state Cancelled" in error.message


@pytest.mark.parametrize(
    "secret",
    [
        "https://x.logic.azure.com/workflows/1/triggers/manual?api-version=1&sp=%2F&sv=1.0&sig=AbCdEf123",
        "Endpoint=sb://ns/;SharedAccessKeyName=root;SharedAccessKey=c2VjcmV0",
        "Authorization: Bearer eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl",
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sflKxwRJSMeKKF2QT4fwpM",
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5==;",
    ],
)
def test_messages_never_carry_secrets(secret):
    error = AsrPermanentError(f"call failed: {secret}")
    text = json.dumps(error.to_dict())
    for fragment in ("AbCdEf123", "c2VjcmV0", "c2lnbmF0dXJl", "sflKxwRJSMeKKF2QT4fwpM", "a2V5"):
        assert fragment not in text
    assert "***" in text
    assert redact("nothing to hide") == "nothing to hide"


def test_plan_validation_error_lists_every_problem():
    problems = [Problem("id", "bad"), Problem("groups[0].name", "empty")]
    error = PlanValidationError(problems)
    assert isinstance(error, MigrationError)
    data = error.to_dict()
    assert data["code"] == "InvalidPlan"
    assert data["problems"] == [{"path": "id", "message": "bad"}, {"path": "groups[0].name", "message": "empty"}]
    assert "2 problems" in error.message


def _http_error(cls, status, body, headers=None):
    response = HttpResponse(None, None)  # type: ignore[arg-type]
    response.status_code = status
    response.headers = headers or {}
    response.reason = "reason"
    response.body = lambda: json.dumps(body).encode()  # type: ignore[method-assign]
    response.text = lambda encoding=None: json.dumps(body)  # type: ignore[method-assign]
    response.content_type = "application/json"
    return cls(response=response, error_format=ARMErrorFormat)


def test_maps_azure_core_exceptions():
    throttled = _http_error(
        HttpResponseError, 429, {"error": {"code": "TooManyRequests", "message": "slow"}}, {"Retry-After": "5"}
    )
    mapped = asr_error_from_exception(throttled, stage="s")
    assert isinstance(mapped, AsrTransientError)
    assert (mapped.code, mapped.retry_after, mapped.status) == ("TooManyRequests", 5.0, 429)

    missing = _http_error(ResourceNotFoundError, 404, {"error": {"code": "ResourceNotFound", "message": "no item"}})
    mapped = asr_error_from_exception(missing)
    assert isinstance(mapped, AsrPermanentError)
    assert (mapped.code, mapped.message) == ("ResourceNotFound", "no item")

    unreachable = asr_error_from_exception(ServiceRequestError("connection refused"))
    assert isinstance(unreachable, AsrTransientError)
    assert unreachable.code == "ConnectionError"


@given(
    status=st.one_of(st.none(), st.integers(min_value=400, max_value=599)),
    code=st.one_of(st.none(), st.text(max_size=40)),
    message=st.one_of(st.none(), st.text(max_size=80)),
)
def test_classification_is_total_and_consistent(status, code, message):
    error = classify_asr_failure(status, code, message)
    assert error.to_dict()["transient"] is error.transient
    if status is None or status >= 500 or status in (408, 429):
        assert error.transient
    elif status != 409:
        # Outside conflicts, only the known throttling/busy codes make a 4xx transient.
        assert error.transient is ((code or "").lower() in _TRANSIENT_CODES)
    assert error.message
