"""The golden store dump: run a seeded workload through the jobs and a repair round, dump it.

Refactors of the jobs and the repair library must leave this dump unchanged::

    python tools/golden.py /tmp/golden-before   # on the old code
    python tools/golden.py /tmp/golden-after    # on the new code
    diff /tmp/golden-before/dump.txt /tmp/golden-after/dump.txt

Timestamps, hashes and process ids differ from run to run and are left out; everything else
in every table (operations, field values, errors, HQ customers and addresses, sequences,
watermarks, job-run counts and the audit events' actions and details) is dumped in a fixed
order, once with a small batch size and once with the default.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate

VOLATILE = {
    "updated_at",
    "synced_at",
    "distributed_at",
    "pulled_at",
    "created_at",
    "started_at",
    "finished_at",
    "at",
    "hash",
    "prev_hash",
    "pid",
    "seconds",
    "actor",
}


def custsync(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("custsync") or "custsync"
    env = {**os.environ, "CUSTSYNC_CONFIG": str(root / "custsync.yaml"), "CUSTSYNC_ACTOR": "golden"}
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, check=False)


def check(
    result: subprocess.CompletedProcess[str], step: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    if result.returncode not in (0, 4):
        raise SystemExit(f"{' '.join(step)} exited {result.returncode}: {result.stderr}")
    return result


def dump(store: Path) -> list[str]:
    conn = sqlite3.connect(store)
    lines: list[str] = []
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT IN ('schema_migrations', 'audit_anchors') ORDER BY name"
        )
    ]
    for table in tables:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        kept = [c for c in columns if c not in VOLATILE and not c.endswith("hash")]
        lines.append(f"## {table} ({', '.join(kept)})")
        rows = conn.execute(f"SELECT {', '.join(kept)} FROM {table}").fetchall()
        for row in sorted(rows, key=lambda r: json.dumps(r, default=str)):
            lines.append(json.dumps(row, ensure_ascii=False, default=str))
    conn.close()
    return lines


def run(root: Path, ops: int, seed: int, batch_size: int) -> list[str]:
    if root.exists():
        shutil.rmtree(root)
    generate(root, ops, seed)
    with (root / "custsync.yaml").open("a", encoding="utf-8") as config:
        config.write(f"jobs:\n  batch_size: {batch_size}\n")
    steps = [
        ("run-jobs",),
        (
            "edit",
            "--error-code",
            "invalid_email",
            "--set",
            "email=fixed@example.se",
            "--reason",
            "golden",
            "--yes",
        ),
        ("resync", "--error-code", "invalid_email", "--yes"),
    ]
    for step in steps:
        check(custsync(root, *step), step)
    listed = custsync(root, "list", "--status", "failed", "--format", "json", "--limit", "15")
    failed = [str(op["id"]) for op in json.loads(check(listed, ("list",)).stdout)]
    check(custsync(root, "discard", *failed, "--reason", "golden", "--yes"), ("discard",))
    check(custsync(root, "run-jobs"), ("run-jobs",))
    return dump(root / "custsync.db")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the workspaces and dump.txt")
    parser.add_argument("--ops", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    lines: list[str] = []
    for batch_size in (97, 2000):
        lines.append(f"# batch size {batch_size}")
        lines += run(args.out / f"batch-{batch_size}", args.ops, args.seed, batch_size)
    text = "\n".join(lines) + "\n"
    (args.out / "dump.txt").write_text(text, encoding="utf-8")
    print(hashlib.sha256(text.encode()).hexdigest(), args.out / "dump.txt")


if __name__ == "__main__":
    main()
