"""Benchmark custsync as whole processes against the raw-SQLite floor, sqlite-utils and Python.

    python bench/run.py --ops 100000                 # one size
    python bench/run.py --ops 100000,1000000         # several sizes, plus the scaling ratios

Prints a table (figure, custsync median, baseline median, ratio) per size and writes the same as
JSON under bench/results/. Every figure is the median of ``--repeat`` whole-process runs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

PYTHON = sys.executable
PYCACHE = Path(tempfile.gettempdir()) / "custsync-bench-pycache"
BIN = Path(sys.executable).parent
CUSTSYNC = str(BIN / "custsync") if (BIN / "custsync").exists() else "custsync"
SQLITE_UTILS = str(BIN / "sqlite-utils") if (BIN / "sqlite-utils").exists() else "sqlite-utils"

LIST_COLUMNS = (
    "id, channel, replication_counter, operation, async_account, customer_account, status,"
    " timestamp, last_error"
)
SQL_FAILED = (
    f"SELECT {LIST_COLUMNS} FROM operations WHERE status = 'failed'"
    " ORDER BY timestamp DESC, id DESC LIMIT 50"
)
SQL_WHERE_EMAIL = (
    f"SELECT {LIST_COLUMNS} FROM operations WHERE json_extract(new_values, '$.email') = :email"
    " ORDER BY timestamp DESC, id DESC LIMIT 50"
)
SQL_SHOW = (
    f"SELECT {LIST_COLUMNS},"
    " (SELECT json_group_array(json_object('field', field, 'code', code, 'message', message))"
    "  FROM operation_errors WHERE operation_id = o.id) AS errors,"
    " (SELECT json_group_array(json_object('name', f.key, 'old', json_extract(old_values,"
    "  '$.\"' || f.key || '\"'), 'new', f.value, 'channel_value', json_extract(coalesce("
    "  channel_values, new_values), '$.\"' || f.key || '\"'))) FROM json_each(new_values) f)"
    "  AS fields,"
    " (SELECT json_group_array(json_object('at', at, 'actor', actor, 'action', action,"
    "  'details', json(details))) FROM audit_log WHERE operation_id = o.id) AS history"
    " FROM operations o WHERE id = :id"
)


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float
    max_rss_kb: int
    returncode: int
    stdout: str
    stderr: str
    # Bytes the child caused to be written to storage: rusage ru_oublock (512-byte blocks,
    # Linux's task I/O accounting, the write_bytes of /proc/PID/io) from wait4.
    write_bytes: int = 0
    # Store file plus its WAL after the run, for the runs that leave a store (else 0).
    store_bytes: int = 0


def run_process(cmd: list[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run ``cmd`` to completion; wall time and the child's own peak RSS (wait4 rusage)."""
    out_path, err_path = cwd / ".bench-stdout", cwd / ".bench-stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    sample = Sample(
        seconds,
        usage.ru_utime + usage.ru_stime,
        int(usage.ru_maxrss),
        proc.returncode,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        int(usage.ru_oublock) * 512,
    )
    out_path.unlink()
    err_path.unlink()
    return sample


def checked(sample: Sample, what: str, ok: tuple[int, ...] = (0,)) -> Sample:
    if sample.returncode not in ok:
        raise SystemExit(f"{what} exited {sample.returncode}: {sample.stderr.strip()[-2000:]}")
    return sample


