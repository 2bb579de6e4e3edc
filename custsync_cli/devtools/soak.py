"""Crash soak: kill -9 and fault-inject ``custsync run-jobs`` at random moments, check invariants.

Usage: python -m custsync_cli.devtools.soak --trials 500
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from custsync_cli.config import ChannelConfig
from custsync_cli.devtools.invariants import (
    channel_counters,
    check_invariants,
    differences,
    snapshot,
)

# Every named fault point in the jobs (see custsync_cli/faults.py).
FAULT_POINTS = (
    "runner.after_start",
    "pull.before_commit",
    "pull.after_commit",
    "sync.before_commit",
    "sync.after_commit",
    "distribute.channel_before_commit",
    "distribute.between_writes",
    "distribute.before_commit",
    "distribute.after_commit",
    "runner.before_finish",
)
FIRST = ("Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Anders", "Sara", "Nils")
LAST = ("Svensson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Berg")
CITIES = (("Stockholm", "SWE"), ("Oslo", "NOR"), ("Helsinki", "FIN"))
OUTBOX_SQL = (
    "INSERT INTO async_customer_operation (async_account, operation, fields, created_at,"
    " created_by) VALUES (?, ?, ?, ?, ?)"
)


# Hostile outbox rows (``--hostile``): a column and its raw value, and the error expected.
# A value in a 1-tuple is written as TEXT that is not UTF-8.
HOSTILE_ROWS: tuple[tuple[str, str, Any, tuple[str, str]], ...] = (
    (
        "time before year 1",
        "created_at",
        "0001-01-01T00:00:00+01:00",
        ("created_at", "malformed_row"),
    ),
    ("time after 9999", "created_at", "9999-12-31T23:59:59-01:00", ("created_at", "malformed_row")),
    ("time a blob", "created_at", b"\x00", ("created_at", "malformed_row")),
    ("fields 1000 deep", "fields", "[" * 1000 + "]" * 1000, ("fields", "malformed_row")),
    (
        "fields 100000 deep",
        "fields",
        '{"a":' + "[" * 100_000 + "]" * 100_000 + "}",
        ("fields", "malformed_row"),
    ),
    (
        "fields Latin-1",
        "fields",
        ('{"last_name": "Lindstr\xf6m"}'.encode("latin-1"),),
        ("fields", "malformed_row"),
    ),
    ("fields a blob", "fields", b'{"last_name": "x"}', ("fields", "malformed_row")),
    ("fields lone surrogate", "fields", '{"last_name": "\\udc00"}', ("fields", "malformed_row")),
    (
        "account Latin-1",
        "async_account",
        ("Lindstr\xf6m".encode("latin-1"),),
        ("async_account", "malformed_row"),
    ),
    ("operation a blob", "operation", b"create_customer", ("operation", "malformed_row")),
)
HOSTILE_TEMPLATE = ("hostile", "create_customer", "{}", "2026-11-01T08:00:00Z", "till")
# Counters of a non-contract outbox (``loose``): usable ones, text, blob, reals, NULL, 0 and
# a shared one. Only the integers above 0 are keys; 3 is shared by two rows.
LOOSE_COUNTERS: tuple[Any, ...] = (1, "abc", b"\x01", 1e19, 2.5, 3, 3, None, 0, -7, 5)


@dataclass
class Workload:
    """A template folder: config and channel databases, before any job ran."""

    root: Path
    channels: list[ChannelConfig]
    outbox: dict[str, list[int]]
    # channel -> counter -> (field, code) each hostile row must fail with
    hostile: dict[str, dict[int, tuple[str, str]]] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.root / "custsync.yaml"


def _customer(rng: random.Random, serial: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "type": "person",
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}.{serial}@example.se".lower(),
        "phone": f"+46 70 {serial % 1000:03d} {serial % 100:02d} {rng.randint(10, 99)}",
        "currency": rng.choice(("SEK", "NOK", "EUR")),
        "language": rng.choice(("sv-SE", "nb-NO", "en-GB")),
    }


def outbox_rows(rng: random.Random, name: str, count: int) -> list[tuple[Any, ...]]:
    """A realistic outbox: creates, updates, addresses, invalid values and malformed rows."""
    clock = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    accounts: list[str] = []
    addresses: list[tuple[str, str]] = []
    rows: list[tuple[Any, ...]] = []
    for serial in range(count):
        clock += timedelta(seconds=rng.randint(1, 90))
        stamp = clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        roll = rng.random()
        account = f"{name}-{rng.getrandbits(48):012x}"
        operation, fields_json = "create_customer", ""
        if roll < 0.45 or not accounts:
            fields: dict[str, Any] = _customer(rng, serial)
            bad = rng.random()
            if bad < 0.06:
                fields.pop("last_name")
            elif bad < 0.09:
                fields["email"] = "not-an-email"
            elif bad < 0.11:
                fields["first_name"] = "X" * 40
            accounts.append(account)
        elif roll < 0.65:
            account, operation = rng.choice(accounts), "update_customer"
            fields = rng.choice(
                (
                    {"phone": f"+46 73 {serial:03d} 11 22"},
                    {"customer_group": rng.choice(("retail", "member"))},
                    {"email": f"changed.{name}.{serial}@example.se"},
                    {"last_name": rng.choice(LAST)},
                )
            )
        elif roll < 0.80:
            account, operation = rng.choice(accounts), "create_address"
            city, country = rng.choice(CITIES)
            address_id = f"A{serial}"
            fields = {
                "address_id": address_id,
                "street": f"Storgatan {serial}",
                "city": city,
                "zip_code": f"{10000 + serial}",
                "country": country if rng.random() > 0.05 else "XXX",
                "purpose": "home",
            }
            addresses.append((account, address_id))
        elif roll < 0.88 and addresses:
            (account, address_id), operation = rng.choice(addresses), "update_address"
            fields = {"address_id": address_id, "street": f"Kungsgatan {serial}"}
        elif roll < 0.92:
            operation, fields = "update_customer", {"phone": "+46 8 123 456"}
        elif roll < 0.95:
            fields = _customer(rng, serial)
            fields["email"] = f"shared.{name}@example.se"
            accounts.append(account)
        else:
            kind = rng.randrange(3)
            operation = ("create_customer", "merge_customer", "create_customer")[kind]
            fields_json = ("{not json", json.dumps({"x": 1}), json.dumps(_customer(rng, serial)))[
                kind
            ]
            if kind == 2:
                account = ""
            fields = {}
        text = fields_json or json.dumps(fields)
        rows.append((account, operation, text, stamp, f"{name}-till-{serial % 4}"))
    return rows


def _insert_hostile(conn: sqlite3.Connection, row: tuple[Any, ...], column: str, value: Any) -> int:
    names = ("async_account", "operation", "fields", "created_at", "created_by")
    params = list(row)
    params[names.index(column)] = value[0] if isinstance(value, tuple) else value
    marks = ", ".join(
        "CAST(? AS TEXT)" if n == column and isinstance(value, tuple) else "?" for n in names
    )
    cursor = conn.execute(
        f"INSERT INTO async_customer_operation ({', '.join(names)}) VALUES ({marks})", params
    )
    return int(cursor.lastrowid or 0)


def _write_outbox(
    conn: sqlite3.Connection, rows: list[tuple[Any, ...]], rng: random.Random, hostile: bool
) -> dict[int, tuple[str, str]]:
    """Write ``rows``; with ``hostile``, each hostile row shape once at a random place."""
    if not hostile:
        conn.executemany(OUTBOX_SQL, rows)
        return {}
    places = {rng.randrange(len(rows) + 1): shape for shape in HOSTILE_ROWS}
    expected: dict[int, tuple[str, str]] = {}
    for index in range(len(rows) + 1):
        if index in places:
            _, column, value, error = places[index]
            template = rows[min(index, len(rows) - 1)] if rows else HOSTILE_TEMPLATE
            expected[_insert_hostile(conn, template, column, value)] = error
        if index < len(rows):
            conn.execute(OUTBOX_SQL, rows[index])
    return expected


def _loose_channel(path: Path, rng: random.Random) -> dict[int, tuple[str, str]]:
    """A non-contract outbox whose counter column takes any value."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "CREATE TABLE async_customer_operation (replication_counter, async_account TEXT,"
            " operation TEXT, fields TEXT, created_at TEXT, created_by TEXT)"
        )
        for serial, counter in enumerate(LOOSE_COUNTERS):
            conn.execute(
                "INSERT INTO async_customer_operation VALUES (?, ?, 'create_customer', ?,"
                " '2026-11-01T08:00:00Z', 'loose-till')",
                (counter, f"loose-{serial}", json.dumps(_customer(rng, 9000 + serial))),
            )
    conn.close()
    return {3: ("replication_counter", "malformed_row")}


