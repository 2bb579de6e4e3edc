"""Load and check ``custsync.yaml``: channels, store, number sequence, validation, attributes."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from custsync_cli.domain.settings import (
    ATTRIBUTE_TYPES,
    DEFAULT_MAX_LENGTHS,
    AttributeSpec,
    ValidationSettings,
)
from custsync_cli.errors import ConfigError, UsageError

CONFIG_ENV = "CUSTSYNC_CONFIG"
DEFAULT_CONFIG_NAME = "custsync.yaml"
# SQLite's largest integer: ids, counts, limits and offsets beyond it cannot be bound.
MAX_INTEGER = 2**63 - 1
# The longest pause between looped runs: a week (longer belongs to cron).
MAX_INTERVAL = 7 * 24 * 3600
# More operations per transaction only hold the lock longer; none of them gets faster.
MAX_BATCH_SIZE = 100_000
# 18 digits keep every account number below MAX_INTEGER.
MAX_SEQUENCE_WIDTH = 18
# A field longer than this is not a name or an address: a bound, not a typical limit.
MAX_FIELD_LENGTH = 100_000
# Attribute bounds are compared as decimals; beyond this a float has lost every unit.
MAX_NUMBER = 1e15
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


TOP_KEYS = {
    "store",
    "channels",
    "sequence",
    "validation",
    "attributes",
    "jobs",
    "retention",
    "views",
}


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    database: Path


@dataclass(frozen=True)
class SequenceConfig:
    name: str = "customer_account"
    prefix: str = "C"
    width: int = 6
    first: int = 1
    last: int = 999_999


@dataclass(frozen=True)
class JobsConfig:
    batch_size: int = 10_000
    interval: int = 60


@dataclass(frozen=True)
class RetentionConfig:
    """``retention:``; ``archive_after`` None means run-jobs archives nothing by itself."""

    archive_after: str | None = None
    folder: Path = Path("archive")


@dataclass(frozen=True)
class SavedView:
    """A named set of filter options (``views:`` in the config), used as ``--view NAME``."""

    name: str
    options: str
    typed: dict[str, str | list[str]]


@dataclass(frozen=True)
class Config:
    path: Path | None
    store: Path
    channels: tuple[ChannelConfig, ...]
    sequence: SequenceConfig = field(default_factory=SequenceConfig)
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    views: tuple[SavedView, ...] = ()

    def view(self, name: str) -> SavedView:
        """The saved view ``name``; a usage error naming the closest one and every view."""
        import difflib

        for view in self.views:
            if view.name == name:
                return view
        names = [view.name for view in self.views]
        if not names:
            raise UsageError(f"--view: unknown view '{name}' (the config defines no views)")
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UsageError(f"--view: unknown view '{name}'; {hint}(views: {', '.join(names)})")

    @property
    def attributes(self) -> tuple[AttributeSpec, ...]:
        return self.validation.attributes

    def channel(self, name: str) -> ChannelConfig:
        for channel in self.channels:
            if channel.name == name:
                return channel
        known = ", ".join(c.name for c in self.channels) or "none"
        raise ConfigError(f"unknown channel '{name}' (configured: {known})")


def find_config(explicit: str | None) -> Path:
    """The config path from ``--config``, then ``$CUSTSYNC_CONFIG``, then ``./custsync.yaml``."""
    chosen = explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_NAME
    return Path(chosen)


def load_config(path: Path) -> Config:
    """Read and check a config file; raise ConfigError naming the bad key."""
    import yaml

    from custsync_cli import yamlio

    if not path.exists():
        raise ConfigError(
            f"config file {path} not found (run 'custsync init' or pass --config / set "
            f"{CONFIG_ENV})"
        )
    try:
        text = yamlio.read_document(path)
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, or too large
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        data = yamlio.load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML{yamlio.describe(exc)}") from None
    return parse_config(data, path)


def parse_config(data: Any, path: Path | None) -> Config:
    """Build a Config from parsed YAML, checking every key and type."""
    where = str(path) if path else "config"
    base = path.parent if path else Path.cwd()
    top = _mapping(data, where, "the top level")
    _only_keys(top, TOP_KEYS, where)
    store = _resolve(base, _string(top.get("store", "custsync.db"), where, "store"))
    channels = _channels(top.get("channels", []), base, where)
    sequence = _sequence(top.get("sequence", {}), where)
    validation = _validation(top.get("validation", {}), where)
    attributes = _attributes(top.get("attributes", []), where)
    return Config(
        path=path,
        store=store,
        channels=channels,
        sequence=sequence,
        validation=replace(validation, attributes=attributes),
        jobs=_jobs(top.get("jobs", {}), where),
        retention=_retention(top.get("retention", {}), base, where),
        views=_views(top.get("views", {}), where),
    )


def _resolve(base: Path, value: str) -> Path:
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def _mapping(value: Any, where: str, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: '{key}' must be a mapping")
    return value


def _only_keys(mapping: dict[str, Any], allowed: set[str], where: str, prefix: str = "") -> None:
    for key in mapping:
        if key not in allowed:
            allowed_list = ", ".join(sorted(allowed))
            raise ConfigError(f"{where}: unknown key '{prefix}{key}' (allowed: {allowed_list})")


def _string(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    return value


def _integer(value: Any, where: str, key: str, minimum: int = 0, maximum: int = MAX_INTEGER) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ConfigError(f"{where}: '{key}' must be an integer from {minimum} to {maximum}")
    return value


def _number(value: Any, where: str, key: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not -MAX_NUMBER <= value <= MAX_NUMBER  # also refuses NaN
    ):
        raise ConfigError(
            f"{where}: '{key}' must be a number from -{MAX_NUMBER:.0e} to {MAX_NUMBER:.0e}"
        )
    return float(value)


def _string_list(value: Any, where: str, key: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _named_items(
    value: Any, where: str, section: str, shape: str, allowed: set[str]
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Each entry of a list of mappings that have a name: its key for messages, it, its name."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: '{section}' must be a list{shape}")
    for index, item in enumerate(value):
        key = f"{section}[{index}]"
        entry = _mapping(item, where, key)
        _only_keys(entry, allowed, where, f"{key}.")
        yield key, entry, _string(entry.get("name"), where, f"{key}.name")


def _channels(value: Any, base: Path, where: str) -> tuple[ChannelConfig, ...]:
    channels: list[ChannelConfig] = []
    items = _named_items(value, where, "channels", " of {name, database}", {"name", "database"})
    for key, entry, name in items:
        if not NAME_PATTERN.match(name):
            raise ConfigError(f"{where}: '{key}.name' must be letters, digits, '-', '_' or '.'")
        if any(c.name == name for c in channels):
            raise ConfigError(f"{where}: channel name '{name}' appears twice")
        database = _resolve(base, _string(entry.get("database"), where, f"{key}.database"))
        identity = file_identity(database)
        for other in channels:
            if file_identity(other.database) == identity:
                raise ConfigError(
                    f"{where}: channels '{other.name}' and '{name}' name the same database file"
                    f" {database}; each operation would be pulled twice"
                )
        channels.append(ChannelConfig(name=name, database=database))
    return tuple(channels)


def file_identity(path: Path) -> tuple[int, int] | str:
    """What makes two paths the same file: device and inode, or the real path if it is missing.

    Symlinks, ``..`` and hard links all reach one file under different names.
    """
    try:
        info = os.stat(path)
    except OSError:
        return os.path.realpath(path)
    return (info.st_dev, info.st_ino)


def _sequence(value: Any, where: str) -> SequenceConfig:
    entry = _mapping(value, where, "sequence")
    _only_keys(entry, {"name", "prefix", "width", "first", "last"}, where, "sequence.")
    default = SequenceConfig()
    prefix = entry.get("prefix", default.prefix)
    if not isinstance(prefix, str):
        raise ConfigError(f"{where}: 'sequence.prefix' must be a string")
    width = _integer(
        entry.get("width", default.width), where, "sequence.width", 1, MAX_SEQUENCE_WIDTH
    )
    sequence = SequenceConfig(
        name=_string(entry.get("name", default.name), where, "sequence.name"),
        prefix=prefix,
        width=width,
        first=_integer(entry.get("first", default.first), where, "sequence.first", 0),
        # Without an explicit last, the sequence runs to the largest number of its width.
        last=_integer(entry.get("last", 10**width - 1), where, "sequence.last", 0),
    )
    if sequence.last < sequence.first:
        raise ConfigError(f"{where}: 'sequence.last' must not be below 'sequence.first'")
    if sequence.last >= 10**sequence.width:
        raise ConfigError(
            f"{where}: 'sequence.last' must fit in 'sequence.width' ({sequence.width} digits)"
        )
    return sequence


def _validation(value: Any, where: str) -> ValidationSettings:
    entry = _mapping(value, where, "validation")
    allowed = {
        "max_lengths",
        "currencies",
        "countries",
        "languages",
        "customer_groups",
        "duplicate_email",
        "phone_region",
    }
    _only_keys(entry, allowed, where, "validation.")
    lengths = dict(DEFAULT_MAX_LENGTHS)
    for name, length in _mapping(entry.get("max_lengths"), where, "validation.max_lengths").items():
        lengths[str(name)] = _integer(
            length, where, f"validation.max_lengths.{name}", 1, MAX_FIELD_LENGTH
        )
    duplicate = entry.get("duplicate_email", "fail")
    if duplicate not in ("fail", "warn"):
        raise ConfigError(f"{where}: 'validation.duplicate_email' must be 'fail' or 'warn'")
    region = entry.get("phone_region")
    if region is not None and (not isinstance(region, str) or len(region) != 2):
        raise ConfigError(f"{where}: 'validation.phone_region' must be a two-letter region")
    return ValidationSettings(
        max_lengths=lengths,
        currencies=_string_list(entry.get("currencies"), where, "validation.currencies"),
        countries=_string_list(entry.get("countries"), where, "validation.countries"),
        languages=_string_list(entry.get("languages"), where, "validation.languages"),
        customer_groups=_string_list(
            entry.get("customer_groups"), where, "validation.customer_groups"
        ),
        duplicate_email=duplicate,
        phone_region=region.upper() if region else None,
    )


def _attributes(value: Any, where: str) -> tuple[AttributeSpec, ...]:
    # On use: --help reads this module's bounds and needs no field catalogue.
    from custsync_cli.domain.fields import ADDRESS_FIELDS, CUSTOMER_FIELDS

    attributes: list[AttributeSpec] = []
    allowed = {"name", "type", "description", "required", "max_length", "min", "max", "choices"}
    for key, entry, name in _named_items(value, where, "attributes", "", allowed):
        if not re.match(r"^[a-z][a-z0-9_]{0,39}$", name):
            raise ConfigError(f"{where}: '{key}.name' must be lower-case letters, digits or '_'")
        if (
            name in CUSTOMER_FIELDS
            or name in ADDRESS_FIELDS
            or any(a.name == name for a in attributes)
        ):
            raise ConfigError(f"{where}: attribute name '{name}' is already a field")
        kind = entry.get("type")
        if kind not in ATTRIBUTE_TYPES:
            raise ConfigError(f"{where}: '{key}.type' must be one of {', '.join(ATTRIBUTE_TYPES)}")
        required = entry.get("required", False)
        if not isinstance(required, bool):
            raise ConfigError(f"{where}: '{key}.required' must be true or false")
        choices = _string_list(entry.get("choices"), where, f"{key}.choices") or ()
        if kind == "choice" and not choices:
            raise ConfigError(f"{where}: '{key}.choices' is needed for a choice attribute")
        max_length = entry.get("max_length")
        attributes.append(
            AttributeSpec(
                name=name,
                type=kind,
                description=str(entry.get("description", "")),
                required=required,
                max_length=None
                if max_length is None
                else _integer(max_length, where, f"{key}.max_length", 1, MAX_FIELD_LENGTH),
                min=None
                if entry.get("min") is None
                else _number(entry["min"], where, f"{key}.min"),
                max=None
                if entry.get("max") is None
                else _number(entry["max"], where, f"{key}.max"),
                choices=choices,
            )
        )
    return tuple(attributes)


def _jobs(value: Any, where: str) -> JobsConfig:
    entry = _mapping(value, where, "jobs")
    _only_keys(entry, {"batch_size", "interval"}, where, "jobs.")
    default = JobsConfig()
    return JobsConfig(
        batch_size=_integer(
            entry.get("batch_size", default.batch_size), where, "jobs.batch_size", 1, MAX_BATCH_SIZE
        ),
        interval=_integer(
            entry.get("interval", default.interval), where, "jobs.interval", 1, MAX_INTERVAL
        ),
    )


def _retention(value: Any, base: Path, where: str) -> RetentionConfig:
    from custsync_cli.errors import UsageError
    from custsync_cli.timeutil import parse_duration

    entry = _mapping(value, where, "retention")
    _only_keys(entry, {"archive_after", "folder"}, where, "retention.")
    after = entry.get("archive_after")
    if after is not None:
        after = _string(after, where, "retention.archive_after")
        try:
            parse_duration(after)
        except UsageError as exc:
            raise ConfigError(f"{where}: 'retention.archive_after': {exc.message}") from None
    folder = _resolve(base, _string(entry.get("folder", "archive/"), where, "retention.folder"))
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{where}: 'retention.folder' {folder} is a file, not a folder")
    return RetentionConfig(archive_after=after, folder=folder)


def _views(value: Any, where: str) -> tuple[SavedView, ...]:
    """``views: {NAME: "filter options as typed"}``; the option names are checked here, their
    values against the fields and channels by ``store.filters.check_views``."""
    import shlex

    from custsync_cli.filter_set import read_options

    views: list[SavedView] = []
    for name, options in _mapping(value, where, "views").items():
        key = f"views.{name}"
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise ConfigError(
                f"{where}: '{key}': a view name must be letters, digits, '-', '_' or '.'"
            )
        text = _string(options, where, key)
        try:
            typed = read_options(shlex.split(text))
        except ValueError as exc:  # shlex: an unclosed quote
            raise ConfigError(f"{where}: view '{name}': {exc}") from None
        except UsageError as exc:
            raise ConfigError(f"{where}: view '{name}': {exc.message}") from None
        views.append(SavedView(name, text, typed))
    return tuple(views)
