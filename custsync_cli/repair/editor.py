"""Edit an operation in $VISUAL/$EDITOR as YAML, reopening on errors when the operator asks."""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custsync_cli.domain.fields import Catalogue
from custsync_cli.domain.models import FieldError, Operation
from custsync_cli.errors import CustsyncError, UsageError

ERROR_MARK = "# ERROR: "
EDIT_PREFIX = "custsync-edit-"
# custsync-edit-<operation>-<pid of the editing custsync>-<random>.yaml
IN_PROGRESS = re.compile(rf"^{EDIT_PREFIX}\d+-(\d+)-[^/]*\.yaml$")


class DocumentError(ValueError):
    """The saved document cannot be applied; the message goes at the top of the reopened file."""


@dataclass
class EditorOutcome:
    """Field values to set and fields to unset, the reason, and the file kept on conflict."""

    sets: dict[str, str]
    unsets: list[str]
    reason: str
    path: Path


def _string_loader() -> type[Any]:
    """A safe YAML loader that reads every scalar as text except null, as the store keeps it."""
    import yaml

    from custsync_cli.yamlio import BoundedLoader

    class StringLoader(BoundedLoader):
        pass

    StringLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return StringLoader


def build_document(
    op: Operation, errors: list[FieldError], catalogue: Catalogue, reason: str | None
) -> str:
    """The YAML the operator edits: reason, the operation's fields, errors as comments."""
    import yaml

    lines = [
        f"# Editing operation {op.id}: {op.operation} of async customer {op.async_account}"
        f" on {op.channel}, {op.status}, version {op.version}.",
        "# Change values under 'fields', add a field, or delete a line to unset that field.",
        "# Give a reason, save and quit. Saving an unchanged file cancels the edit.",
    ]
    if errors:
        lines.append("#")
        lines.append("# Current errors:")
        lines.extend(f"#   {e.field}: {e.message} [{e.code}]" for e in errors)
    if op.kind is not None:
        others = [name for name in catalogue.allowed_for(op.kind) if name not in op.values]
        if others:
            lines.append("#")
            lines.append(f"# Other fields you can add: {', '.join(others)}")
    body = yaml.safe_dump(
        {"reason": reason or "", "fields": dict(op.values)},
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,
    )
    return "\n".join(lines) + "\n" + body