def make_workload(
    root: Path,
    *,
    seed: int,
    operations: int,
    channels: int = 3,
    batch_size: int = 20,
    hostile: bool = False,
) -> Workload:
    """Write a config and ``channels`` channel databases holding ``operations`` rows in all."""
    import yaml

    from custsync_cli.channels.sqlite_outbox import create_channel_database

    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    (root / "channels").mkdir(parents=True)
    names = [f"ch{index + 1}" for index in range(channels)]
    configs: list[ChannelConfig] = []
    outbox: dict[str, list[int]] = {}
    expected: dict[str, dict[int, tuple[str, str]]] = {}
    for index, name in enumerate(names):
        path = root / "channels" / f"{name}.db"
        create_channel_database(path)
        share = operations // channels + (1 if index < operations % channels else 0)
        conn = sqlite3.connect(path)
        with conn:
            expected[name] = _write_outbox(conn, outbox_rows(rng, name, share), rng, hostile)
        conn.close()
        configs.append(ChannelConfig(name, path))
    if hostile:
        names.append("loose")
        path = root / "channels" / "loose.db"
        expected["loose"] = _loose_channel(path, rng)
        configs.append(ChannelConfig("loose", path))
    for channel in configs:
        outbox[channel.name] = channel_counters(channel.database)
    config = {
        "store": "custsync.db",
        "channels": [{"name": n, "database": f"channels/{n}.db"} for n in names],
        "jobs": {"batch_size": batch_size},
    }
    (root / "custsync.yaml").write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    return Workload(root, configs, outbox, {k: v for k, v in expected.items() if v})


