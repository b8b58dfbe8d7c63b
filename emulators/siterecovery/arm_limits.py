"""Azure Resource Manager's per-subscription request limits: token buckets per operation type.

ARM throttles before a request reaches the resource provider. Since 2024 the limits are token
buckets (source: learn.microsoft.com, "Understand how Azure Resource Manager throttles requests",
``azure-resource-manager/management/request-limits-and-throttling``, section on regional
throttling and the token bucket algorithm). The facts this module reproduces:

- per subscription, per service principal and per operation type (reads, writes, deletes); the
  emulator has one principal, so a bucket is keyed by (subscription id, operation type);
- reads: bucket of 250 tokens refilled at 25 per second; writes and deletes: 200 refilled at 10;
  every request takes one token, a bucket never holds more than its size;
- an empty bucket answers **429** with ``Retry-After`` (seconds to wait); ARM's body then carries
  the error code ``SubscriptionRequestsThrottled`` naming the operation type, the subscription and
  the principal (learn.microsoft.com, AKS troubleshooting article "TooManyRequestsReceived or
  SubscriptionRequestsThrottled error code", and bodies captured from ARM);
- answers carry the remaining count in ``x-ms-ratelimit-remaining-subscription-reads``,
  ``-writes`` or ``-deletes`` (the same article's "remaining requests" section; the deletes header
  appears in recorded ARM DELETE responses).

Not modelled: the global per-subscription limit (15 times one principal's, only reachable with
several principals), tenant-level limits, and resource-provider limits.

Which clock refills the buckets, and why both exist:

- ``clock: simulated`` refills on the emulator's :class:`~emulators.siterecovery.clock.SimClock`
  (``clock.seconds()``). With ``speed`` s simulated per wall second the buckets refill ``speed``
  times faster per wall second. That is faithful to the orchestrator's cadence as simulated (a
  poll every 30 simulated seconds costs what it would cost in Azure) but hides bursts caused by
  how fast the orchestrator processes: a burst that takes a tenth of a wall second is spread over
  ``speed``/10 simulated seconds of refill. ``Retry-After`` is the simulated wait converted to wall
  seconds with the clock's speed, as for job polls (a frozen clock never refills on its own: the
  figure is then the simulated wait itself).
- ``clock: wall`` (the default) refills on real time. Hours of polling compressed into minutes
  then meet Azure's per-second budget unscaled, so the limits are stricter than Azure's: the
  conservative test of whether the orchestrator survives throttling.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emulators.siterecovery.clock import SimClock

OperationType = Literal["reads", "writes", "deletes"]
OPERATION_TYPES: tuple[OperationType, ...] = ("reads", "writes", "deletes")
HEADER_PREFIX = "x-ms-ratelimit-remaining-subscription-"
THROTTLED_CODE = "SubscriptionRequestsThrottled"
PRINCIPAL = "emulator-principal"  # the one service principal every request is attributed to

_WRITE_METHODS = frozenset({"PUT", "POST", "PATCH"})


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class BucketSpec(_Settings):
    """One operation type's bucket: its size and how many tokens come back per second."""

    bucket: int = Field(ge=1, strict=True, description="tokens when full (the largest burst)")
    refill_per_second: float = Field(
        alias="refillPerSecond",
        gt=0,
        allow_inf_nan=False,
        description="tokens added per second of the limiter's clock",
    )


def _reads() -> BucketSpec:
    return BucketSpec(bucket=250, refillPerSecond=25.0)


def _writes() -> BucketSpec:
    return BucketSpec(bucket=200, refillPerSecond=10.0)


def _deletes() -> BucketSpec:
    return BucketSpec(bucket=200, refillPerSecond=10.0)


class ArmLimits(_Settings):
    """The limiter's settings; the defaults are ARM's documented subscription limits (see module doc)."""

    reads: BucketSpec = Field(default_factory=_reads)
    writes: BucketSpec = Field(default_factory=_writes)
    deletes: BucketSpec = Field(default_factory=_deletes)
    clock: Literal["wall", "simulated"] = "wall"

    def spec(self, kind: OperationType) -> BucketSpec:
        return {"reads": self.reads, "writes": self.writes, "deletes": self.deletes}[kind]


class ArmLimitsError(ValueError):
    """Settings that cannot be used; ``problems`` lists ``path: message`` strings."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid armLimits:\n  " + "\n  ".join(problems))
        self.problems = problems


def parse_arm_limits(data: Any) -> ArmLimits:
    """Validate settings given as a decoded document (or pass an :class:`ArmLimits` through).

    Raises :class:`ArmLimitsError` naming the path of every bad field (``reads.refillPerSecond: ...``).
    """
    if isinstance(data, ArmLimits):
        return data
    try:
        return ArmLimits.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()]
        raise ArmLimitsError(problems) from None


def operation_type(method: str) -> OperationType:
    """ARM's operation type of an HTTP method: PUT/POST/PATCH write, DELETE deletes, the rest reads."""
    upper = method.upper()
    if upper in _WRITE_METHODS:
        return "writes"
    if upper == "DELETE":
        return "deletes"
    return "reads"


