"""Scripted answers for replay tests: activities and sub-orchestrations answered from queues, in their shapes."""

from __future__ import annotations

from typing import Any

VAULT = "/Subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"


def read(view: dict[str, Any] | None) -> dict[str, Any]:
    """What ``read_protected_item`` returns for ``view`` (None: no such item)."""
    return {"exists": view is not None, "view": view, "failoverRecoveryPointId": None}


def started(job: str, decision: str = "start") -> dict[str, Any]:
    """What ``start_asr_step`` returns when it started (or adopted, or cleared with) ``job``."""
    return {"decision": decision, "reason": "", "jobName": job, "jobId": f"{VAULT}/replicationJobs/{job}"}


def job(outcome: str, code: str | None = None, job: str = "") -> dict[str, Any]:
    """What ``wait_for_asr_job`` returns when the job ended ``outcome`` (with ASR's ``code`` if it failed)."""
    error = None
    if code:
        error = {"stage": None, "code": code, "message": "failed", "jobId": f"{VAULT}/replicationJobs/{job}"}
    return {"outcome": outcome, "state": outcome.capitalize(), "polls": 1, "error": error}


class Script:
    """Answers activities and sub-orchestrations from queues, and keeps what was asked."""

    def __init__(self, activities: dict[str, list[Any]], waits: list[Any]) -> None:
        self.activities = activities
        self.waits = waits
        self.asked: list[tuple[str, Any]] = []
        self.published: list[dict[str, Any]] = []  # events, kept apart from the ASR calls the tests count

    def activity(self, name: str, payload: Any) -> Any:
        if name == "publish_event":
            self.published.append(payload)
            return {"eventId": f"e{len(self.published)}", "published": False, "reason": "replay test"}
        self.asked.append((name, payload))
        answers = self.activities[name]
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def sub_orchestration(self, name: str, payload: Any) -> Any:
        self.asked.append((name, payload))
        return self.waits.pop(0)
