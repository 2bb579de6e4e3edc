"""What jobs and repairs need: config, store, actor, validator, a stop flag and a progress sink."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from custsync_cli.config import Config
from custsync_cli.domain.validation import Validator
from custsync_cli.errors import Interrupted
from custsync_cli.store.database import Store

ProgressCallback = Callable[[str, str | None, int], None]
# Called inside each batch's transaction with what the batch did (pulled, synced, ...).
BatchCallback = Callable[[Mapping[str, int]], None]


class StopFlag:
    """Set by SIGINT/SIGTERM; jobs check it between batches so a batch is never half-done."""

    def __init__(self) -> None:
        self.signal_number: int | None = None

    def set(self, signal_number: int) -> None:
        self.signal_number = signal_number

    def check(self) -> None:
        if self.signal_number is not None:
            name = signal.Signals(self.signal_number).name
            raise Interrupted(f"stopped by {name}", self.signal_number)

    @contextmanager
    def handling_signals(self) -> Iterator[None]:
        """Route SIGINT and SIGTERM to this flag for the duration of a run."""

        def handler(signum: int, _frame: FrameType | None) -> None:
            self.set(signum)

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)


def _no_progress(job: str, channel: str | None, count: int) -> None:
    return None


def _no_record(counts: Mapping[str, int]) -> None:
    return None


@dataclass
class JobContext:
    config: Config
    store: Store
    actor: str
    stop: StopFlag = field(default_factory=StopFlag)
    progress: ProgressCallback = _no_progress
    record_batch: BatchCallback = _no_record
    _validator: Validator | None = None

    @property
    def validator(self) -> Validator:
        if self._validator is None:
            self._validator = Validator(self.config.validation)
        return self._validator

    @property
    def batch_size(self) -> int:
        return self.config.jobs.batch_size
