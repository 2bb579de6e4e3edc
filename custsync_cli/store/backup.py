"""Back up the audit store with SQLite's online backup API, then check the copy."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custsync_cli.errors import StoreError, UsageError
from custsync_cli.store.audit import verify_chain
from custsync_cli.store.database import BUSY_TIMEOUT_MS, Store, describe_sqlite_error


@dataclass
class BackupResult:
    """Where the copy went and what the check of it found."""

    path: Path
    bytes: int
    integrity: str
    audit_events: int
    audit_ok: bool
    audit_problem: str | None

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and self.audit_ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "bytes": self.bytes,
            "integrity": self.integrity,
            "audit_events": self.audit_events,
            "audit_ok": self.audit_ok,
            "audit_problem": self.audit_problem,
            "ok": self.ok,
        }


def _create_destination(path: Path, source: Path, force: bool) -> None:
    """Create ``path`` empty with mode 0600 before SQLite writes customer data into it."""
    store_files = [Path(f"{source}{suffix}") for suffix in ("", "-wal", "-shm", ".lock")]
    if any(f.exists() and path.exists() and os.path.samefile(f, path) for f in store_files):
        raise UsageError(f"backup target {path} is the store itself; choose another file")
    if path.is_dir():
        raise UsageError(f"backup target {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write backup {path}: folder {path.parent} does not exist")
    if path.exists() and not force:
        raise UsageError(f"{path} already exists (use --force to overwrite it)")
    try:
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        os.close(fd)
    except OSError as exc:
        raise StoreError(f"cannot write backup {path}: {exc.strerror}") from None


def check_copy(path: Path) -> BackupResult:
    """Open a finished copy and run ``integrity_check`` and the audit chain over it."""
    conn = sqlite3.connect(path)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
        integrity = "ok" if rows == ["ok"] else "; ".join(rows[:3])
        chain = verify_chain(conn)
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, path)) from None
    finally:
        conn.close()
    return BackupResult(
        path=path,
        bytes=path.stat().st_size,
        integrity=integrity,
        audit_events=chain.events,
        audit_ok=chain.ok,
        audit_problem=chain.problem,
    )


def _give_up_after(seconds: float) -> Callable[[int, int, int], None]:
    """A backup progress callback that ends a copy which has not finished in ``seconds``."""
    deadline = time.monotonic() + seconds

    def check(_status: int, remaining: int, _total: int) -> None:
        if remaining and time.monotonic() > deadline:
            raise StoreError(f"the store stayed busy for {seconds:g} s; try again later")

    return check


def backup_store(store: Store, target: Path, *, force: bool = False) -> BackupResult:
    """Copy the open ``store`` to ``target`` (0600) while jobs may write.

    The copy is one step, so one read transaction: a consistent snapshot that writers in WAL
    mode do not disturb. (Copying in several steps restarts whenever the store changes
    between them, for ever under a busy writer, and on every step when this user may only
    read the store's -shm file.) On any failure the half-written target is removed.
    """
    _create_destination(target, store.path, force)
    try:
        dest = sqlite3.connect(target)
        try:
            store.conn.backup(dest, pages=-1, progress=_give_up_after(BUSY_TIMEOUT_MS / 1000))
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        reason = describe_sqlite_error(exc, target)
        raise StoreError(f"backup to {target} failed: {reason}") from None
    except StoreError as exc:
        target.unlink(missing_ok=True)
        raise StoreError(f"backup to {target} failed: {exc.message}") from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return check_copy(target)
