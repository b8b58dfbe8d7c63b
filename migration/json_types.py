"""The one spelling of "a JSON object" that every layer shares.

Durable Functions hands inputs, outputs and events over as plain JSON; the modules that read or build them name
that shape ``Json`` rather than each spelling ``dict[str, Any]`` anew.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Json"]

Json = dict[str, Any]
