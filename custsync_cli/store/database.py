"""Open the audit store: private file mode, WAL, busy timeout, migrations, transactions."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from custsync_cli.errors import NotFoundError, StoreError
from custsync_cli.store.migrations import check_schema, migrate

BUSY_TIMEOUT_MS = 10_000
PRIVATE_MODE = 0o600
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
T = TypeVar("T")


# Well under SQLite's limit on bound parameters per statement, whatever the batch size.
PARAMETER_CHUNK = 900


def placeholders(count: int) -> str:
    """``?, ?, ...`` for an ``IN (...)`` list of ``count`` values."""
    return ", ".join("?" * count)


def chunked(items: Sequence[T]) -> Iterator[list[T]]:
    """``items`` in lists small enough to bind as one ``IN (...)`` list."""
    for start in range(0, len(items), PARAMETER_CHUNK):
        yield list(items[start : start + PARAMETER_CHUNK])


def create_private_file(path: Path) -> None:
    """Create ``path`` with mode 0600 if missing, so SQLite's -wal/-shm files copy that mode."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_MODE)
    os.close(fd)


def make_private(path: Path) -> tuple[list[Path], str | None]:
    """Set ``path`` and its SQLite side files to 0600 where others could read them.

    Returns the files tightened, and a warning for a file that stays readable by others
    because this user may not change its mode (not its owner, or a read-only file system).
    """
    tightened: list[Path] = []
    for file in (path, *(Path(f"{path}{suffix}") for suffix in SIDE_SUFFIXES)):
        try:
            mode = file.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if not mode & 0o077:
            continue
        try:
            os.chmod(file, PRIVATE_MODE)
        except OSError as exc:
            return tightened, (
                f"{file} is readable by other users (mode {mode:04o}) and cannot be made"
                f" private ({exc.strerror}); ask its owner to run 'chmod 600' on it"
            )
        tightened.append(file)
    return tightened, None


def describe_sqlite_error(exc: sqlite3.Error, path: Path) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"store {path} is locked by another process; try again later"
    if "full" in text:
        return f"store {path}: the disk is full; nothing was written"
    if "not a database" in text or "malformed" in text:
        return f"store {path} is not a valid custsync store (corrupt or not SQLite)"
    if "readonly" in text or "unable to open" in text:
        return f"store {path} cannot be written (read-only file or folder)"
    return f"store {path}: {text}"


class Store:
    """A connection to the audit store with explicit ``BEGIN IMMEDIATE`` transactions."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.notices: list[str] = []
        # Set when the store is read without locks: the file's identity when it was opened.
        self.unlocked_stamp: tuple[int, int, int] | None = None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.close()
        if exc_type is None:
            self.check_unlocked_read()

    def check_unlocked_read(self) -> None:
        """Raise if a store read without locks (immutable) was written while it was read."""
        if self.unlocked_stamp is None:
            return
        wal = Path(f"{self.path}-wal")
        if _stamp(self.path) != self.unlocked_stamp or (wal.exists() and wal.stat().st_size):
            raise StoreError(
                f"store {self.path} was written while this command read it without locks"
                " (its folder is read-only); the output may be inconsistent: run it again"
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that waits for the write lock instead of failing at once."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(describe_sqlite_error(exc, self.path)) from None
        try:
            yield self.conn
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise StoreError(describe_sqlite_error(exc, self.path)) from None
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise StoreError(describe_sqlite_error(exc, self.path)) from None

    def checkpoint(self) -> bool:
        """Copy the WAL into the store file and empty it; False if a reader still needs it.

        A ``--loop`` keeps its connection open, and SQLite empties the WAL only when the last
        connection closes: without this the store file alone lags behind every commit.
        Never waits: a reader's snapshot is left alone and the next run tries again.
        """
        try:
            self.conn.execute("PRAGMA busy_timeout = 0")
            try:
                busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except sqlite3.Error:
            return False
        return bool(busy == 0)

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self.conn.execute(sql, params)]

    def query_one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        row = self.conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row is not None else None


def _stamp(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return info.st_ino, info.st_size, info.st_mtime_ns


def _in_wal_mode(path: Path) -> bool:
    """Whether the database header says WAL (read and write versions 2)."""
    with path.open("rb") as file:
        header = file.read(20)
    return len(header) == 20 and header[18:20] == b"\x02\x02"


def _writable(path: Path) -> bool:
    """Whether this user can write the store, its existing side files and its folder."""
    files = [path, *(Path(f"{path}{suffix}") for suffix in SIDE_SUFFIXES)]
    return os.access(path.parent, os.W_OK | os.X_OK) and all(
        os.access(file, os.W_OK) for file in files if file.exists()
    )


def _connect_read_only(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A read-only connection; True when it reads without locks (``immutable``).

    SQLite reads a WAL store through its -shm file, which it can use read-only but must
    create when missing. Without the -shm, and in a folder this user cannot write, no
    connection has the store open (SQLite removes -wal and -shm when the last one closes)
    and none can start writing without creating them, so reading the file as immutable sees
    a committed state; ``Store.check_unlocked_read`` catches a writer that started anyway.
    """
    shm, wal = Path(f"{path}-shm"), Path(f"{path}-wal")
    unlocked = (
        not shm.exists() and not os.access(path.parent, os.W_OK | os.X_OK) and _in_wal_mode(path)
    )
    if unlocked and wal.exists() and wal.stat().st_size:
        raise StoreError(
            f"store {path} has unsaved changes in {wal.name} and its folder is read-only;"
            " open it once where it can be written (e.g. 'custsync status' as its owner)"
        )
    uri = f"file:{quote(str(path.resolve()))}?mode=ro{'&immutable=1' if unlocked else ''}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    return conn, unlocked


