"""Lists of Azure Migrate discovery resources: ``$filter``, page size and ARM paging through ``nextLink``.

The OffAzure spec (2020-01-01) gives ``VMwareSites/{site}/machines`` the query parameters ``$filter``, ``top`` (page
size) and ``continuationToken``, and ``vcenters`` a ``$filter``; every list is ``x-ms-pageable`` with ``nextLink``.
The emulator pages every list the same way: a page holds ``timing.pageSize`` entries (fewer with ``top`` where the
spec has it) and ``nextLink`` repeats the request with an opaque ``continuationToken`` (inferred: OffAzure's token
format is not public). The spec gives no ``$filter`` grammar; the emulator takes the one its ASR lists take
(``field eq 'value'`` joined by ``and``, values compared case-insensitively) on the fields each list names.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from emulators.siterecovery.errors import bad_request
from emulators.siterecovery.filters import parse_filter

T = TypeVar("T")

TOKEN = "continuationToken"
TOP = "top"


def filtered(rows: Sequence[T], query: Mapping[str, str], fields: Mapping[str, Callable[[T], str]] | None) -> list[T]:
    """The rows a ``$filter`` keeps; ``fields`` None: the list has no ``$filter`` in the spec (it is ignored, as ARM
    resource providers ignore query parameters they do not define)."""
    text = query.get("$filter")
    if not text or fields is None:
        return list(rows)
    clauses = {name: value.lower() for name, value in parse_filter(text, set(fields)).items()}
    return [row for row in rows if all(fields[name](row).lower() == want for name, want in clauses.items())]


def _offset(query: Mapping[str, str]) -> int:
    token = query.get(TOKEN)
    if not token:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        value = -1
    if value < 0:
        raise bad_request("InvalidContinuationToken", f"The continuationToken '{token}' is not valid.", target=TOKEN)
    return value


def page(
    rows: Sequence[T],
    render: Callable[[T], dict[str, Any]],
    *,
    query: Mapping[str, str],
    link_base: str,
    page_size: int,
    with_top: bool,
) -> dict[str, Any]:
    """``{"value": [...], "nextLink": url | None}``; ``link_base`` is the list's URL without its query."""
    size = page_size
    top = query.get(TOP) if with_top else None
    if top is not None:
        if not top.isdigit() or int(top) < 1:
            raise bad_request("InvalidParameter", f"{TOP} must be a positive integer, not '{top}'.", target=TOP)
        size = int(top)
    start = _offset(query)
    chunk = rows[start : start + size]
    next_link = None
    if start + size < len(rows):
        following = {k: v for k, v in query.items() if k != TOKEN}
        following[TOKEN] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        next_link = f"{link_base}?{urlencode(following)}"
    return {"value": [render(row) for row in chunk], "nextLink": next_link}
