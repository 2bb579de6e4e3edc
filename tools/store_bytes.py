"""Bytes a store spends per operation, by table and index (SQLite's dbstat), for sizing.

python tools/store_bytes.py custsync.db
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path


def measure(path: Path) -> tuple[int, int, list[tuple[str, int]]]:
    """(operations, file bytes in use, [(table or index, bytes)] largest first)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        operations = int(conn.execute("SELECT count(*) FROM operations").fetchone()[0])
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        in_use = page_size * (
            int(conn.execute("PRAGMA page_count").fetchone()[0])
            - int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        )
        sizes = [
            (str(name), int(size))
            for name, size in conn.execute(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            )
        ]
    finally:
        conn.close()
    return operations, in_use, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    args = parser.parse_args()
    operations, in_use, sizes = measure(args.store)
    per = max(operations, 1)
    print(f"operations {operations:,}; {in_use:,} bytes in use; {in_use / per:,.0f} B/operation")
    print("| table or index | bytes | B/operation | share |")
    print("|---|---:|---:|---:|")
    for name, size in sizes:
        print(f"| {name} | {size:,} | {size / per:,.0f} | {100 * size / in_use:.1f} % |")


if __name__ == "__main__":
    main()
