"""Errors the CLI turns into one clean line (and an exit code) instead of a traceback."""

from __future__ import annotations


class MinerError(Exception):
    """A problem the user can fix. `code` is stable (E-prefixed), `hint` says how to fix it."""

    exit_code = 1

    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.hint:
            text += f" {self.hint}"
        return text


class InputError(MinerError):
    """An input file or stream cannot be read as asked."""


class UsageError(MinerError):
    """Arguments that contradict each other or the data."""

    exit_code = 2


class StoreError(MinerError):
    """The SQLite store cannot be opened or is from a newer version."""
