"""Config loading: defaults, relative paths, and a clear message naming every bad key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from custsync_cli.config import load_config
from custsync_cli.domain.settings import DEFAULT_MAX_LENGTHS
from custsync_cli.errors import ConfigError

MINIMAL = """\
store: custsync.db
channels:
  - name: web-se
    database: channels/web-se.db
  - name: store-042
    database: /abs/store-042.db
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "custsync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_config_has_defaults_and_resolves_paths(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.store == tmp_path / "custsync.db"
    assert [c.name for c in config.channels] == ["web-se", "store-042"]
    assert config.channels[0].database == tmp_path / "channels/web-se.db"
    assert config.channels[1].database == Path("/abs/store-042.db")
    assert config.sequence.prefix == "C" and config.sequence.width == 6
    assert config.validation.max_lengths == DEFAULT_MAX_LENGTHS
    assert config.validation.duplicate_email == "fail"
    assert config.jobs.batch_size == 10_000


def test_example_config_is_the_init_template_and_loads(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    example = (root / "examples" / "custsync.yaml").read_text(encoding="utf-8")
    template = (root / "custsync_cli" / "templates" / "custsync.yaml").read_text(encoding="utf-8")
    assert example == template
    config = load_config(write(tmp_path, example))
    assert config.validation.phone_region is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL + "colour: blue\n", "unknown key 'colour'"),
        (MINIMAL + "validation:\n  max_length: {}\n", "unknown key 'validation.max_length'"),
        (MINIMAL + "jobs:\n  batch_size: many\n", "'jobs.batch_size' must be an integer"),
        (MINIMAL + "sequence:\n  first: 10\n  last: 5\n", "'sequence.last' must not be below"),
        ("store: x.db\nchannels:\n  - name: web\n", "'channels[0].database' must be"),
        ("store: x.db\nchannels:\n  - {name: a, database: a.db, url: x}\n", "channels[0].url"),
        ("store: x.db\nchannels: {a: b}\n", "'channels' must be a list"),
        (
            "store: x.db\nchannels:\n  - {name: a, database: a.db}\n"
            "  - {name: a, database: b.db}\n",
            "appears twice",
        ),
        (MINIMAL + "validation:\n  duplicate_email: maybe\n", "'fail' or 'warn'"),
        (MINIMAL + "attributes:\n  - {name: tier, type: colour}\n", "'attributes[0].type'"),
        (MINIMAL + "attributes:\n  - {name: tier, type: choice}\n", "choices"),
        (MINIMAL + "attributes:\n  - {name: email, type: text}\n", "already a field"),
        (MINIMAL + "attributes: {tier: text}\n", "'attributes' must be a list"),
        (MINIMAL + "attributes:\n  - {name: tier, type: text, size: 3}\n", "attributes[0].size"),
        (MINIMAL + "attributes:\n  - {type: text}\n", "'attributes[0].name' must be"),
        ("- just\n- a list\n", "must be a mapping"),
        ("store: [unclosed\n", "malformed YAML at line"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert expected in caught.value.message
    assert "\n" not in caught.value.message


def test_missing_config_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="custsync init"):
        load_config(tmp_path / "nope.yaml")


def test_bad_config_through_the_cli_exits_2_without_traceback(workspace, cli) -> None:
    workspace.config_path.write_text("store: [oops\n", encoding="utf-8")
    result = cli("run-jobs")
    assert result.exit_code == 2
    assert "malformed YAML" in result.stderr
    assert "Traceback" not in result.stderr
    assert not workspace.store_path.exists()


@pytest.mark.parametrize("exists", [True, False])
def test_two_channels_on_one_database_file_are_refused(tmp_path: Path, exists: bool) -> None:
    channels = tmp_path / "channels"
    channels.mkdir()
    (tmp_path / "links").mkdir()
    if exists:
        (channels / "web.db").write_bytes(b"")
    (tmp_path / "links" / "alias.db").symlink_to(channels / "web.db")
    (tmp_path / "links" / "folder").symlink_to(channels)
    for second in ("channels/../channels/web.db", "links/alias.db", "links/folder/web.db"):
        text = (
            "store: x.db\nchannels:\n  - {name: a, database: channels/web.db}\n"
            f"  - {{name: b, database: {second}}}\n"
        )
        with pytest.raises(ConfigError) as caught:
            load_config(write(tmp_path, text))
        assert "channels 'a' and 'b' name the same database file" in caught.value.message
    if exists:
        os.link(channels / "web.db", channels / "hard.db")
        text = (
            "store: x.db\nchannels:\n  - {name: a, database: channels/web.db}\n"
            "  - {name: b, database: channels/hard.db}\n"
        )
        with pytest.raises(ConfigError, match="same database file"):
            load_config(write(tmp_path, text))
