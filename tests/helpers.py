"""Test helpers: channel databases built by the DESIGN.md contract, configs, CLI runners."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from custsync_cli.channels.sqlite_outbox import create_channel_database
from custsync_cli.devtools.soak import custsync_executable

BASE_TIME = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class ChannelDB:
    """A channel database written exactly as a channel would write it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        create_channel_database(path)
        self._clock = BASE_TIME

    def add(
        self,
        async_account: str,
        operation: str,
        fields: dict[str, Any] | str,
        *,
        created_at: str | None = None,
        created_by: str | None = "tester",
    ) -> int:
        """Append one outbox row; return its replication counter."""
        if created_at is None:
            self._clock += timedelta(minutes=1)
            created_at = self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        text = fields if isinstance(fields, str) else json.dumps(fields)
        conn = sqlite3.connect(self.path)
        with conn:
            cursor = conn.execute(
                "INSERT INTO async_customer_operation"
                " (async_account, operation, fields, created_at, created_by)"
                " VALUES (?, ?, ?, ?, ?)",
                (async_account, operation, text, created_at, created_by),
            )
        conn.close()
        return int(cursor.lastrowid or 0)

    def customers(self) -> dict[str, dict[str, Any]]:
        """The channel's ``customer`` table as written by the distribute job."""
        conn = sqlite3.connect(self.path)
        rows = conn.execute(
            "SELECT async_account, customer_account, record, synced_at FROM customer"
        ).fetchall()
        conn.close()
        return {
            row[0]: {
                "customer_account": row[1],
                "record": json.loads(row[2]) if row[2] else None,
                "synced_at": row[3],
            }
            for row in rows
        }


def person(first: str = "Anna", last: str = "Svensson", **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "type": "person",
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}@example.se".lower(),
        "phone": "+46 70 123 45 67",
        "currency": "SEK",
        "language": "sv-SE",
    }
    fields.update(extra)
    return fields


def address(address_id: str = "A1", **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "address_id": address_id,
        "street": "Drottninggatan 1",
        "city": "Stockholm",
        "zip_code": "11151",
        "country": "SWE",
        "purpose": "home",
        "is_primary": True,
    }
    fields.update(extra)
    return fields


@dataclass
class Workspace:
    """A temporary folder with a config, channel databases and a store path."""

    root: Path
    channels: dict[str, ChannelDB] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.root / "custsync.yaml"

    @property
    def store_path(self) -> Path:
        return self.root / "custsync.db"

    def channel(self, name: str = "web-se") -> ChannelDB:
        if name not in self.channels:
            (self.root / "channels").mkdir(exist_ok=True)
            self.channels[name] = ChannelDB(self.root / "channels" / f"{name}.db")
            self.write_config()
        return self.channels[name]

    def write_config(self, **settings: Any) -> Path:
        self.settings.update(settings)
        data: dict[str, Any] = {
            "store": "custsync.db",
            "channels": [
                {"name": name, "database": f"channels/{name}.db"} for name in self.channels
            ],
        }
        data.update(self.settings)
        self.config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return self.config_path

    def store(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.store_path)
        conn.row_factory = sqlite3.Row
        return conn

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "CUSTSYNC_CONFIG": str(self.config_path),
                "CUSTSYNC_ACTOR": "tester",
                "NO_COLOR": "1",
                "COLUMNS": "200",
            }
        )
        env.pop("CUSTSYNC_DB", None)
        env.pop("CUSTSYNC_FAULT", None)
        env.update(extra)
        return env

    def run(
        self,
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run the installed ``custsync`` command as cron would: a real subprocess."""
        return subprocess.run(
            [custsync_executable(), *args],
            cwd=self.root,
            env=env or self.env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class TerminalResult:
    """What a command wrote to its terminal (stdout, with ``\\r\\n`` made ``\\n``) and to stderr."""

    exit_code: int
    screen: str
    stderr: str

    @property
    def plain(self) -> str:
        """The screen without styling escapes (NO_COLOR still allows bold and underline)."""
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.screen)

    @property
    def plain_lines(self) -> list[str]:
        return self.plain.splitlines()


def run_in_terminal(
    args: list[str],
    *,
    columns: int,
    rows: int = 50,
    env: dict[str, str],
    cwd: Path,
    timeout: float = 120,
) -> TerminalResult:
    """Run the installed ``custsync`` with stdin and stdout on a real pseudo-terminal of that size.

    stderr goes to a file, so messages can be told from data. ``COLUMNS`` and ``LINES`` are
    removed, so the command sees the terminal's own size, as it would in a shell.
    """
    import fcntl
    import struct
    import tempfile
    import termios

    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    chunks: list[bytes] = []
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                [custsync_executable(), *args],
                cwd=cwd,
                env=env,
                stdin=slave,
                stdout=slave,
                stderr=err,
                start_new_session=True,
            )
        finally:
            os.close(slave)
        try:
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every copy of the terminal's other end is closed
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            exit_code = proc.wait(timeout=timeout)
        finally:
            os.close(master)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    screen = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return TerminalResult(exit_code, screen, stderr)


def answer_on_terminal(
    ws: Workspace, args: list[str], answers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    """Run the installed ``custsync`` on a pseudo-terminal, writing each answer once its prompt
    (the first of the pair) has appeared; the exit status and everything the terminal showed."""
    import pty
    import select

    main, secondary = pty.openpty()
    process = subprocess.Popen(
        [custsync_executable(), *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=ws.env(),
        cwd=ws.root,
    )
    os.close(secondary)
    output = b""
    pending = list(answers)
    asked_at = 0
    try:
        while True:
            ready, _, _ = select.select([main], [], [], 30)
            if not ready:
                process.kill()
                raise AssertionError(f"no prompt; output so far: {output!r}")
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if pending and pending[0][0] in output[asked_at:]:
                asked_at = len(output)
                os.write(main, pending.pop(0)[1])
    finally:
        os.close(main)
    return process.wait(timeout=30), output