@dataclass(frozen=True)
class Decision:
    """The limiter's answer for one request."""

    allowed: bool
    operation_type: OperationType
    remaining: int  # whole tokens left after this request (what the header reports)
    retry_after: int | None = None  # wall seconds until one token is available; set when refused

    @property
    def header(self) -> str:
        return HEADER_PREFIX + self.operation_type

    def message(self, subscription_id: str) -> str:
        """ARM's wording shape for a refused request: the type, the subscription, the principal, the wait."""
        kind = self.operation_type.removesuffix("s")
        return (
            f"Number of '{kind}' requests for subscription '{subscription_id}' actor '{PRINCIPAL}' exceeded. "
            f"Please try again after '{self.retry_after}' seconds."
        )


@dataclass
class _Bucket:
    tokens: float
    last: float
    allowed: int = 0
    throttled: int = 0
    lowest_remaining: int = 0


class ArmLimiter:
    """Token buckets keyed by (subscription id, operation type); thread-safe; off until configured.

    ``wall`` is the real-time source for ``clock: wall`` (injectable so the arithmetic can be tested
    without sleeping). Subscription ids are compared case-insensitively, as ARM does, and reported
    in lower case.
    """

    def __init__(
        self,
        clock: SimClock,
        settings: ArmLimits | None = None,
        *,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._settings: ArmLimits | None = settings
        self._buckets: dict[tuple[str, OperationType], _Bucket] = {}

    @property
    def settings(self) -> ArmLimits | None:
        with self._lock:
            return self._settings

    @property
    def enabled(self) -> bool:
        return self.settings is not None

    def configure(self, settings: ArmLimits | None) -> None:
        """Switch the limits on with ``settings`` (fresh, full buckets and fresh stats) or off (None)."""
        with self._lock:
            self._settings = settings
            self._buckets.clear()

    def _now(self, settings: ArmLimits) -> float:
        return self._clock.seconds() if settings.clock == "simulated" else self._wall()

    def _refilled(self, key: tuple[str, OperationType], spec: BucketSpec, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(spec.bucket), now, lowest_remaining=spec.bucket)
            self._buckets[key] = bucket
            return bucket
        elapsed = max(0.0, now - bucket.last)
        bucket.tokens = min(float(spec.bucket), bucket.tokens + elapsed * spec.refill_per_second)
        bucket.last = max(bucket.last, now)
        return bucket

    def _retry_after(self, settings: ArmLimits, wait: float) -> int:
        """Whole wall seconds (at least 1) for ``wait`` seconds of the limiter's clock."""
        if settings.clock == "simulated":
            wall = self._clock.wall_seconds_for(wait)
            wait = wait if math.isinf(wall) else wall
        return max(1, math.ceil(wait - 1e-9))

    def take(self, subscription_id: str, method: str) -> Decision | None:
        """Take one token for a request, or refuse it (taking nothing). None while the limits are off."""
        kind = operation_type(method)
        with self._lock:
            settings = self._settings
            if settings is None:
                return None
            spec = settings.spec(kind)
            bucket = self._refilled((subscription_id.lower(), kind), spec, self._now(settings))
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                bucket.allowed += 1
                remaining = math.floor(bucket.tokens)
                bucket.lowest_remaining = min(bucket.lowest_remaining, remaining)
                return Decision(True, kind, remaining)
            bucket.throttled += 1
            bucket.lowest_remaining = 0
            wait = (1.0 - bucket.tokens) / spec.refill_per_second
            return Decision(False, kind, 0, self._retry_after(settings, wait))

    def stats(self) -> dict[str, Any]:
        """``{"enabled", "settings", "subscriptions": {sub: {type: {"allowed", "throttled",
        "lowestRemaining", "remaining"}}}}``; a subscription lists the types it has used."""
        with self._lock:
            settings = self._settings
            out: dict[str, Any] = {
                "enabled": settings is not None,
                "settings": settings.model_dump(by_alias=True) if settings is not None else None,
                "subscriptions": {},
            }
            if settings is None:
                return out
            now = self._now(settings)
            subs: dict[str, dict[str, Any]] = out["subscriptions"]
            for (sub, kind), _ in sorted(self._buckets.items()):
                bucket = self._refilled((sub, kind), settings.spec(kind), now)
                subs.setdefault(sub, {})[kind] = {
                    "allowed": bucket.allowed,
                    "throttled": bucket.throttled,
                    "lowestRemaining": bucket.lowest_remaining,
                    "remaining": math.floor(bucket.tokens),
                }
            return out