def open_store(path: Path, *, create: bool = False, read_only: bool = False) -> Store:
    """Open (and, with ``create``, make) the store and bring its schema up to date.

    ``read_only`` is for commands that only read: on a store (or folder) this user cannot
    write, it opens the store read-only, with no WAL set-up and no migration. Either way the
    store and its side files are made private (0600) first; ``Store.notices`` says so.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise NotFoundError(
                f"store {path} does not exist (run 'custsync run-jobs' or 'custsync init' first)"
            )
        if not path.parent.is_dir():
            raise StoreError(f"cannot create store {path}: folder {path.parent} does not exist")
        try:
            create_private_file(path)
        except OSError as exc:
            raise StoreError(f"cannot create store {path}: {exc.strerror}") from None
    elif path.is_dir():
        raise StoreError(f"store {path} is a folder, not a file")
    tightened, warning = make_private(path)
    read_only = read_only and not _writable(path)
    unlocked = False
    try:
        if read_only:
            stamp = _stamp(path)
            conn, unlocked = _connect_read_only(path)
        else:
            conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not read_only:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -32000")
        # Checkpoint (and fsync) the WAL every ~400 MB rather than every 4 MB: a batch touches
        # pages all over the indexes, and the next batches the same pages again, so a long
        # interval writes each page back once for many commits instead of waiting on
        # checkpoints every commit or two. Each run ends with Store.checkpoint().
        conn.execute("PRAGMA wal_autocheckpoint = 100000")
    except OSError as exc:
        raise StoreError(f"cannot read store {path}: {exc.strerror}") from None
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, path)) from None
    store = Store(conn, path)
    if unlocked:
        store.unlocked_stamp = stamp
    if tightened:
        names = ", ".join(file.name for file in tightened)
        store.notices.append(f"tightened permissions of {names} to 0600")
    if warning:
        store.notices.append(f"warning: {warning}")
    try:
        if read_only:
            check_schema(conn, path)
        else:
            migrate(conn, path)
    except sqlite3.Error as exc:
        store.close()
        raise StoreError(describe_sqlite_error(exc, path)) from None
    except BaseException:
        store.close()
        raise
    return store


class SavepointStore(Store):
    """A store whose transactions are savepoints inside one outer transaction."""

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("SAVEPOINT custsync_step")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK TO custsync_step")
            self.conn.execute("RELEASE custsync_step")
            raise
        self.conn.execute("RELEASE custsync_step")


@contextmanager
def rehearsal(store: Store) -> Iterator[Store]:
    """A store to run real steps on for a dry run: everything written is rolled back at the end,
    and the write lock is held throughout, so what it shows is what a real run would do."""
    try:
        store.conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, store.path)) from None
    try:
        yield SavepointStore(store.conn, store.path)
    finally:
        store.conn.execute("ROLLBACK")
