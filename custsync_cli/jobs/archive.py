"""Retention: move finished history into sealed archive files, and check those files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custsync_cli import faults
from custsync_cli.config import RetentionConfig
from custsync_cli.errors import StoreError
from custsync_cli.store import archive as store_archive
from custsync_cli.store.audit import GENESIS_HASH, VerifyResult, verify_chain
from custsync_cli.store.database import Store
from custsync_cli.store.maintenance import (
    free_space,
    record_retention_day,
    retention_ran_on,
    vacuum,
)
from custsync_cli.timeutil import parse_moment, utc_now

# Freed pages beyond this share of the file earn the hint that --vacuum would return them.
VACUUM_HINT_SHARE = 0.25


@dataclass
class ArchiveReport:
    """What one archive run did (or, dry, would do)."""

    dry_run: bool
    cutoff: str
    file: str | None = None
    operations: int = 0
    events: int = 0
    first_event_id: int | None = None
    last_event_id: int | None = None
    from_time: str | None = None
    to_time: str | None = None
    bytes: int = 0
    removed_leftovers: list[str] = field(default_factory=list)
    vacuumed: bool = False
    free_bytes: int = 0
    store_bytes: int = 0
    held_by: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def vacuum_advised(self) -> bool:
        return (
            not self.vacuumed
            and self.store_bytes > 0
            and self.free_bytes > VACUUM_HINT_SHARE * self.store_bytes
        )


def archive_folder(store: Store, folder: Path) -> Path:
    """``folder`` as given, relative paths taken from the store's folder."""
    return folder if folder.is_absolute() else store.path.parent / folder


def _recorded_name(store: Store, path: Path) -> str:
    """How the record names an archive: relative to the store's folder when inside it."""
    try:
        return str(path.resolve().relative_to(store.path.resolve().parent))
    except ValueError:
        return str(path.resolve())


def archive_path(store: Store, record: dict[str, Any]) -> Path:
    name = Path(str(record["file_name"]))
    return name if name.is_absolute() else store.path.parent / name


def leftovers(store: Store, folder: Path) -> list[Path]:
    """Files a run killed before its store commit left behind: any ``.partial`` file, and a
    whole archive without a record that starts where the store's chain starts now."""
    if not folder.is_dir():
        return []
    recorded = {archive_path(store, r).resolve() for r in store_archive.archives(store.conn)}
    start = verify_start(store)
    found = sorted(folder.glob(f"{store_archive.FILE_PREFIX}*.db{store_archive.PARTIAL_SUFFIX}"))
    for path in sorted(folder.glob(f"{store_archive.FILE_PREFIX}*.db")):
        if path.resolve() in recorded:
            continue
        info = store_archive.file_info(path)
        if info and (info["first_event_id"] - 1, info["start_hash"]) == start:
            found.append(path)
    return found


def verify_start(store: Store) -> tuple[int, str]:
    records = store_archive.archives(store.conn)
    if not records:
        return 0, GENESIS_HASH
    return int(records[-1]["last_event_id"]), str(records[-1]["end_hash"])


def _free_name(store: Store, folder: Path, stem: str) -> Path:
    taken = {str(r["file_name"]) for r in store_archive.archives(store.conn)}
    candidate, n = folder / f"{stem}.db", 1
    while _recorded_name(store, candidate) in taken or candidate.exists():
        n += 1
        candidate = folder / f"{stem}-{n}.db"
    return candidate


