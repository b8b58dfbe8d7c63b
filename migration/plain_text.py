"""Text that people read later: names and reasons hold no control characters and no bidirectional overrides.

A plan's names and a command's reason reach terminals (``cli watch``), CSV reports, e-mails sent by the Logic Apps
samples and the audit trail. A control character there moves the cursor, rewrites a line or rings the terminal; a
bidirectional override (U+202E and its kin, the "Trojan Source" characters, CVE-2021-42574) makes ``web-01`` look
like another name. Such text is refused where it enters, with the character and its position, instead of being
cleaned silently: the operator should see what was sent. Line breaks and tabs are allowed only where a person
writes prose (a reason), never in a name.
"""

from __future__ import annotations

import unicodedata

__all__ = ["BIDI_CONTROLS", "text_problem"]

# Unicode's explicit directional formatting characters (UAX #9, "Explicit Directional Embeddings/Overrides/
# Isolates"), the marks among them, and the Arabic letter mark.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_PROSE_WHITESPACE = frozenset("\n\t")


def text_problem(value: str, *, prose: bool = False) -> str | None:
    """Why ``value`` may not be kept as readable text (``None`` when it may); ``prose`` allows line breaks, tabs."""
    for position, char in enumerate(value):
        if prose and char in _PROSE_WHITESPACE:
            continue
        if char in BIDI_CONTROLS:
            return f"holds the bidirectional control U+{ord(char):04X} at position {position}"
        if unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029":
            return f"holds the control character U+{ord(char):04X} at position {position}"
    return None