def hostile_problems(workload: Workload, store: Path) -> list[str]:
    """Each hostile row is a failed operation with its code (the good rows: the reference)."""
    problems: list[str] = []
    conn = sqlite3.connect(store)
    try:
        for channel, rows in workload.hostile.items():
            for counter, error in rows.items():
                found = conn.execute(
                    "SELECT o.status, e.field, e.code FROM operations o LEFT JOIN"
                    " operation_errors e ON e.operation_id = o.id"
                    " WHERE o.channel = ? AND o.replication_counter = ?",
                    (channel, counter),
                ).fetchall()
                if not any(r[0] == "failed" and (r[1], r[2]) == error for r in found):
                    problems.append(f"{channel} counter {counter}: expected failed {error}")
    finally:
        conn.close()
    return problems


def copy_workload(workload: Workload, dest: Path) -> Workload:
    """A fresh copy of the template (config and channels, no store) in ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(workload.root, dest, ignore=shutil.ignore_patterns("custsync.db*"))
    channels = [
        ChannelConfig(c.name, dest / "channels" / c.database.name) for c in workload.channels
    ]
    return Workload(dest, channels, workload.outbox, workload.hostile)


def custsync_executable() -> str:
    """The installed ``custsync`` console script beside this Python, else the one on PATH."""
    candidate = Path(sys.executable).with_name("custsync")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("custsync")
    if found is None:
        raise SystemExit("the custsync command is not installed")
    return found


def job_env(workload: Workload, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTSYNC_")}
    env.update(
        CUSTSYNC_CONFIG=str(workload.config_path), CUSTSYNC_ACTOR="soak", NO_COLOR="1", **extra
    )
    return env


def start_run(workload: Workload, *args: str, **env: str) -> subprocess.Popen[str]:
    """Start ``custsync run-jobs`` on the workload as cron would: a separate process."""
    return subprocess.Popen(
        [custsync_executable(), "run-jobs", "-q", *args],
        cwd=workload.root,
        env=job_env(workload, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_to_end(workload: Workload, *args: str, timeout: float = 300) -> tuple[int, str]:
    process = start_run(workload, *args)
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


@dataclass
class Reference:
    """The end state of an uninterrupted run, and how long that run took."""

    state: dict[str, Any]
    seconds: float
    events: int = 0


def audit_events(store: Path) -> int:
    """How many audit events the store holds (0 if it cannot be read yet)."""
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def wait_for_events(
    process: subprocess.Popen[str], store: Path, count: int, timeout: float = 120
) -> None:
    """Wait until the run has written ``count`` audit events, or has ended."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if audit_events(store) >= count:
            return
        time.sleep(0.005)