def archive_history(
    store: Store,
    cutoff: str,
    folder: Path,
    *,
    dry_run: bool = False,
    vacuum_after: bool = False,
    on_leftover: Callable[[Path], None] | None = None,
) -> ArchiveReport:
    """Move the finished history older than ``cutoff`` into one new archive file.

    The file is written and fsynced first; its record and the deletions from the store are
    then one transaction, so a crash leaves either the store as it was (and a file the next
    run removes) or the archive recorded and its rows gone. Call it holding the run lock.
    """
    report = ArchiveReport(dry_run=dry_run, cutoff=cutoff)
    folder = archive_folder(store, folder)
    for path in leftovers(store, folder):
        report.removed_leftovers.append(str(path))
        if on_leftover is not None:
            on_leftover(path)
        if not dry_run:
            path.unlink(missing_ok=True)
    if dry_run:
        plan = store_archive.plan_cut(store.conn, cutoff)
        _describe(report, plan)
        if not plan.empty:
            report.file = str(folder / f"{plan.file_stem()}.db")
        return report
    if not folder.is_dir():
        try:
            folder.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise StoreError(f"cannot create archive folder {folder}: {exc.strerror}") from None
    created_at = utc_now()
    with store_archive.without_foreign_keys(store), store.transaction() as conn:
        plan = store_archive.plan_cut(conn, cutoff)
        _describe(report, plan)
        if not plan.empty:
            target = _free_name(store, folder, plan.file_stem())
            store_archive.mark_operations(conn, plan)
            faults.point("archive.before_write")
            store_archive.write_archive(conn, plan, target, created_at)
            faults.point("archive.after_write")
            report.file = str(target)
            report.bytes = target.stat().st_size
            digest = store_archive.file_digest(target)
            archive_id = store_archive.record_and_remove(
                conn, plan, _recorded_name(store, target), created_at, digest, report.bytes
            )
            record_retention_day(conn, created_at, archive_id)
            faults.point("archive.before_commit")
        else:
            record_retention_day(conn, created_at, None)
    faults.point("archive.after_commit")
    if not plan.empty:
        store.checkpoint()
        if vacuum_after:
            vacuum(store)
            report.vacuumed = True
    report.free_bytes, report.store_bytes = free_space(store.conn)
    return report


def apply_retention(store: Store, retention: RetentionConfig) -> ArchiveReport | None:
    """``archive_history`` as ``retention:`` asks, at most once a UTC day (None: not due)."""
    if retention.archive_after is None or retention_ran_on(store.conn, utc_now()[:10]):
        return None
    return archive_history(store, parse_moment(retention.archive_after), retention.folder)


def _describe(report: ArchiveReport, plan: store_archive.Plan) -> None:
    report.operations, report.events = plan.operations, plan.events
    report.held_by = plan.held_by
    if not plan.empty:
        report.first_event_id, report.last_event_id = plan.first_event_id, plan.last_event_id
        report.from_time, report.to_time = plan.from_time, plan.to_time


@dataclass
class ArchiveCheck:
    """One archive file checked: its digest, its own chain segment, and where it joins."""

    file_name: str
    ok: bool
    events: int = 0
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def verify_archives(store: Store) -> list[ArchiveCheck]:
    """Check every archive the store records, in order, and that each segment joins the one
    before it (the first the chain's start); ``audit verify`` checks the store's own part."""
    checks: list[ArchiveCheck] = []
    joined = (0, GENESIS_HASH)
    for record in store_archive.archives(store.conn):
        checks.append(_verify_one(store, record, joined))
        joined = (int(record["last_event_id"]), str(record["end_hash"]))
    return checks


def _verify_one(store: Store, record: dict[str, Any], joined: tuple[int, str]) -> ArchiveCheck:
    name = str(record["file_name"])
    start = (int(record["first_event_id"]) - 1, str(record["start_hash"]))
    if start != joined:
        return ArchiveCheck(
            name, False, problem=f"does not join the segment before it (event {joined[0]})"
        )
    path = archive_path(store, record)
    if not path.is_file():
        return ArchiveCheck(name, False, problem=f"the file is missing ({path})")
    if store_archive.file_digest(path) != record["sha256"]:
        return ArchiveCheck(name, False, problem="its SHA-256 differs from the recorded one")
    info = store_archive.file_info(path)
    expected = {key: record[key] for key in store_archive.plan_record_keys()}
    if info is None or {key: info.get(key) for key in expected} != expected:
        return ArchiveCheck(name, False, problem="its archive_info differs from the record")
    conn = store_archive.open_archive(path)
    try:
        result: VerifyResult = verify_chain(
            conn, expect=(int(record["last_event_id"]), str(record["end_hash"])), start=start
        )
    finally:
        conn.close()
    if not result.ok:
        return ArchiveCheck(name, False, result.events, result.problem)
    return ArchiveCheck(name, True, result.events)
