"""Edit an operation in $VISUAL/$EDITOR as YAML, reopening on errors as ``kubectl edit`` does."""

from __future__ import annotations

import os
import shlex
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
        raise DocumentError(f"the file is not valid YAML: {' '.join(str(exc).split())}") from None
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


def edit_interactively(
    document: str,
    op: Operation,
    catalogue: Catalogue,
    *,
    reason_given: str | None,
    launch: Callable[[Path], None] | None = None,
) -> EditorOutcome | None:
    """Loop until the saved document applies; None when nothing changed (edit cancelled)."""
    launch = launch or _launch_editor
    handle, name = tempfile.mkstemp(prefix=f"custsync-edit-{op.id}-", suffix=".yaml")
    os.close(handle)
    path = Path(name)
    text = document
    try:
        while True:
            path.write_text(text, encoding="utf-8")
            launch(path)
            saved = path.read_text(encoding="utf-8")
            if saved == text and text != document:
                raise UsageError(
                    "edit cancelled: the file was saved unchanged with the error at its top;"
                    " nothing was saved"
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
                continue
            return EditorOutcome(sets, unsets, reason, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _launch_editor(path: Path) -> None:
    command = editor_command()
    try:
        completed = subprocess.run([*command, str(path)], check=False)
    except OSError as exc:
        raise CustsyncError(f"cannot start editor '{command[0]}': {exc.strerror}") from None
    if completed.returncode != 0:
        raise CustsyncError(
            f"editor '{command[0]}' exited with status {completed.returncode}; nothing was saved"
        )
