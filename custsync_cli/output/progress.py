"""Progress of ``run-jobs``: per-job and per-channel tallies, and a live display on a terminal."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, Task, TaskID
    from rich.text import Text

JOB_VERBS = {"pull": "pulled", "sync": "processed", "distribute": "distributed"}


class JobTally:
    """Counts what each job did per channel, fed by ``JobContext.progress`` after each batch."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str | None], int] = {}
        self.started: dict[tuple[str, str | None], float] = {}

    def __call__(self, job: str, channel: str | None, count: int) -> None:
        key = (job, channel)
        self.started.setdefault(key, time.monotonic())
        self.counts[key] = self.counts.get(key, 0) + count

    def detail_lines(self) -> list[str]:
        """One line per job and channel that did something, for ``-v``."""
        lines = []
        for (job, channel), count in self.counts.items():
            where = f" {channel}" if channel else ""
            lines.append(f"  {job}{where}: {JOB_VERBS.get(job, 'handled')} {count}")
        return lines


class LiveProgress(JobTally):
    """A Rich progress display on stderr: one row per job (and per channel with ``verbose``)."""

    def __init__(
        self, jobs: list[str], *, channels: list[str] | None = None, verbose: bool = False
    ) -> None:
        super().__init__()
        self.jobs = jobs
        self.channels = channels or []
        self.verbose = verbose
        self.progress = _make_progress()
        self.tasks: dict[tuple[str, str | None], TaskID] = {}
        self.current: str | None = None
        self.current_channel: tuple[str, str] | None = None
        self.last_seen: dict[TaskID, float] = {}
        self.last_event = time.monotonic()

    def __enter__(self) -> LiveProgress:
        for job in self.jobs:
            self.tasks[(job, None)] = self.progress.add_task(job, start=False, total=None)
            if self.verbose and job == "pull":  # the one job that reports per channel
                for name in self.channels:
                    label = f"  {job} {name}"
                    self.tasks[(job, name)] = self.progress.add_task(label, start=False, total=None)
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task_id in self.tasks.values():
            self._finish(task_id)
        self.progress.stop()

    def __call__(self, job: str, channel: str | None, count: int) -> None:
        super().__call__(job, channel, count)
        if job != self.current:
            self._switch_to(job)
        self._advance((job, None), job, count)
        if self.verbose and channel:
            previous = self.current_channel
            if previous is not None and previous != (job, channel) and previous in self.tasks:
                self._finish(self.tasks[previous])  # channels are worked one after another
            self.current_channel = (job, channel)
            self._advance((job, channel), f"  {job} {channel}", count)
        self.last_event = time.monotonic()

    def _switch_to(self, job: str) -> None:
        """Jobs run in order, so a job's first batch means every job before it is done."""
        earlier = set(self.jobs[: self.jobs.index(job)]) if job in self.jobs else set()
        for (task_job, _), task_id in self.tasks.items():
            if task_job in earlier:
                self._finish(task_id)
        self.current = job

    def _advance(self, key: tuple[str, str | None], label: str, count: int) -> None:
        task_id = self.tasks.get(key)
        if task_id is None:
            task_id = self.progress.add_task(label, start=False, total=None)
            self.tasks[key] = task_id
        task = self.progress.tasks[_index(self.progress, task_id)]
        if task.start_time is None:
            # The callback comes after a batch; the work began when the previous batch ended.
            self.progress.start_task(task_id)
            task.start_time = self.last_event
        self.progress.advance(task_id, count)
        self.last_seen[task_id] = time.monotonic()

    def _finish(self, task_id: TaskID) -> None:
        task = self.progress.tasks[_index(self.progress, task_id)]
        if task.stop_time is not None:
            return
        if task.start_time is None:
            self.progress.start_task(task_id)
        self.progress.stop_task(task_id)
        if task_id in self.last_seen:  # the work ended with its last batch, not now
            task.stop_time = self.last_seen[task_id]
        self.progress.update(task_id, total=task.completed)


def _index(progress: Progress, task_id: TaskID) -> int:
    for index, task in enumerate(progress.tasks):
        if task.id == task_id:
            return index
    raise KeyError(task_id)


def _make_progress() -> Progress:
    from rich.progress import Progress, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

    from custsync_cli.output.console import stderr_console

    class CountColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            from rich.text import Text

            return Text(f"{int(task.completed):>8} ops", style="progress.download")

    class RateColumn(ProgressColumn):
        """The average rate since the task started: steady, unlike an instantaneous speed."""

        def render(self, task: Task) -> Text:
            from rich.text import Text

            elapsed = task.elapsed or 0.0
            rate = task.completed / elapsed if elapsed > 0 else 0.0
            return Text(f"{rate:>8.0f} ops/s", style="progress.data.speed")

    return Progress(
        SpinnerColumn(finished_text="[green]done[/]"),
        TextColumn("{task.description:<22}"),
        CountColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=False,
        refresh_per_second=8,
    )
