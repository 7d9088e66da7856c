"""Errors the CLI turns into one clean line (and an exit code) instead of a traceback.

Each code is listed in `miner.errors.codes.CODES` with its summary, default hint and exit
code (docs/errors.md); a raise site gives the specific message and, when it can, a more
specific hint.
"""

from __future__ import annotations

from .codes import CODES


class MinerError(Exception):
    """A problem the user can fix. `code` is stable (E-prefixed), `hint` says how to fix it.

    Without a hint from the raise site, the registry's hint for the code is used; the exit
    code is the registry's (the class's `default_exit_code` only for a code not listed there).
    """

    default_exit_code = 1

    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint if hint is not None else (CODES[code].hint if code in CODES else None)

    @property
    def exit_code(self) -> int:
        entry = CODES.get(self.code)
        return entry.exit_code if entry else self.default_exit_code

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.hint:
            text += f" {self.hint}"
        return text


class InputError(MinerError):
    """An input file or stream cannot be read as asked."""


class UsageError(MinerError):
    """Arguments that contradict each other or the data."""

    default_exit_code = 2


class StoreError(MinerError):
    """The SQLite store cannot be opened or is from a newer version."""