def reference_run(workload: Workload, dest: Path) -> Reference:
    copy = copy_workload(workload, dest)
    started = time.monotonic()
    code, stderr = run_to_end(copy)
    seconds = time.monotonic() - started
    if code != 0:
        raise RuntimeError(f"the reference run failed ({code}): {stderr.strip()}")
    problems = check_invariants(copy.root / "custsync.db", copy.channels, complete=True)
    problems += hostile_problems(copy, copy.root / "custsync.db")
    if "Traceback" in stderr or "internal error" in stderr:
        problems.append("the reference run printed a traceback or an internal error")
    if problems:
        raise RuntimeError(f"the reference run breaks invariants: {problems[:3]}")
    store = copy.root / "custsync.db"
    return Reference(snapshot(store, copy.channels), seconds, audit_events(store))


@dataclass
class TrialResult:
    kind: str
    crashes: int = 0
    exit_codes: list[int] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def finish_and_check(copy: Workload, reference: Reference, result: TrialResult) -> TrialResult:
    """Check the store right after a crash, run the jobs to the end, compare with the reference."""
    store = copy.root / "custsync.db"
    if store.exists():
        result.violations += [
            f"after crash: {p}"
            for p in check_invariants(store, copy.channels, complete=False, outbox=copy.outbox)
        ]
    code, stderr = run_to_end(copy)
    result.exit_codes.append(code)
    if code != 0:
        result.violations.append(f"the run after the crash exited {code}: {stderr.strip()}")
        return result
    if "Traceback" in stderr or "internal error" in stderr:
        result.violations.append("the run after the crash printed a traceback")
    result.violations += check_invariants(store, copy.channels, complete=True)
    result.violations += hostile_problems(copy, store)
    result.violations += differences(reference.state, snapshot(store, copy.channels))
    return result


def kill_trial(
    workload: Workload,
    reference: Reference,
    dest: Path,
    rng: random.Random,
    kills: int = 1,
    *,
    by_progress: bool = False,
) -> TrialResult:
    """Start run-jobs and kill -9 it at a random moment, ``kills`` times; then run to the end.

    With ``by_progress`` the moment is a random number of audit events written rather than a
    random time, so the kill lands mid-run however fast or busy the machine is.
    """
    copy = copy_workload(workload, dest)
    result = TrialResult("kill")
    store = copy.root / "custsync.db"
    for _ in range(kills):
        process = start_run(copy)
        if by_progress:
            written = audit_events(store)
            latest = max(written + 1, int(reference.events * 0.8))
            wait_for_events(process, store, rng.randint(written + 1, latest))
        else:
            time.sleep(rng.uniform(0.1, max(reference.seconds, 0.2)))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            result.crashes += 1
        process.communicate()
        result.exit_codes.append(process.returncode)
    return finish_and_check(copy, reference, result)


def fault_trial(
    workload: Workload, reference: Reference, dest: Path, point: str, hit: int
) -> TrialResult:
    """Make run-jobs exit hard at the ``hit``-th pass of fault ``point``; then run to the end."""
    copy = copy_workload(workload, dest)
    result = TrialResult(f"fault {point}:{hit}")
    process = start_run(copy, CUSTSYNC_FAULT=f"{point}:{hit}")
    _, stderr = process.communicate(timeout=300)
    result.exit_codes.append(process.returncode)
    if process.returncode == 99:
        result.crashes += 1
    elif process.returncode != 0:
        result.violations.append(f"fault run exited {process.returncode}: {stderr.strip()}")
    return finish_and_check(copy, reference, result)


