"""The list filters of DESIGN §4 as one set of options that any command can take."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

if TYPE_CHECKING:
    from custsync_cli.domain.fields import Catalogue
    from custsync_cli.store.queries import OperationFilter

PANEL = "Filters"


@functools.cache
def filter_options() -> dict[str, Any]:
    """The Typer annotation of each filter option, by parameter name."""
    import typer

    from custsync_cli.cli import completion

    return {
        "status": Annotated[
            list[str] | None,
            typer.Option(
                "--status",
                metavar="STATUS",
                help="pending, blocked, failed, synced or discarded (repeatable).",
                rich_help_panel=PANEL,
                autocompletion=completion.complete_status,
            ),
        ],
        "channel": Annotated[
            list[str] | None,
            typer.Option(
                "--channel",
                metavar="NAME",
                help="Channel name (repeatable).",
                rich_help_panel=PANEL,
                autocompletion=completion.complete_channel,
            ),
        ],
        "operation": Annotated[
            list[str] | None,
            typer.Option(
                "--operation",
                metavar="TYPE",
                help="Operation type, e.g. create_customer (repeatable).",
                rich_help_panel=PANEL,
                autocompletion=completion.complete_operation_type,
            ),
        ],
        "since": Annotated[
            str | None,
            typer.Option(
                "--since",
                metavar="TIME",
                help="From this time: 2026-11-20, 2026-11-20T14:00, 2h, 3d.",
                rich_help_panel=PANEL,
            ),
        ],
        "until": Annotated[
            str | None,
            typer.Option(
                "--until",
                metavar="TIME",
                help="Up to this time (same forms as --since).",
                rich_help_panel=PANEL,
            ),
        ],
        "customer_account": Annotated[
            str | None,
            typer.Option(
                "--customer-account",
                metavar="ACCOUNT",
                help="HQ customer account, e.g. C000123.",
                rich_help_panel=PANEL,
            ),
        ],
        "async_account": Annotated[
            str | None,
            typer.Option(
                "--async-account",
                metavar="GUID",
                help="The channel's async customer GUID.",
                rich_help_panel=PANEL,
            ),
        ],
        "error": Annotated[
            str | None,
            typer.Option(
                "--error",
                metavar="TEXT",
                help="Text in the error message or code.",
                rich_help_panel=PANEL,
            ),
        ],
        "error_code": Annotated[
            str | None,
            typer.Option(
                "--error-code",
                metavar="CODE",
                help="Stable error code, e.g. invalid_email.",
                rich_help_panel=PANEL,
                autocompletion=completion.complete_error_code,
            ),
        ],
        "where": Annotated[
            list[str] | None,
            typer.Option(
                "--where",
                metavar="FIELD=VALUE",
                help="FIELD=VALUE, or FIELD~TEXT for contains, on any customer or"
                " address field or attribute (repeatable).",
                rich_help_panel=PANEL,
                autocompletion=completion.complete_field,
            ),
        ],
    }


@dataclass
class FilterOptions:
    """The raw filter options as typed; ``build`` checks them against the field catalogue."""

    status: list[str] | None = None
    channel: list[str] | None = None
    operation: list[str] | None = None
    since: str | None = None
    until: str | None = None
    customer_account: str | None = None
    async_account: str | None = None
    error: str | None = None
    error_code: str | None = None
    where: list[str] | None = None

    def build(self, catalogue: Catalogue) -> OperationFilter:
        from custsync_cli.store.queries import FieldMatch, OperationFilter
        from custsync_cli.timeutil import parse_moment

        flt = OperationFilter(
            statuses=list(self.status or []),
            channels=list(self.channel or []),
            operations=list(self.operation or []),
            since=parse_moment(self.since) if self.since else None,
            until=parse_moment(self.until) if self.until else None,
            customer_account=self.customer_account,
            async_account=self.async_account,
            error_text=self.error,
            error_code=self.error_code,
            where=[FieldMatch.parse(text, catalogue) for text in self.where or []],
        )
        flt.check()
        return flt


F = TypeVar("F", bound=Callable[..., Any])


def with_filters(func: F) -> F:
    """Add the filter options to a command; it receives them as ``filters: FilterOptions``."""
    import inspect

    options = filter_options()
    # Typer reads a given __signature__ as is, so string annotations must be evaluated here.
    signature = inspect.signature(func, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.name != "filters"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        for name, annotation in options.items()
    ]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        values = {name: kwargs.pop(name, None) for name in options}
        return func(**kwargs, filters=FilterOptions(**values))

    wrapper.__signature__ = signature.replace(parameters=kept + added)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **{p.name: p.annotation for p in kept},
        **options,
    }
    return wrapper  # type: ignore[return-value]
