"""The Typer app: global options, and only the command groups that a command line needs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from importlib import import_module
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from custsync_cli import __version__
from custsync_cli.cli import metavars, state
from custsync_cli.cli.fast import COMPLETE_VAR

# Registration order is the order of the help panels and commands: Audit, Repair, Jobs, Setup.
MODULES = (
    "audit_cmds",
    "repair_cmds",
    "jobs_cmds",
    "channel_cmds",
    "status_cmds",
    "setup_cmds",
    "admin_cmds",
)
# The module that registers each top-level command; tests check it against the full app.
COMMANDS = {
    "list": "audit_cmds",
    "show": "audit_cmds",
    "views": "audit_cmds",
    "customer": "audit_cmds",
    "audit": "audit_cmds",
    "edit": "repair_cmds",
    "resync": "repair_cmds",
    "discard": "repair_cmds",
    "link": "repair_cmds",
    "run-jobs": "jobs_cmds",
    "channel": "channel_cmds",
    "status": "status_cmds",
    "jobs": "status_cmds",
    "init": "setup_cmds",
    "demo": "setup_cmds",
    "load-ops": "setup_cmds",
    "backup": "admin_cmds",
    "archive": "admin_cmds",
}
VALUE_OPTIONS = frozenset({"--config", "--db", "--actor"})
FLAG_OPTIONS = frozenset({"--no-color"})


class CustsyncGroup(TyperGroup):
    """The root command: built after every subcommand, so it gives them all their metavars."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        metavars.apply(self)

    def get_params(self, ctx: Any) -> list[Any]:
        # Typer appends the shell-completion options after building this group.
        params = super().get_params(ctx)
        metavars.apply_params(params)
        return params


def _version(value: bool) -> None:
    if value:
        typer.echo(f"custsync {__version__}")
        raise typer.Exit()


def global_options(
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            envvar="CUSTSYNC_CONFIG",
            metavar="FILE",
            help="Config file (default ./custsync.yaml).",
            show_default=False,
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="CUSTSYNC_DB",
            metavar="FILE",
            help="Audit store, overriding the config's 'store'.",
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            envvar="CUSTSYNC_ACTOR",
            metavar="NAME",
            help="Name recorded in the audit log (default: your login name).",
        ),
    ] = None,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour (also: NO_COLOR set).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options apply to every command."""
    state.options.config = config
    state.options.db = db
    state.options.actor = actor
    if no_color:
        from custsync_cli.output.console import set_no_color

        set_no_color(True)


@cache
def make_app(modules: tuple[str, ...] = MODULES) -> typer.Typer:
    """The app with the commands of ``modules``; all of them unless a command line needs one."""
    app = typer.Typer(
        name="custsync",
        cls=CustsyncGroup,
        help=(
            "Audit and repair the asynchronous synchronization of customer operations between"
            " sales channels and headquarters.\n\nExample: custsync demo"
        ),
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        rich_markup_mode="rich",
    )
    app.callback()(global_options)
    for name in MODULES:
        if name in modules:
            import_module(f"custsync_cli.cli.{name}").register(app)
    return app


def modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules ``argv`` needs: the one of its command, else all of them.

    All of them whenever the command is unclear, so that help, suggestions for misspelt
    commands and shell completion see every command.
    """
    if os.environ.get(COMPLETE_VAR):
        return MODULES
    args = iter(argv)
    for arg in args:
        if arg in VALUE_OPTIONS:
            next(args, None)
        elif arg in FLAG_OPTIONS or arg.split("=", 1)[0] in VALUE_OPTIONS:
            continue
        elif arg in COMMANDS:
            return (COMMANDS[arg],)
        else:
            break
    return MODULES


def app_for(argv: Sequence[str]) -> typer.Typer:
    return make_app(modules_for(argv))


def run(argv: Sequence[str]) -> Any:
    """Parse and run ``argv`` with Typer, global options given after the command included."""
    command = typer.main.get_command(app_for(argv))
    return command.main(
        args=hoist_globals(argv, command), prog_name="custsync", standalone_mode=False
    )


def hoist_globals(argv: Sequence[str], root: Any) -> list[str]:
    """``argv`` with the global options found after the command name moved in front of it.

    Only tokens in option position move: not the value of the command's own options (``edit
    --set --db``), not a command's own option of the same name (``audit --actor``), and
    nothing after ``--``. Commands, subcommands and their options come from the Click
    ``root`` command.
    """
    args = list(argv)
    start = 0
    while start < len(args) and not _is_command(root, args[start]):
        token = args[start]
        if token in VALUE_OPTIONS:
            start += 1
        elif not (token in FLAG_OPTIONS or token.split("=", 1)[0] in VALUE_OPTIONS):
            return args
        start += 1
    if start >= len(args):
        return args
    command = root.commands[args[start]]
    moved: list[str] = []
    kept = [args[start]]
    rest = iter(args[start + 1 :])
    for token in rest:
        if token == "--":
            kept += [token, *rest]
            break
        name, eq, _ = token.partition("=")
        own = _own_option(command, name if eq and token.startswith("--") else token)
        if own is not None:
            kept.append(token)
            if not eq and not own.is_flag and own.nargs > 0:
                kept.append(next(rest, ""))
        elif token in VALUE_OPTIONS:
            value = next(rest, None)
            if value is None or value.startswith("-"):
                from custsync_cli.errors import UsageError

                raise UsageError(f"option {token} needs a value")
            moved += [token, value]
        elif name in VALUE_OPTIONS or token in FLAG_OPTIONS:
            moved.append(token)
        else:
            if _is_command(command, token):
                command = command.commands[token]
            kept.append(token)
    return args[:start] + moved + kept


def _is_command(group: Any, token: str) -> bool:
    return token in (getattr(group, "commands", None) or {})


def _own_option(command: Any, name: str) -> Any:
    for param in command.params:
        if param.param_type_name == "option" and name in (*param.opts, *param.secondary_opts):
            return param
    return None