def parse_document(
    text: str, op: Operation, catalogue: Catalogue
) -> tuple[dict[str, str], list[str], str]:
    """(sets, unsets, reason) from a saved document; raise DocumentError if it cannot apply."""
    import yaml

    from custsync_cli import yamlio
    from custsync_cli.domain.fields import to_text

    try:
        data = yamlio.load(text, _string_loader())
    except yaml.YAMLError as exc:
        raise DocumentError(f"the file is not valid YAML{yamlio.describe(exc)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("fields", {}), dict):
        raise DocumentError("the file must have 'reason:' and a 'fields:' mapping")
    unknown_keys = sorted(set(data) - {"reason", "fields"})
    if unknown_keys:
        raise DocumentError(f"unknown key(s) {', '.join(unknown_keys)}: keep reason and fields")
    fields: dict[str, Any] = data.get("fields") or {}
    if op.kind is None:
        raise DocumentError(f"operation {op.id} has an unknown operation type")
    allowed = catalogue.allowed_for(op.kind)
    for name, value in fields.items():
        if isinstance(value, dict | list):
            raise DocumentError(f"field '{name}' must be a single value, not a list or mapping")
        kept_as_sent = name in op.values and to_text(value) == op.values[name]
        if name not in allowed and not kept_as_sent:
            raise DocumentError(
                f"unknown field '{name}' for {op.kind.value} (valid fields: {', '.join(allowed)})"
            )
    desired = {str(name): to_text(value) for name, value in fields.items()}
    sets = {
        name: value or ""
        for name, value in desired.items()
        if name not in op.values or op.values[name] != value
    }
    unsets = [name for name in op.values if name not in desired]
    reason = data.get("reason")
    return sets, unsets, str(reason).strip() if reason is not None else ""


def editor_command() -> list[str]:
    """$VISUAL, else $EDITOR, else vi on a terminal; refuse when there is nothing to run."""
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not command:
        if not sys.stdin.isatty():
            raise UsageError("set $EDITOR (or $VISUAL), or edit with --set FIELD=VALUE --reason")
        command = "vi"
    return shlex.split(command)


def _strip_error_header(text: str) -> str:
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith(ERROR_MARK):
        lines.pop(0)
    return "".join(lines)


def edit_folder(store_path: Path) -> Path:
    """The private folder (0700) for edit files: under $XDG_RUNTIME_DIR, else beside the store.

    Edit files hold customer data and outlive a killed custsync, so they stay out of /tmp.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and Path(runtime).is_dir():
        folder = Path(runtime) / "custsync"
    else:
        folder = store_path.resolve().parent / ".custsync-edit"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise CustsyncError(f"{folder} is not a folder of this user; remove it and try again")
        if info.st_mode & 0o077:
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise CustsyncError(
            f"cannot make the private edit folder {folder}: {exc.strerror}"
        ) from None
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_edits(folder: Path) -> list[Path]:
    """Remove edit files whose custsync process has ended (killed while the editor was open)."""
    removed = []
    for path in folder.iterdir():
        match = IN_PROGRESS.match(path.name)
        if match and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def keep_edit(path: Path) -> Path:
    """Rename an edit file the operator must find again, so stale clean-up leaves it alone."""
    kept = path.with_name(path.name.replace(f"-{os.getpid()}-", "-kept-", 1))
    try:
        path.rename(kept)
    except OSError:
        return path
    return kept


def edit_interactively(
    document: str,
    op: Operation,
    catalogue: Catalogue,
    *,
    reason_given: str | None,
    folder: Path,
    reopen: Callable[[str], bool],
    launch: Callable[[Path], int] | None = None,
) -> EditorOutcome | None:
    """The edit the saved document asks for; None when nothing changed (edit cancelled).

    The file lives in ``folder`` (see ``edit_folder``), named with this process's pid. A
    document that does not apply is reopened with the error on top only when ``reopen`` (the
    operator's answer, given the error) says so; otherwise, or when the editor fails after the
    file changed, the file is kept for the operator (``keep_edit``) and its path given.
    """
    launch = launch or _launch_editor
    remove_stale_edits(folder)
    handle, name = tempfile.mkstemp(
        prefix=f"{EDIT_PREFIX}{op.id}-{os.getpid()}-", suffix=".yaml", dir=folder
    )
    os.close(handle)
    path = Path(name)
    text = document
    kept: Path | None = None
    try:
        while True:
            path.write_text(text, encoding="utf-8")
            status = launch(path)
            saved = path.read_text(encoding="utf-8")
            if status != 0:
                failed = f"editor '{editor_name()}' exited with status {status}; nothing was saved"
                if saved == text:
                    raise CustsyncError(failed)
                kept = keep_edit(path)
                raise CustsyncError(f"{failed} (your edits were kept in {kept})")
            if saved == text and text != document:
                kept = keep_edit(path)
                raise UsageError(
                    "edit cancelled: the file was saved unchanged with the error at its top;"
                    f" nothing was saved (your edits were kept in {kept})"
                )
            try:
                sets, unsets, reason = parse_document(saved, op, catalogue)
                if not sets and not unsets:
                    path.unlink(missing_ok=True)
                    return None
                reason = reason or (reason_given or "").strip()
                if not reason:
                    raise DocumentError("give a reason: it goes into the audit log")
            except DocumentError as exc:
                text = f"{ERROR_MARK}{exc}\n" + _strip_error_header(saved)
                if reopen(str(exc)):
                    continue
                path.write_text(text, encoding="utf-8")
                kept = keep_edit(path)
                raise UsageError(
                    f"{exc}; nothing was saved (your edits were kept in {kept})"
                ) from None
            return EditorOutcome(sets, unsets, reason, path)
    except BaseException:
        if kept is None:
            path.unlink(missing_ok=True)
        raise


def editor_name() -> str:
    """The editor's program, as messages name it."""
    return editor_command()[0]


def _launch_editor(path: Path) -> int:
    command = editor_command()
    try:
        completed = subprocess.run([*command, str(path)], check=False)
    except OSError as exc:
        raise CustsyncError(f"cannot start editor '{command[0]}': {exc.strerror}") from None
    return completed.returncode
