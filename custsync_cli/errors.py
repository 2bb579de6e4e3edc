"""Exit codes and the exceptions the library raises; the CLI maps one to the other."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The documented exit statuses of every custsync command."""

    OK = 0
    ERROR = 1
    USAGE = 2
    NOT_FOUND = 3
    SOME_FAILED = 4
    LOCKED = 75
    INTERRUPTED = 130
    TERMINATED = 143


class CustsyncError(Exception):
    """An error with a one-line message for the operator and an exit code."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(CustsyncError):
    """The configuration file is missing, malformed or holds an invalid key."""

    exit_code = ExitCode.USAGE


class UsageError(CustsyncError):
    """The command line asks for something that cannot be done."""

    exit_code = ExitCode.USAGE


class NotFoundError(CustsyncError):
    """An operation, customer or file that was asked for does not exist."""

    exit_code = ExitCode.NOT_FOUND


class StoreError(CustsyncError):
    """The audit store cannot be opened or written."""


class ChannelError(CustsyncError):
    """A channel database is missing, malformed or hostile."""


class CountersWentBack(ChannelError):
    """A channel's replication counters no longer continue from its watermark."""


class LockedError(CustsyncError):
    """Another run holds the lock."""

    exit_code = ExitCode.LOCKED


class ConflictError(CustsyncError):
    """The operation changed since the operator read it."""


class Interrupted(CustsyncError):
    """A signal asked the run to stop; the batch in hand was finished or rolled back."""

    def __init__(self, message: str, signal_number: int) -> None:
        super().__init__(message)
        self.signal_number = signal_number
        self.exit_code = ExitCode.TERMINATED if signal_number == 15 else ExitCode.INTERRUPTED
