"""ARM-shaped errors.

Every refusal the emulator makes is an :class:`ArmError`; the HTTP layer turns it into the
``{"error": {"code", "message"}}`` body ARM uses (common-types ``ErrorResponse``), which the
SDK parses with ``ARMErrorFormat`` so ``exc.error.code`` is set on the client side.
"""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """A refusal with an HTTP status, an ARM error code and a human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body ARM sends with an error status."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        return {"error": error}


def bad_request(code: str, message: str, target: str | None = None) -> ArmError:
    return ArmError(400, code, message, target=target)


def not_found(resource_type: str, name: str) -> ArmError:
    """404 for a named resource that does not exist (ARM's ``ResourceNotFound``)."""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The resource '{resource_type}/{name}' was not found.",
    )


def conflict(code: str, message: str) -> ArmError:
    return ArmError(409, code, message)
