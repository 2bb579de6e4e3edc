"""Store file access: 0644 stores tightened, and stores the caller may only read still readable."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from custsync_cli.devtools.soak import Workload, copy_workload, custsync_executable, job_env
from tests.reliability.support import Scenario

pytestmark = pytest.mark.slow

NOBODY = 65534
LISTING = ["list", "--format", "json", "--limit", "100000"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def _umask_022() -> None:
    os.umask(0o022)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder another user can reach (pytest's own tmp_path is private to root)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv, to run custsync as a user who may only read")
    probe = subprocess.run(
        [*AS_NOBODY, custsync_executable(), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        # e.g. a checkout inside a 0700 temporary folder, as a fresh CI clone is
        pytest.skip(f"user nobody cannot run {custsync_executable()}: its folders are private")
    folder = Path(tempfile.mkdtemp(prefix="custsync-access-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _custsync(
    workload: Workload, *args: str, as_nobody: bool = False
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(AS_NOBODY if as_nobody else []), custsync_executable(), *args],
        cwd=workload.root,
        env=job_env(workload),
        capture_output=True,
        text=True,
        preexec_fn=_umask_022,
        timeout=120,  # a command that never ends is the failure this guards against
        check=False,
    )


def _side_files(store: Path) -> list[Path]:
    return [store, Path(f"{store}-wal"), Path(f"{store}-shm")]


def test_a_0644_store_and_its_side_files_are_tightened_and_said_once(
    crash_scenario: Scenario, tmp_path: Path
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path / "w")
    assert _custsync(copy, "run-jobs", "-q").returncode == 0
    store = copy.root / "custsync.db"
    holder = sqlite3.connect(store)  # another process has it open: -wal and -shm exist
    holder.execute("SELECT count(*) FROM operations").fetchone()
    try:
        for path in _side_files(store):
            path.chmod(0o644)
        first = _custsync(copy, "status")
        assert first.returncode == 0, first.stderr
        notices = [line for line in first.stderr.splitlines() if "tightened" in line]
        assert notices == [
            "tightened permissions of custsync.db, custsync.db-wal, custsync.db-shm to 0600"
        ]
        assert {path.name: _mode(path) for path in _side_files(store)} == {
            path.name: 0o600 for path in _side_files(store)
        }
        again = _custsync(copy, "status")
        assert again.returncode == 0 and "tightened" not in again.stderr
    finally:
        holder.close()
    store.chmod(0o644)
    writing = _custsync(copy, "run-jobs", "-q")
    assert writing.returncode == 0, writing.stderr
    assert "tightened permissions of custsync.db to 0600" in writing.stderr
    assert _mode(store) == 0o600


def test_demo_and_load_ops_create_channel_databases_0600(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTSYNC_")}
    run = {"cwd": tmp_path, "env": env, "capture_output": True, "text": True}
    demo = subprocess.run(
        [custsync_executable(), "demo", "--dir", "demo"], preexec_fn=_umask_022, **run
    )
    assert demo.returncode == 0, demo.stderr
    channels = sorted((tmp_path / "demo" / "channels").glob("*.db"))
    assert channels and {c.name: _mode(c) for c in channels} == {c.name: 0o600 for c in channels}
    ops = tmp_path / "ops.yaml"
    ops.write_text("- {async_account: a-1, operation: create_customer, fields: {last_name: X}}\n")
    loaded = subprocess.run(
        [custsync_executable(), "load-ops", str(ops), "--database", "new.db"],
        preexec_fn=_umask_022,
        **run,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert _mode(tmp_path / "new.db") == 0o600


def test_backup_of_a_store_the_caller_may_only_read_ends_with_a_checked_copy(
    shared_dir: Path,
) -> None:
    # The demo store is larger than one step of SQLite's page-by-page backup.
    copy = Workload(shared_dir / "w", [], {})
    made = _custsync(Workload(shared_dir, [], {}), "demo", "--dir", "w")
    assert made.returncode == 0, made.stderr
    copy.root.chmod(0o777)  # the folder is writable: only the store files are not
    store = copy.root / "custsync.db"
    # A reader that ended without closing leaves -wal and -shm, writable by root only.
    ended = "import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
    ended += " c.execute('SELECT count(*) FROM operations').fetchone(); os._exit(0)"
    subprocess.run([sys.executable, "-c", ended, str(store)], check=True)
    for path in _side_files(store):
        path.chmod(0o644)
    out = shared_dir / "out"
    out.mkdir()
    os.chown(out, NOBODY, NOBODY)
    result = _custsync(copy, "backup", str(out / "copy.db"), as_nobody=True)
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert "integrity ok, audit chain ok" in said
    assert "custsync.db is readable by other users (mode 0644)" in said
    assert "Traceback" not in result.stderr
    assert _mode(out / "copy.db") == 0o600
    conn = sqlite3.connect(out / "copy.db")
    copied = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    conn.close()
    conn = sqlite3.connect(store)
    assert copied == conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] > 0
    conn.close()


def _read_commands(copy: Workload) -> dict[str, subprocess.CompletedProcess[str]]:
    return {
        name: _custsync(copy, *args, as_nobody=True)
        for name, args in {
            "list": LISTING,
            "status": ["status", "--format", "json"],
            "verify": ["audit", "verify", "--format", "json"],
            "show": ["show", "1", "--format", "json"],
        }.items()
    }


def _read_only_folder(copy: Workload) -> None:
    for path in [copy.root, *copy.root.iterdir()]:
        os.chown(path, NOBODY, NOBODY)
    copy.root.chmod(0o555)


@pytest.mark.parametrize("killed", [False, True], ids=["closed", "killed-mid-run"])
def test_read_commands_work_on_a_store_in_a_read_only_folder(
    crash_scenario: Scenario, shared_dir: Path, killed: bool
) -> None:
    copy = copy_workload(crash_scenario.workload, shared_dir / "w")
    if killed:  # committed batches left in -wal, with -shm beside it
        fault = {**job_env(copy), "CUSTSYNC_FAULT": "sync.after_commit:3"}
        run = subprocess.run(
            [custsync_executable(), "run-jobs", "-q"], cwd=copy.root, env=fault, check=False
        )
        assert run.returncode == 99
        assert Path(f"{copy.root / 'custsync.db'}-wal").stat().st_size > 0
    else:
        assert _custsync(copy, "run-jobs", "-q").returncode == 0
        assert not Path(f"{copy.root / 'custsync.db'}-shm").exists()
    expected = shared_dir / "expected"
    shutil.copytree(copy.root, expected)
    reference = _custsync(
        Workload(expected, copy.channels, copy.outbox),
        "list",
        "--format",
        "json",
        "--limit",
        "100000",
    )
    _read_only_folder(copy)
    data = [copy.root / "custsync.db", Path(f"{copy.root / 'custsync.db'}-wal")]
    before = {p.name: p.read_bytes() for p in data if p.exists()}
    results = _read_commands(copy)
    for name, result in results.items():
        assert result.returncode == 0, f"{name}: {result.stderr}"
    assert json.loads(results["list"].stdout) == json.loads(reference.stdout)
    assert len(json.loads(results["list"].stdout)) > 0
    assert json.loads(results["verify"].stdout)["ok"] is True
    assert {p.name: p.read_bytes() for p in data if p.exists()} == before
    if not killed:  # without -wal and -shm, nothing can write the store in this folder
        writing = _custsync(copy, "run-jobs", "-q", as_nobody=True)
        assert writing.returncode == 1
        assert "cannot be written" in writing.stderr


def test_edit_files_of_a_killed_edit_stay_private_and_go_on_the_next_edit(
    crash_scenario: Scenario, tmp_path: Path
) -> None:
    copy = copy_workload(crash_scenario.workload, tmp_path / "w")
    assert _custsync(copy, "run-jobs", "-q").returncode in (0, 4)
    conn = sqlite3.connect(copy.root / "custsync.db")
    (failed,) = conn.execute("SELECT id FROM operations WHERE status = 'failed' LIMIT 1").fetchone()
    conn.close()
    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir()
    marker = tmp_path / "editor-started"
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import os, pathlib, sys, time\n"
        f"pathlib.Path({str(marker)!r} + '.part').write_text(f'{{os.getpid()}} {{sys.argv[1]}}')\n"
        f"os.replace({str(marker)!r} + '.part', {str(marker)!r})\n"
        "time.sleep(3600)\n"
    )
    env = {**job_env(copy), "EDITOR": f"python3 {editor}", "TMPDIR": str(shared_tmp)}
    env.pop("XDG_RUNTIME_DIR", None)
    edit = subprocess.Popen(
        [custsync_executable(), "edit", str(failed)],
        cwd=copy.root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(marker.exists)
        edited = marker.read_text().split(" ", 1)[1]
        edit.kill()  # kill -9 while the editor is open
        edit.wait(timeout=30)
    finally:
        if edit.poll() is None:
            edit.kill()
        if marker.exists():
            os.kill(int(marker.read_text().split(" ", 1)[0]), signal.SIGKILL)
        edit.communicate(timeout=30)
    left = Path(edited)
    folder = copy.root / ".custsync-edit"
    assert left.parent == folder and left.exists()
    assert _mode(folder) == 0o700 and _mode(left) == 0o600
    assert "email" in left.read_text() or "fields" in left.read_text()
    assert list(shared_tmp.iterdir()) == []

    editor.write_text("import sys\n")  # saves the file unchanged: the edit is cancelled
    again = _custsync_env(copy, env, "edit", str(failed))
    assert again.returncode == 0, again.stderr
    assert "edit cancelled" in again.stderr
    assert not left.exists()
    assert list(folder.iterdir()) == []


def _custsync_env(
    copy: Workload, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [custsync_executable(), *args],
        cwd=copy.root,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> bool:
    """Poll observable state until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
