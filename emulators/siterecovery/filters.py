"""The small OData ``$filter`` subset ASR list operations accept: ``field eq 'value'`` joined by ``and``."""

from __future__ import annotations

import re

from emulators.siterecovery.errors import bad_request

_CLAUSE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s+eq\s+(?:'((?:[^']|'')*)'|([^\s']+))\s*$", re.IGNORECASE)


def parse_filter(text: str, allowed: set[str]) -> dict[str, str]:
    """Clauses as {canonical field name: value}; unknown fields and other operators are refused."""
    canonical = {name.lower(): name for name in allowed}
    out: dict[str, str] = {}
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(part)
        if match is None:
            raise bad_request(
                "InvalidFilter",
                f"The $filter clause '{part.strip()}' is not supported; use: field eq 'value' [and ...].",
                target="$filter",
            )
        name = canonical.get(match.group(1).lower())
        if name is None:
            raise bad_request(
                "InvalidFilter",
                f"The $filter field '{match.group(1)}' is not supported. Supported: {', '.join(sorted(allowed))}.",
                target="$filter",
            )
        value = match.group(2).replace("''", "'") if match.group(2) is not None else match.group(3)
        out[name] = value
    return out
