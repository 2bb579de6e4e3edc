"""What list, show, customer and audit print for the golden workspaces, for comparing versions.

The golden store dump (tools/golden.py) changes form when the schema does; the commands'
output on the same data must not. Run on a golden folder made by each version, then diff::

    python tools/golden.py /tmp/g-before && python tools/golden_outputs.py /tmp/g-before
    python tools/golden.py /tmp/g-after && python tools/golden_outputs.py /tmp/g-after
    diff /tmp/g-before/outputs.txt /tmp/g-after/outputs.txt

Times and hashes differ from run to run and are left out, as in the dump.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden import VOLATILE, custsync

# This many operations of each workspace are shown (every one with --all), spread over ids.
SAMPLE = 300


def stable(value: Any) -> Any:
    """``value`` without the keys that differ from run to run."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE and "hash" not in k}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def output(root: Path, *args: str) -> Any:
    done = custsync(root, *args)
    if done.returncode not in (0, 4):
        raise SystemExit(f"{' '.join(args)} exited {done.returncode}: {done.stderr}")
    return stable(json.loads(done.stdout))


def outputs(root: Path, show_all: bool) -> list[str]:
    listed = output(root, "list", "--all", "--format", "json")
    lines = [json.dumps(["list", listed], ensure_ascii=False)]
    ids = sorted(op["id"] for op in listed)
    for op_id in ids if show_all else ids[:: max(len(ids) // SAMPLE, 1)]:
        shown = output(root, "show", str(op_id), "--format", "json")
        lines.append(json.dumps(["show", op_id, shown], ensure_ascii=False))
    for account in sorted({op["async_account"] for op in listed})[:50]:
        lines.append(
            json.dumps(
                [
                    "customer",
                    account,
                    output(root, "customer", "show", account, "--format", "json"),
                ],
                ensure_ascii=False,
            )
        )
    events = output(root, "audit", "--limit", "1000000", "--format", "json")
    lines.append(json.dumps(["audit", events], ensure_ascii=False))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("golden", type=Path, help="a folder written by tools/golden.py")
    parser.add_argument("--all", action="store_true", help="show every operation")
    args = parser.parse_args()
    lines: list[str] = []
    for root in sorted(args.golden.glob("batch-*")):
        lines.append(f"# {root.name}")
        lines += outputs(root, show_all=args.all)
    text = "\n".join(lines) + "\n"
    (args.golden / "outputs.txt").write_text(text, encoding="utf-8")
    print(hashlib.sha256(text.encode()).hexdigest(), args.golden / "outputs.txt")


if __name__ == "__main__":
    main()
