"""One run at a time: OS file locks on the store's real path, released by the kernel on kill -9."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from custsync_cli.errors import LockedError, StoreError
from custsync_cli.store.database import create_private_file
from custsync_cli.timeutil import utc_now

HOLDER_NAME_RETRIES = 100
UNKNOWN_HOLDER = "holder unknown: its lock file was removed"

# A second lock, flock() on the store file itself, which nobody can delete away from a
# running holder. SQLite keeps POSIX locks on that file, and closing *any* descriptor of a
# file drops all of the process's POSIX locks on it, so these descriptors are never closed:
# one per store file, for the life of the process.
_store_fds: dict[tuple[int, int], int] = {}
_held_stores: set[tuple[int, int]] = set()


def lock_path(store_path: Path) -> Path:
    """The lock file of a store, beside its real path, so every alias of the store shares it."""
    real = Path(os.path.realpath(store_path))
    return real.with_name(real.name + ".lock")


@contextmanager
def run_lock(
    store_path: Path,
    wait: float = 0.0,
    purpose: str = "run-jobs",
    check_stop: Callable[[], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the exclusive run lock; wait up to ``wait`` seconds, then raise LockedError.

    ``check_stop`` is called while waiting, so a signal can end the wait (it raises);
    ``on_wait`` is told the holder once, when the lock is first found held.
    """
    path = lock_path(store_path)
    store = Path(os.path.realpath(store_path))
    deadline = time.monotonic() + max(wait, 0.0)
    told = False
    unnamed = 0
    fd = _open_lock_file(path)
    try:
        while True:
            # Locked or waiting on a file that was removed or replaced: use what the path names.
            if not _names_same_file(path, fd):
                os.close(fd)
                fd = _open_lock_file(path)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                # The holder writes its name just after it takes the lock: give it a moment.
                if not holder and unnamed < HOLDER_NAME_RETRIES:
                    unnamed += 1
                    time.sleep(0.005)
                    continue
                holder = holder or "unknown"
            else:
                if not _names_same_file(path, fd):
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    continue
                taken, store_key = _take_store(store)
                if taken:
                    break
                fcntl.flock(fd, fcntl.LOCK_UN)
                holder = UNKNOWN_HOLDER
            if time.monotonic() >= deadline:
                raise LockedError(
                    f"another run holds the lock on {store_path} ({holder}); try later"
                ) from None
            if on_wait is not None and not told:
                on_wait(holder)
                told = True
            if check_stop is not None:
                check_stop()
            time.sleep(0.05)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, {purpose} since {utc_now()}".encode(), 0)
            yield
        finally:
            try:
                os.ftruncate(fd, 0)
            finally:
                _unlock_store(store_key)
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open_lock_file(path: Path) -> int:
    try:
        create_private_file(path)
        return os.open(path, os.O_RDWR)
    except OSError as exc:
        raise StoreError(f"cannot open lock file {path}: {exc.strerror}") from None


def _names_same_file(path: Path, fd: int) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _store_fd(store: Path) -> tuple[tuple[int, int], int] | None:
    """The process's descriptor on the store file (opened once), or None if there is no store."""
    try:
        info = os.stat(store)
    except FileNotFoundError:
        return None
    key = (info.st_dev, info.st_ino)
    if key not in _store_fds:
        try:
            fd = os.open(store, os.O_RDONLY)
        except OSError as exc:
            raise StoreError(f"cannot open store {store}: {exc.strerror}") from None
        opened = os.fstat(fd)
        key = (opened.st_dev, opened.st_ino)
        # Never closed, even if the file was replaced between stat and open (see above).
        _store_fds.setdefault(key, fd)
    return key, _store_fds[key]


def _take_store(store: Path) -> tuple[bool, tuple[int, int] | None]:
    """Lock the store file itself; False if another holder has it (its lock file was removed)."""
    found = _store_fd(store)
    if found is None:
        return True, None
    key, fd = found
    if key in _held_stores:
        return False, None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False, None
    _held_stores.add(key)
    return True, key


def _unlock_store(key: tuple[int, int] | None) -> None:
    if key is None:
        return
    _held_stores.discard(key)
    fcntl.flock(_store_fds[key], fcntl.LOCK_UN)
