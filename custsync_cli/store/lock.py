"""One run at a time: an OS file lock beside the store, released by the kernel even on kill -9."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from custsync_cli.errors import LockedError, StoreError
from custsync_cli.store.database import create_private_file, utc_now

HOLDER_NAME_RETRIES = 100


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".lock")


@contextmanager
def run_lock(
    store_path: Path,
    wait: float = 0.0,
    purpose: str = "run-jobs",
    check_stop: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold the exclusive run lock; wait up to ``wait`` seconds, then raise LockedError.

    ``check_stop`` is called while waiting, so a signal can end the wait (it raises).
    """
    path = lock_path(store_path)
    try:
        create_private_file(path)
        fd = os.open(path, os.O_RDWR)
    except OSError as exc:
        raise StoreError(f"cannot open lock file {path}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        unnamed = 0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                    # The holder writes its name just after it takes the lock: give it a moment.
                    if not holder and unnamed < HOLDER_NAME_RETRIES:
                        unnamed += 1
                        time.sleep(0.005)
                        continue
                    raise LockedError(
                        f"another run holds the lock on {store_path} ({holder or 'unknown'});"
                        " try later"
                    ) from None
                if check_stop is not None:
                    check_stop()
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, {purpose} since {utc_now()}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
