"""The list filters (declared in ``custsync_cli.filter_set``) as Typer options for any command."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from custsync_cli.filter_set import FILTERS, PANEL, Filter

if TYPE_CHECKING:
    import sqlite3

    from custsync_cli.config import Config
    from custsync_cli.store.filters import OperationFilter


@dataclass(frozen=True)
class FilterOptions:
    """The filter options as typed, by filter name, only those given, and the saved view
    named by ``--view``; ``build`` combines and checks them."""

    typed: dict[str, str | list[str]] = field(default_factory=dict)
    view: str | None = None

    @classmethod
    def of(
        cls, typed: Mapping[str, str | Sequence[str] | None], view: str | None = None
    ) -> FilterOptions:
        kept: dict[str, str | list[str]] = {}
        for name, value in typed.items():
            if isinstance(value, str):
                kept[name] = value
            elif value:
                kept[name] = list(value)
        return cls(kept, view)

    def build(self, config: Config, conn: sqlite3.Connection) -> OperationFilter:
        """Checked against the field catalogue, the error codes and the known channels."""
        from custsync_cli.cli.read import catalogue_of
        from custsync_cli.filter_set import combine
        from custsync_cli.store.filters import Vocabulary, build

        typed = self.typed
        if self.view is not None:
            typed = combine(config.view(self.view).typed, typed)
        channels = [channel.name for channel in config.channels]
        return build(typed, Vocabulary(catalogue_of(config), channels, conn))


VIEW_PARAMETER = "view"


def view_annotation() -> Any:
    """The Typer annotation of ``--view NAME``."""
    import typer

    from custsync_cli.cli.completion import complete_view

    return Annotated[
        str | None,
        typer.Option(
            "--view",
            metavar="NAME",
            help="A saved view from the config's views: (combines with the other filters).",
            rich_help_panel=PANEL,
            autocompletion=complete_view,
        ),
    ]


def option_annotation(declared: Filter) -> Any:
    """The Typer annotation of one filter's option."""
    import typer

    from custsync_cli.cli.completion import complete_filter

    value_type: Any = list[str] | None if declared.repeatable else str | None
    return Annotated[
        value_type,
        typer.Option(
            declared.option,
            metavar=declared.metavar,
            help=declared.help,
            rich_help_panel=PANEL,
            autocompletion=complete_filter(declared),
        ),
    ]


class FilteredCommand:
    """A command function with the filter options added to the signature that Typer reads.

    The function takes ``filters: FilterOptions`` (keyword-only) instead of one parameter per
    filter, so that a new filter touches only ``filter_set.FILTERS``.
    """

    __signature__: inspect.Signature

    def __init__(self, func: Callable[..., Any]) -> None:
        functools.update_wrapper(self, func)
        self._func = func
        # Typer reads a given __signature__ as is, so string annotations are evaluated here.
        signature = inspect.signature(func, eval_str=True)
        kept = [p for p in signature.parameters.values() if p.name != "filters"]
        added = [
            inspect.Parameter(
                declared.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=option_annotation(declared),
            )
            for declared in FILTERS
        ]
        added.append(
            inspect.Parameter(
                VIEW_PARAMETER,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=view_annotation(),
            )
        )
        self.__signature__ = signature.replace(parameters=kept + added)
        self.__annotations__ = {p.name: p.annotation for p in kept + added}

    def __call__(self, **kwargs: Any) -> Any:
        typed = {declared.name: kwargs.pop(declared.name, None) for declared in FILTERS}
        view = kwargs.pop(VIEW_PARAMETER, None)
        return self._func(**kwargs, filters=FilterOptions.of(typed, view))


def with_filters(func: Callable[..., Any]) -> FilteredCommand:
    """Add the filter options to a command; it receives them as ``filters: FilterOptions``."""
    return FilteredCommand(func)
