"""Arbitrary requests to the management API and the HTTP triggers never crash the host.

Every reply is one of the extension's documented statuses with a JSON (or empty) body, the host keeps
serving, and whatever the requests started still replays consistently (checked at teardown).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.emulators.functions.conftest import http

WORDS = ["orchestrators", "instances", "raiseEvent", "terminate", "suspend", "resume", "restart", "rewind"]
NAMES = ["sequence", "long_wait", "nope", "", "@x", "a" * 300]
segment = st.one_of(st.sampled_from(WORDS + NAMES), st.text(min_size=0, max_size=12))
params = st.dictionaries(
    st.sampled_from(
        [
            "showHistory",
            "showInput",
            "top",
            "runtimeStatus",
            "createdTimeFrom",
            "timeout",
            "reason",
            "x",
            "pollingInterval",
        ]
    ),
    st.text(max_size=10),
    max_size=3,
)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda t: t.encode("utf-8")),
    st.from_type(int).map(lambda n: json.dumps(n).encode()),
    st.just(b'"\\"just a string\\""'),
)
ALLOWED = {200, 202, 204, 400, 401, 404, 405, 410, 501}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH"]),
    segments=st.lists(segment, min_size=0, max_size=4),
    query=params,
    body=bodies,
    content_type=st.sampled_from(["application/json", "text/plain", ""]),
)
def test_arbitrary_management_requests_get_documented_answers(durable, method, segments, query, body, content_type):
    path = "/".join(quote(s, safe="") for s in segments)
    qs = "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
    url = f"{durable.base_url}/runtime/webhooks/durabletask/{path}?{qs}&code={durable.system_key}"
    headers = {"Content-Type": content_type} if content_type else {}
    reply = http(method, url, body, headers, timeout=60)
    if reply.status == 500:
        # The two 500s the extension gives on purpose: a duplicate running id, an invalid suspend/resume.
        assert any(t in reply.body for t in (b"OrchestrationAlreadyExists", b"InvalidOperation", b"runtimeStatus"))
    else:
        assert reply.status in ALLOWED, (method, url, reply.status, reply.body)
    if reply.body:
        json.loads(reply.body)
    assert http("GET", f"{durable.base_url}/admin/host/ping").status == 200


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    segments=st.lists(
        st.one_of(st.sampled_from(["start", "wait", "sequence", "nope"]), st.text(max_size=8)), max_size=3
    ),
    body=bodies,
)
def test_arbitrary_requests_to_the_app_routes_never_crash_the_host(durable, method, segments, body):
    path = "/".join(quote(s, safe="") for s in segments)
    reply = http(method, f"{durable.base_url}/api/{path}?code={durable.function_key}&timeout=50", body, {})
    assert reply.status in ALLOWED | {500}
    assert http("GET", f"{durable.base_url}/admin/host/ping").status == 200
