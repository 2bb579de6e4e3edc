"""Help metavars: a word for what to type after each option, nothing after a flag.

Typer's own help shows the Python type (``<str>``, ``<bool>``, ``<int range> [x>=1]``); this
gives every parameter without an explicit ``metavar`` one by its type, once, for every command.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

import typer

# The default per type; a parameter whose meaning is more specific (FILE, NAME...) says so
# with its own metavar. Every fractional value the command line takes is seconds to wait.
BY_TYPE: dict[type, str] = {int: "N", float: "SECONDS", str: "TEXT", Path: "PATH"}


def _element_type(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", None)
    return args[0] if getattr(annotation, "__origin__", None) is list and args else annotation


def choices(param: Any) -> list[str]:
    """The allowed values of a parameter typed by an Enum or parsed by ``Formats``, else none."""
    from custsync_cli.output.render import Formats

    parser = getattr(param.type_descriptor.parameter_info, "parser", None)
    if isinstance(parser, Formats):
        return [str(choice.value) for choice in parser.choices]
    annotation = _element_type(param.type_descriptor.annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    return []


def is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False))


def metavar_for(param: Any) -> str:
    """What the help shows after ``param``: its own metavar, a word by its type, or nothing."""
    if is_flag(param):
        return ""
    if param.metavar:
        return str(param.metavar)
    if choices(param):
        long_names = [opt for opt in param.opts if opt.startswith("--")]
        return str(long_names[0] if long_names else param.name).lstrip("-").upper()
    annotation = _element_type(param.type_descriptor.annotation)
    for kind, word in BY_TYPE.items():
        if isinstance(annotation, type) and issubclass(annotation, kind):
            return word
    return str(param.name).upper()


def _with_choices(help_text: str, allowed: list[str]) -> str:
    if all(re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", help_text) for c in allowed):
        return help_text
    text, example, rest = help_text.partition(" Example:")
    return f"{text} One of: {', '.join(allowed)}.{example}{rest}".strip()


def _no_type(ctx: Any) -> None:
    return None


def apply_params(params: list[Any]) -> None:
    """Give each parameter its metavar, and drop what Typer would print beside it."""
    for param in params:
        param.metavar = metavar_for(param)
        # The bounds are checked on parsing; in the help they only crowd the metavar.
        param.min = param.max = None
        if type(param).__name__.endswith("Argument"):
            # The argument's name column already shows its metavar; Typer adds the type.
            param.display_type_rich = _no_type
        elif allowed := choices(param):
            param.help = _with_choices(param.help or "", allowed)


def apply(command: Any) -> None:
    """Every parameter of ``command`` and its subcommands, their help options included."""
    help_option = command.get_help_option(typer.Context(command))
    apply_params([*command.params, *([help_option] if help_option else [])])
    for sub in getattr(command, "commands", {}).values():
        apply(sub)
