"""The one error type the command line shows to people: a paragraph that says what, where and why.

Every failure a user can cause (a missing file, a bad plan, an unreachable endpoint, a wrong key) is raised as a
:class:`CliError` with a finished sentence; ``cli.app`` prints it and exits non-zero, so nobody sees a traceback
for a mistake they can fix.
"""

from __future__ import annotations

__all__ = ["CliError", "EXIT_ERROR", "EXIT_USAGE"]

EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing failure; ``str(error)`` is the paragraph to print."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code
