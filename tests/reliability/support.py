"""Helpers for the reliability tests: scenarios and waiting for a run to start."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from custsync_cli.devtools.soak import Reference, Workload


@dataclass
class Scenario:
    """A generated workload and the end state of one uninterrupted run over it."""

    workload: Workload
    reference: Reference


def wait_for_open_file(process: subprocess.Popen[str], path: Path, timeout: float = 30) -> None:
    """Wait until ``process`` holds ``path`` open (read from /proc, so no timing guess)."""
    target = str(path.resolve())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the process ended before it opened the file"
        fds = Path(f"/proc/{process.pid}/fd")
        try:
            opened = {os.readlink(fd) for fd in fds.iterdir()}
        except OSError:
            opened = set()
        if target in opened:
            return
        time.sleep(0.02)
    raise AssertionError(f"the process never opened {path}")


def wait_for_run_start(process: subprocess.Popen[str], store: Path, timeout: float = 20) -> bool:
    """Wait until ``process`` has recorded a job run in the store; False if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if store.exists():
            try:
                conn = sqlite3.connect(store, timeout=0.5)
                try:
                    row = conn.execute(
                        "SELECT 1 FROM job_runs WHERE pid = ?", (process.pid,)
                    ).fetchone()
                finally:
                    conn.close()
                if row:
                    return True
            except sqlite3.Error:
                pass
        time.sleep(0.02)
    raise AssertionError("run-jobs never started a job run")


def wait_for_query(
    process: subprocess.Popen[str], store: Path, sql: str, timeout: float = 60
) -> None:
    """Wait until ``sql`` finds a row in the store (read-only) while ``process`` runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the process ended before the store showed the state"
        try:
            conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
            try:
                found = conn.execute(sql).fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            found = None
        if found:
            return
        time.sleep(0.02)
    raise AssertionError(f"the store never showed: {sql}")