def fresh_copy(source: Path, target: Path) -> Path:
    """A workspace with pristine channel databases and no store."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copytree(source / "channels", target / "channels")
    shutil.copy2(source / "custsync.yaml", target / "custsync.yaml")
    return target


def custsync_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CUSTSYNC_CONFIG": str(root / "custsync.yaml"),
            "CUSTSYNC_ACTOR": "bench",
            "NO_COLOR": "1",
        }
    )
    env.pop("CUSTSYNC_DB", None)
    env.pop("CUSTSYNC_FAULT", None)
    # Measure start-up as an installed package runs, with compiled bytecode, not recompiling
    # every module on every run; the cache lives outside the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def store_size(path: Path) -> int:
    """The store file and its WAL, as they are on disk after a run."""
    wal = path.with_name(path.name + "-wal")
    return sum(p.stat().st_size for p in (path, wal) if p.exists())


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def command_exists(root: Path, name: str) -> bool:
    sample = run_process([CUSTSYNC, name, "--help"], root, custsync_env(root))
    return sample.returncode == 0


class Bench:
    """All measurements for one size."""

    def __init__(self, ops: int, seed: int, repeat: int, workdir: Path) -> None:
        self.ops = ops
        self.seed = seed
        self.repeat = repeat
        self.phases = True
        self.base = workdir / f"ops-{ops}"
        self.source = self.base / "source"
        self.samples: dict[str, list[Sample]] = {}
        self.notes: dict[str, str] = {}
        self.manifest: dict[str, Any] = {}

    def add(self, key: str, sample: Sample) -> None:
        self.samples.setdefault(key, []).append(sample)

    def prepare(self) -> None:
        manifest_path = self.source / "manifest.json"
        if manifest_path.exists():
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("ops") == self.ops and manifest.get("seed") == self.seed:
                self.manifest = manifest
                return
        if self.source.exists():
            shutil.rmtree(self.source)
        log(f"generating {self.ops} operations (seed {self.seed})")
        self.manifest = generate(self.source, self.ops, self.seed)

    def jobs(self) -> Path:
        """run-jobs end to end, the jobs one by one, and the floor; return a filled store."""
        kept = self.base / "store"
        for rep in range(self.repeat):
            log(f"[{self.ops}] repetition {rep + 1}/{self.repeat}")
            root = fresh_copy(self.source, self.base / "run")
            env = custsync_env(root)
            sample = run_process([CUSTSYNC, "run-jobs", "--format", "json"], root, env)
            sample.store_bytes = store_size(root / "custsync.db")
            self.add("run-jobs", checked(sample, "custsync run-jobs"))
            if rep == 0:
                self.report = json.loads(sample.stdout.strip().splitlines()[-1])
                if kept.exists():
                    shutil.rmtree(kept)
                root.rename(kept)

            if self.phases:
                root = fresh_copy(self.source, self.base / "run")
                env = custsync_env(root)
                for job in ("pull", "sync", "distribute"):
                    sample = run_process([CUSTSYNC, "run-jobs", "--job", job], root, env)
                    self.add(job, checked(sample, f"custsync run-jobs --job {job}"))

            root = fresh_copy(self.source, self.base / "run")
            floor = [PYTHON, str(HERE / "floor.py"), str(root)]
            sample = checked(run_process(floor, root, env), "floor.py")
            sample.store_bytes = store_size(root / "floor.db")
            self.add("floor", sample)
            root = fresh_copy(self.source, self.base / "run")
            indexed = [PYTHON, str(HERE / "floor.py"), str(root), "--indexed"]
            sample = checked(run_process(indexed, root, env), "floor --indexed")
            sample.store_bytes = store_size(root / "floor.db")
            self.add("floor-indexed", sample)
            floor = [PYTHON, str(HERE / "floor.py"), str(root)]
            root = fresh_copy(self.source, self.base / "run")
            for job in ("pull", "sync", "distribute") if self.phases else ():
                sample = run_process([*floor, "--job", job], root, env)
                self.add(f"floor-{job}", checked(sample, f"floor.py --job {job}"))
        shutil.rmtree(self.base / "run", ignore_errors=True)
        return kept

    def queries(self, root: Path) -> None:
        env = custsync_env(root)
        store = str(root / "custsync.db")
        email = str(self.manifest.get("email") or "")
        show_id = self.failed_operation(root)
        cases: list[tuple[str, str, list[str], list[str]]] = [
            (
                "list --status failed",
                "list",
                [CUSTSYNC, "list", "--status", "failed", "--limit", "50", "--format", "json"],
                [SQLITE_UTILS, "query", store, SQL_FAILED],
            ),
            (
                "list --where email=",
                "list",
                [CUSTSYNC, "list", "--where", f"email={email}", "--format", "json"],
                [SQLITE_UTILS, "query", store, SQL_WHERE_EMAIL, "-p", "email", email],
            ),
            (
                "show <id>",
                "show",
                [CUSTSYNC, "show", str(show_id), "--format", "json"],
                [SQLITE_UTILS, "query", store, SQL_SHOW, "-p", "id", str(show_id)],
            ),
        ]
        repeat = max(self.repeat, 5)
        # One untimed run of each first, so no timed run pays for compiling bytecode.
        for command_line in [*(c[2] for c in cases), *(c[3] for c in cases)]:
            run_process(command_line, root, env)
        for command_line in ([CUSTSYNC, "--version"], [CUSTSYNC, "--help"]):
            run_process(command_line, root, env)
        for key, command, ours, baseline in cases:
            if not command_exists(root, command):
                self.notes[key] = f"not available (no '{command}' command)"
                log(f"[{self.ops}] {key}: not available")
                continue
            for _ in range(repeat):
                self.add(key, checked(run_process(ours, root, env), " ".join(ours[1:3])))
                self.add(f"{key} baseline", checked(run_process(baseline, root, env), key))
            first = self.samples[key][0].stdout
            if key.startswith("list") and not json.loads(first or "[]"):
                self.notes[key] = "returned no rows"
        for _ in range(repeat):
            self.add("--version", checked(run_process([CUSTSYNC, "--version"], root, env), "v"))
            self.add("--help", checked(run_process([CUSTSYNC, "--help"], root, env), "help"))
            self.add("python -c pass", run_process([PYTHON, "-c", "pass"], root, env))

    @staticmethod
    def failed_operation(root: Path) -> int:
        import sqlite3

        conn = sqlite3.connect(root / "custsync.db")
        row = conn.execute(
            "SELECT id FROM operations WHERE status = 'failed' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        conn.close()
        return int(row[0]) if row else 1

    def seconds(self, key: str) -> float:
        return median([s.seconds for s in self.samples.get(key, [])])

    def cpu(self, key: str) -> float:
        return median([s.cpu_seconds for s in self.samples.get(key, [])])

    def rss_mb(self, key: str) -> float:
        return median([s.max_rss_kb / 1024 for s in self.samples.get(key, [])])

    def store_per_op(self, key: str) -> float:
        return median([s.store_bytes / self.ops for s in self.samples.get(key, [])])

    def written_mb(self, key: str) -> float:
        return median([s.write_bytes / 1e6 for s in self.samples.get(key, [])])

    def table(self) -> list[dict[str, Any]]:
        """Rows of (figure, custsync median, baseline median, ratio), wall and CPU time."""
        rows: list[dict[str, Any]] = []

        def row(figure: str, key: str, base: str, unit: str, note: str = "") -> None:
            if key not in self.samples:
                rows.append(
                    {
                        "figure": figure,
                        "unit": unit,
                        "custsync": None,
                        "baseline": None,
                        "ratio": None,
                        "cpu_ratio": None,
                        "note": self.notes.get(key, note),
                    }
                )
                return
            if unit == "MB":
                ours, theirs = self.rss_mb(key), self.rss_mb(base)
            elif unit == "B/op":
                ours, theirs = self.store_per_op(key), self.store_per_op(base)
            elif unit == "MB written":
                ours, theirs = self.written_mb(key), self.written_mb(base)
            elif unit == "ops/s":
                ours, theirs = self.ops / self.seconds(key), self.ops / self.seconds(base)
            else:
                ours, theirs = self.seconds(key), self.seconds(base)
            entry = {
                "figure": figure,
                "unit": unit,
                "custsync": ours,
                "baseline": theirs,
                "ratio": ours / theirs if theirs else None,
                "cpu_ratio": None,
                "note": note + (f"; {self.notes[key]}" if key in self.notes else ""),
            }
            if unit == "s":
                entry["custsync_cpu"], entry["baseline_cpu"] = self.cpu(key), self.cpu(base)
                entry["cpu_ratio"] = self.cpu(key) / self.cpu(base) if self.cpu(base) else None
            rows.append(entry)

        row("run-jobs (all)", "run-jobs", "floor", "s", "floor.py")
        row("run-jobs vs indexed floor", "run-jobs", "floor-indexed", "s", "floor.py --indexed")
        for job in ("pull", "sync", "distribute"):
            row(f"run-jobs --job {job}", job, f"floor-{job}", "s", f"floor.py --job {job}")
        row("run-jobs throughput", "run-jobs", "floor", "ops/s", "floor.py")
        for job in ("pull", "sync", "distribute"):
            row(f"{job} throughput", job, f"floor-{job}", "ops/s", f"floor.py --job {job}")
        row("run-jobs peak RSS", "run-jobs", "floor", "MB", "floor.py (holds all rows)")
        row("run-jobs peak RSS vs indexed", "run-jobs", "floor-indexed", "MB", "floor.py --indexed")
        row("store bytes per operation", "run-jobs", "floor", "B/op", "floor.py")
        row("store bytes vs indexed", "run-jobs", "floor-indexed", "B/op", "floor.py --indexed")
        row("bytes written", "run-jobs", "floor", "MB written", "floor.py (rusage oublock)")
        row("bytes written vs indexed", "run-jobs", "floor-indexed", "MB written", "--indexed")
        for key in ("list --status failed", "list --where email=", "show <id>"):
            row(key, key, f"{key} baseline", "s", "sqlite-utils query")
        row("--version", "--version", "python -c pass", "s", "python -c pass")
        row("--help", "--help", "python -c pass", "s", "python -c pass")
        return rows


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ops/s":
        return f"{value:,.0f}"
    if unit in ("MB", "MB written"):
        return f"{value:.1f}"
    if unit == "B/op":
        return f"{value:,.0f}"
    return f"{value:.3f}"


def render(ops: int, rows: list[dict[str, Any]]) -> str:
    lines = [
        f"### {ops:,} operations",
        "",
        "| figure | unit | custsync (median) | baseline (median) | ratio | CPU ratio | baseline |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-"
        cpu = f"{r['cpu_ratio']:.2f}x" if r.get("cpu_ratio") is not None else "-"
        lines.append(
            f"| {r['figure']} | {r['unit']} | {fmt(r['custsync'], r['unit'])} |"
            f" {fmt(r['baseline'], r['unit'])} | {ratio} | {cpu} | {r['note']} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    def sh(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""

    import sqlite3

    return {
        "nproc": os.cpu_count(),
        "memory": sh("free", "-h").splitlines()[1:2],
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in sh("cat", "/proc/cpuinfo").splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ops", default="10000", help="operations, comma-separated sizes")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per figure (median)")
    parser.add_argument(
        "--repeat-large",
        type=int,
        default=1,
        help="repetitions for sizes of 500,000 operations and more (they take minutes each)",
    )
    parser.add_argument(
        "--no-phases",
        action="store_true",
        help="measure run-jobs end to end only, not pull, sync and distribute one by one",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/custsync-bench"))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    sizes = [int(part.replace("_", "")) for part in args.ops.split(",") if part.strip()]
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": machine(),
        "repeat": args.repeat,
        "sizes": {},
    }
    stamp = time.strftime("%Y%m%dT%H%M%S")
    out = args.out / f"bench-{'-'.join(map(str, sizes))}-{stamp}.json"
    for ops in sizes:
        repeat = args.repeat if ops < 500_000 else min(args.repeat, args.repeat_large)
        bench = Bench(ops, args.seed, repeat, args.workdir)
        if args.no_phases:
            bench.phases = False
            bench.notes.update(dict.fromkeys(("pull", "sync", "distribute"), "not measured"))
        bench.prepare()
        store = bench.jobs()
        bench.queries(store)
        rows = bench.table()
        results["sizes"][str(ops)] = {
            "report": bench.report,
            "table": rows,
            "repeat": bench.repeat,
            "samples": {
                key: [
                    {
                        "seconds": s.seconds,
                        "cpu_seconds": s.cpu_seconds,
                        "max_rss_kb": s.max_rss_kb,
                        "write_bytes": s.write_bytes,
                        "store_bytes": s.store_bytes,
                    }
                    for s in samples
                ]
                for key, samples in bench.samples.items()
            },
        }
        print(render(ops, rows), flush=True)
        print(flush=True)
        # Written after every size, so a long run that is cut short still leaves its figures.
        out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if len(sizes) > 1:
        results["scaling"] = scaling(results["sizes"], sizes)
        print(render_scaling(results["scaling"]), flush=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    log(f"wrote {out}")


def scaling(data: dict[str, Any], sizes: list[int]) -> list[dict[str, Any]]:
    """Throughput and memory of every size relative to the next smaller size measured."""

    def value(ops: int, figure: str) -> float:
        return next(r["custsync"] for r in data[str(ops)]["table"] if r["figure"] == figure)

    rows = []
    for small, ops in itertools.pairwise(sizes):
        rows.append(
            {
                "from": small,
                "to": ops,
                "throughput_ratio": value(ops, "run-jobs throughput")
                / value(small, "run-jobs throughput"),
                "rss_ratio": value(ops, "run-jobs peak RSS") / value(small, "run-jobs peak RSS"),
                "rss_mb": value(ops, "run-jobs peak RSS"),
            }
        )
    return rows


def render_scaling(rows: list[dict[str, Any]]) -> str:
    lines = [
        "### Scaling",
        "",
        "| from | to | ops/s ratio (target >= 0.8) |"
        " peak RSS ratio (target <= 1.3) | peak RSS MB (target < 200) |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['from']:,} | {r['to']:,} | {r['throughput_ratio']:.2f} |"
            f" {r['rss_ratio']:.2f} | {r['rss_mb']:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
