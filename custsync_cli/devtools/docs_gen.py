"""Generate docs/reference.md from the help text, and the runbook's error-code table.

Usage: python -m custsync_cli.devtools.docs_gen > docs/reference.md
       python -m custsync_cli.devtools.docs_gen --runbook docs/runbook.md
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

HEADER = """\
# Command reference

Generated from the help text by `python -m custsync_cli.devtools.docs_gen > docs/reference.md`;
do not edit by hand (a test fails when this file and the help text disagree).
Every command also prints this with `custsync COMMAND --help`.
"""
PANEL_ORDER = ("Audit", "Repair", "Jobs", "Setup")


def root_command() -> Any:
    """The click command tree behind ``custsync``."""
    import typer

    from custsync_cli.cli.typer_app import make_app

    return typer.main.get_command(make_app())


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every visible command and group below ``command``, depth first, in declaration order."""
    for name, sub in getattr(command, "commands", {}).items():
        if getattr(sub, "hidden", False):
            continue
        yield (*path, name), sub
        yield from walk(sub, (*path, name))


def visible_params(command: Any) -> list[Any]:
    return [p for p in command.params if not getattr(p, "hidden", False) and p.name != "help"]


def _default(param: Any) -> str:
    value = param.default
    if value is None or value is False or value == [] or param.required:
        return ""
    if getattr(param, "is_flag", False) and value is True:
        return "on"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path):
        value = str(value)
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def param_row(param: Any) -> tuple[str, str, str, str]:
    """(name, value, default, help) of one option or argument."""
    is_option = type(param).__name__.endswith("Option")
    if is_option:
        names = ", ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
    else:
        names = f"`{param.metavar or param.name.upper()}`"
    value = ""
    from custsync_cli.cli.metavars import choices as allowed_values

    choices = allowed_values(param)
    if choices:
        value = "|".join(choices)
    elif is_option and not getattr(param, "is_flag", False):
        value = param.metavar or param.name.upper()
    if getattr(param, "multiple", False) or getattr(param, "nargs", 1) == -1:
        value = f"{value} (repeatable)" if value else "(repeatable)"
    help_text = param.help or ""
    if param.envvar:
        help_text += f" Env: `{param.envvar}`."
    return names, _cell(value), _default(param), _cell(help_text)


def command_section(path: tuple[str, ...], command: Any) -> list[str]:
    title = " ".join(("custsync", *path))
    lines = [f"### `{title}`", ""]
    help_text = inspect.cleandoc(command.help or "")
    for paragraph in help_text.split("\n\n"):
        text = paragraph.strip()
        if text.startswith("Example"):
            label, _, rest = text.partition(":")
            example = [line.strip() for line in rest.strip().splitlines()]
            lines += [f"{label}:", "", "```sh", *example, "```", ""]
        else:
            lines += [" ".join(text.split()), ""]
    params = visible_params(command)
    if params:
        lines += ["| option | value | default | help |", "|---|---|---|---|"]
        for row in (param_row(p) for p in params):
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    subs = [name for name, sub in getattr(command, "commands", {}).items() if not sub.hidden]
    if subs:
        lines += ["Subcommands: " + ", ".join(f"`{title} {name}`" for name in subs), ""]
    return lines


def reference() -> str:
    """The whole command reference as Markdown."""
    root = root_command()
    lines = [HEADER, "## Global options", ""]
    lines += [
        "`--config`, `--db`, `--actor` and `--no-color` go before or after the command"
        " (`custsync list --config x.yaml`); the command line wins over the environment."
        " A command's own option of the same name (`audit --actor`) stays its own, and"
        " nothing after `--` is read as an option.",
        "",
    ]
    lines += ["| option | value | default | help |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(param_row(p)) + " |" for p in visible_params(root)]
    lines += ["", "## Commands by group", ""]
    panels: dict[str, list[str]] = {}
    for name, sub in root.commands.items():
        if not sub.hidden:
            panels.setdefault(sub.rich_help_panel or "Other", []).append(name)
    order = [p for p in PANEL_ORDER if p in panels] + sorted(set(panels) - set(PANEL_ORDER))
    for panel in order:
        names = ", ".join(f"[`{n}`](#custsync-{n})" for n in panels[panel])
        lines.append(f"- **{panel}**: {names}")
    lines += ["", "## Commands", ""]
    for path, command in walk(root):
        lines += command_section(path, command)
    return "\n".join(lines).rstrip() + "\n"


CODES_START = re.compile(r"<!-- error-codes:.*?-->\n", re.S)
CODES_END = "<!-- error-codes:end -->"


def with_error_codes(runbook: str) -> str:
    """``runbook`` with the table between its error-code markers replaced by the catalogue."""
    from custsync_cli.domain.codes import markdown_table

    start = CODES_START.search(runbook)
    end = runbook.find(CODES_END)
    if start is None or end < start.end():
        raise SystemExit("the runbook has no <!-- error-codes: ... --> markers")
    return runbook[: start.end()] + markdown_table() + "\n" + runbook[end:]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--runbook"] and len(args) == 2:
        path = Path(args[1])
        path.write_text(with_error_codes(path.read_text("utf-8")), encoding="utf-8")
    elif args:
        raise SystemExit(__doc__)
    else:
        sys.stdout.write(reference())


if __name__ == "__main__":
    main()
