"""Text from the app, shown on a terminal as text: never markup, never an escape sequence.

Names, reasons and error messages come from plans and from Site Recovery, and the plan's author is not always the
person watching. Rich reads ``[red]`` or ``[/x]`` in a plain string as markup (a stray ``[/x]`` raises
``MarkupError`` and ends ``cli watch``), and a terminal obeys ESC and other control characters (clear the screen,
rewrite a line, set the window title). So every value the app sent goes through here before it is printed: it
becomes a ``rich.text.Text`` (no markup parsing) or a string with each control and bidirectional-override
character shown as U+FFFD. The app refuses such characters in new names (``migration.plain_text``); this covers
what was stored before, or came from elsewhere (an ASR error message).
"""

from __future__ import annotations

import unicodedata

from rich.text import Text

from migration.plain_text import BIDI_CONTROLS

__all__ = ["printable", "text"]

_REPLACEMENT = "\ufffd"


def _shown(char: str) -> str:
    if char in BIDI_CONTROLS or char in "\u2028\u2029" or unicodedata.category(char) in ("Cc", "Cs"):
        return _REPLACEMENT
    return char


def printable(value: object) -> str:
    """``value`` as one line of terminal text: control and bidirectional characters replaced by U+FFFD."""
    return "".join(_shown(char) for char in str(value))


def text(value: object, style: str = "") -> Text:
    """``value`` as a Rich ``Text`` (never parsed as markup), made :func:`printable` first."""
    return Text(printable(value), style=style)
