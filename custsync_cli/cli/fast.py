"""Run ``--version`` and the plainest ``list`` and ``show`` command lines without Typer.

Importing Typer and building the pydantic converters it uses for option values costs more
than the query these commands make. This parser takes only command lines it is sure of:
known options, each given at most once (the repeatable filters excepted), with values that
Typer would accept and convert the same way. Anything else (help, a misspelt, repeated or
invalid option, ``--``, shell completion) is left to Typer, so messages and exit codes stay
Typer's. ``tests/cli/test_fast.py`` checks that both parsers give the commands the same values.
"""

from __future__ import annotations

import os
import sys

from custsync_cli.errors import ExitCode

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing for --version
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from custsync_cli.output.render import Formats, OutputFormat

    Command = Callable[[], int]


class Declined(Exception):
    """The command line is not one this parser is sure of."""


class Spec:
    """A command's options: how each one is read, and the parameter it fills."""

    def __init__(
        self,
        run: Callable[..., None],
        options: dict[str, tuple[str, Callable[[str], Any]]],
        *,
        repeatable: frozenset[str] = frozenset(),
        flags: dict[str, str] | None = None,
        argument: tuple[str, Callable[[str], Any]] | None = None,
        filters: frozenset[str] = frozenset(),
    ) -> None:
        self.run = run
        self.options = options
        self.repeatable = repeatable
        self.flags = flags or {}
        self.argument = argument
        self.filters = filters


GLOBAL_OPTIONS = {"--config": "config", "--db": "db", "--actor": "actor"}
GLOBAL_ENV = {"config": "CUSTSYNC_CONFIG", "db": "CUSTSYNC_DB", "actor": "CUSTSYNC_ACTOR"}
COMPLETE_VAR = "_CUSTSYNC_COMPLETE"
VIEW = "view"  # the parameter of --view, which goes with the filters


def text(value: str) -> str:
    return value


def count(minimum: int) -> Callable[[str], int]:
    """A whole number of at least ``minimum``, written plainly (no sign, no leading zero)."""

    def convert(value: str) -> int:
        plain = value.isascii() and value.isdigit() and len(value) <= 18
        if not plain or (value[0] == "0" and value != "0") or int(value) < minimum:
            raise Declined(value)
        return int(value)

    return convert


def choice(formats: Formats) -> Callable[[str], OutputFormat]:
    """One of a command's formats, as its ``--format`` option parses it."""

    def convert(value: str) -> OutputFormat:
        try:
            return formats(value)
        except ValueError:
            raise Declined(value) from None

    return convert


def _list_spec() -> Spec:
    from custsync_cli.cli import read
    from custsync_cli.filter_set import FILTERS

    filters = {declared.option: declared.name for declared in FILTERS}
    return Spec(
        run=read.list_operations,
        options={
            "--limit": ("limit", count(0)),
            "--offset": ("offset", count(0)),
            "--format": ("output_format", choice(read.LIST_FORMATS)),
            "--view": (VIEW, text),
            **{option: (name, text) for option, name in filters.items()},
        },
        repeatable=frozenset(declared.option for declared in FILTERS if declared.repeatable),
        flags={
            "--wide": "wide",
            "--all": "every",
            "--no-headers": "no_headers",
            "--no-pager": "no_pager",
        },
        filters=frozenset(filters.values()),
    )


def _show_spec() -> Spec:
    from custsync_cli.cli import read

    return Spec(
        run=read.show_operation,
        options={"--format": ("output_format", choice(read.SHOW_FORMATS))},
        argument=("op", count(0)),
    )


SPECS: dict[str, Callable[[], Spec]] = {"list": _list_spec, "show": _show_spec}


def parse(argv: list[str]) -> Command | None:
    """The command ``argv`` asks for, ready to run; None when Typer should parse it."""
    if os.environ.get(COMPLETE_VAR):
        return None
    if argv == ["--version"]:
        return _version
    try:
        return _parse(argv)
    except Declined:
        return None


def _version() -> int:
    from custsync_cli import __version__

    sys.stdout.write(f"custsync {__version__}\n")
    return ExitCode.OK


def _value(option: str, inline: str | None, args: Iterator[str]) -> str:
    if inline is not None:
        return inline
    value = next(args, None)
    if value is None or value.startswith("-"):
        raise Declined(option)
    return value


def _parse(argv: list[str]) -> Command:
    args = iter(argv)
    globals_: dict[str, str] = {}
    no_color = False
    for arg in args:
        option, eq, rest = arg.partition("=")
        inline = rest if eq and option.startswith("--") else None
        name = GLOBAL_OPTIONS.get(option if inline is not None else arg)
        if name is not None and name not in globals_:
            globals_[name] = _value(arg, inline, args)
        elif arg == "--no-color" and not no_color:
            no_color = True
        elif arg in SPECS:
            spec = SPECS[arg]()
            break
        else:
            raise Declined(arg)
    else:
        raise Declined("no command")

    values: dict[str, Any] = {}
    for arg in args:
        option, eq, rest = arg.partition("=")
        inline = rest if eq and option.startswith("--") else None
        key = option if inline is not None else arg
        if key in GLOBAL_OPTIONS and GLOBAL_OPTIONS[key] not in globals_:
            globals_[GLOBAL_OPTIONS[key]] = _value(arg, inline, args)
        elif inline is None and arg == "--no-color" and not no_color:
            no_color = True
        elif key in spec.options:
            name, convert = spec.options[key]
            value = convert(_value(arg, inline, args))
            if key in spec.repeatable:
                values.setdefault(name, []).append(value)
            elif name in values:
                raise Declined(arg)
            else:
                values[name] = value
        elif inline is None and arg in spec.flags and spec.flags[arg] not in values:
            values[spec.flags[arg]] = True
        elif spec.argument is not None and not arg.startswith("-"):
            name, convert = spec.argument
            if name in values:
                raise Declined(arg)
            values[name] = convert(arg)
        else:
            raise Declined(arg)
    if spec.argument is not None and spec.argument[0] not in values:
        raise Declined("missing argument")

    settings = {
        name: globals_.get(name, os.environ.get(env) or None) for name, env in GLOBAL_ENV.items()
    }
    return lambda: _run(spec, values, settings, no_color)


def _run(
    spec: Spec, values: dict[str, Any], settings: dict[str, str | None], no_color: bool
) -> int:
    """Run the command as Typer would: global options first, and Typer's ends for ^C and EOF."""
    from custsync_cli.cli import state

    state.options.config = settings["config"]
    state.options.db = settings["db"]
    state.options.actor = settings["actor"]
    if no_color:
        from custsync_cli.output.console import set_no_color

        set_no_color(True)
    kwargs = {
        name: value
        for name, value in values.items()
        if name not in spec.filters and not (spec.filters and name == VIEW)
    }
    if spec.filters:
        from custsync_cli.cli.filters import FilterOptions

        picked = {name: value for name, value in values.items() if name in spec.filters}
        kwargs["filters"] = FilterOptions.of(picked, values.get(VIEW))
    try:
        spec.run(**kwargs)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except EOFError:
        from custsync_cli.output.console import error

        sys.stderr.write("\n")
        error("aborted")
        return ExitCode.INTERRUPTED
    return ExitCode.OK