def soak(
    trials: int,
    *,
    operations: int = 300,
    channels: int = 3,
    batch_size: int = 20,
    seed: int | None = None,
    directory: Path | None = None,
    hostile: bool = False,
) -> dict[str, Any]:
    """Alternate kill -9 and fault trials; return the figures."""
    seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    temp = None
    if directory is None:
        temp = tempfile.TemporaryDirectory(prefix="custsync-soak-")
        directory = Path(temp.name)
    try:
        workload = make_workload(
            directory / "template",
            seed=seed,
            operations=operations,
            channels=channels,
            batch_size=batch_size,
            hostile=hostile,
        )
        reference = reference_run(workload, directory / "reference")
        batches = max(operations // batch_size, 1)
        figures: dict[str, Any] = {
            "seed": seed,
            "trials": 0,
            "crashes": 0,
            "kill_trials": 0,
            "fault_trials": 0,
            "invariant_violations": 0,
            "reference_seconds": round(reference.seconds, 2),
            "hostile_shapes": (
                [shape[0] for shape in HOSTILE_ROWS] + ["loose counters"] if hostile else []
            ),
        }
        started = time.monotonic()
        for number in range(trials):
            dest = directory / "trial"
            if number % 2 == 0:
                result = kill_trial(workload, reference, dest, rng, kills=rng.randint(1, 3))
                figures["kill_trials"] += 1
            else:
                point = FAULT_POINTS[(number // 2) % len(FAULT_POINTS)]
                # The runner's points are passed once per job; the others once per batch.
                hits = 3 if point.startswith("runner.") else batches
                result = fault_trial(workload, reference, dest, point, rng.randint(1, hits))
                figures["fault_trials"] += 1
            figures["trials"] += 1
            figures["crashes"] += result.crashes
            if result.violations:
                figures["invariant_violations"] += len(result.violations)
                print(f"trial {number + 1} ({result.kind}):", file=sys.stderr)
                for line in result.violations[:10]:
                    print(f"  {line}", file=sys.stderr)
            if (number + 1) % 25 == 0:
                print(
                    f"{number + 1}/{trials} trials, {figures['crashes']} crashes,"
                    f" {figures['invariant_violations']} violations",
                    file=sys.stderr,
                )
        figures["seconds"] = round(time.monotonic() - started, 1)
        return figures
    finally:
        if temp is not None:
            temp.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m custsync_cli.devtools.soak",
        description="Kill -9 and fault-inject custsync run-jobs; check the invariants each time.",
    )
    parser.add_argument("--trials", type=int, default=100, help="number of trials (default 100)")
    parser.add_argument("--operations", type=int, default=300, help="outbox rows in all")
    parser.add_argument("--channels", type=int, default=3, help="channel databases")
    parser.add_argument("--batch-size", type=int, default=20, help="jobs.batch_size")
    parser.add_argument("--seed", type=int, default=None, help="workload and timing seed")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (kept)")
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="mix every hostile row shape into the channels and add a non-contract outbox",
    )
    args = parser.parse_args(argv)
    if args.trials < 1 or args.operations < 1 or args.channels < 1 or args.batch_size < 1:
        parser.error("--trials, --operations, --channels and --batch-size must be positive")
    figures = soak(
        args.trials,
        operations=args.operations,
        channels=args.channels,
        batch_size=args.batch_size,
        seed=args.seed,
        directory=args.dir,
        hostile=args.hostile,
    )
    print(
        f"trials {figures['trials']} (kill -9 {figures['kill_trials']},"
        f" fault {figures['fault_trials']}), crashes {figures['crashes']},"
        f" invariant violations {figures['invariant_violations']},"
        f" {figures['seconds']} s (seed {figures['seed']},"
        f" uninterrupted run {figures['reference_seconds']} s)"
    )
    if figures["hostile_shapes"]:
        shapes = figures["hostile_shapes"]
        print(f"hostile row shapes {len(shapes)}: {', '.join(shapes)}")
    return 1 if figures["invariant_violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
