"""Import direction: every import of every module keeps to docs/architecture.md's layer table.

The table is read from the page itself, so the map and the check cannot drift apart. Imports
inside functions and under ``TYPE_CHECKING`` count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "custsync_cli"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def layer_table(text: str) -> dict[str, set[str] | None]:
    """Each layer's allowed imports (``layer`` or ``layer.module``); None means anything."""
    rows = re.search(r"^\| layer \| may import \|\n\|---\|---\|\n((?:\|.*\n)+)", text, re.M)
    assert rows, "docs/architecture.md has no '| layer | may import |' table"
    every: set[str] = set()
    table: dict[str, set[str] | None] = {}
    for row in rows.group(1).splitlines():
        layers, allowed = (cell.strip() for cell in row.strip("|").split("|"))
        names = re.findall(r"`([\w.]+)`", allowed)
        for layer in re.findall(r"`(\w+)`", layers):
            every.add(layer)
            if allowed.startswith("everything"):
                table[layer] = None if not names else {"-" + name for name in names}
            else:
                table[layer] = set(names)
    for layer, allowed in table.items():
        if allowed is not None and any(name.startswith("-") for name in allowed):
            excluded = {name[1:] for name in allowed}
            table[layer] = every - excluded - {layer}
    return table


def layer_of(path: Path, package: Path) -> str:
    parts = path.relative_to(package).parts
    return parts[0] if len(parts) > 1 else path.stem


def imports_of(path: Path) -> list[tuple[int, str]]:
    """``(line, 'layer.module')`` for every custsync_cli import in ``path``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "custsync_cli":
                # ``from custsync_cli import __version__`` reads the package, no layer.
                names = [alias.name for alias in node.names if not alias.name.startswith("__")]
                modules = [f"custsync_cli.{name}" for name in names]
            else:
                modules = [node.module]
        else:
            continue
        found.extend(
            (node.lineno, module.removeprefix("custsync_cli."))
            for module in modules
            if module.startswith("custsync_cli.")
        )
    return found


def violations(package: Path, table: dict[str, set[str] | None]) -> list[str]:
    """Each import that the layer table does not allow, as ``file:line: a imports b``."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        layer = layer_of(path, package)
        if layer in ("__init__", "__main__"):
            continue  # the package's version and ``python -m`` entry point
        allowed = table.get(layer, set())
        if layer not in table:
            found.append(f"{path.relative_to(package)}: layer '{layer}' is not in the table")
            continue
        for line, module in imports_of(path):
            target = module.split(".")[0]
            if target == layer or allowed is None:
                continue
            if target in allowed or any(module.startswith(name) for name in allowed if "." in name):
                continue
            found.append(f"{path.relative_to(package)}:{line}: {layer} imports {module}")
    return found


def test_every_import_follows_the_layer_table() -> None:
    table = layer_table(ARCHITECTURE.read_text())
    assert violations(PACKAGE, table) == []


def test_domain_imports_nothing_of_custsync_but_errors() -> None:
    # Stated apart from the table so that loosening the page cannot loosen this.
    for path in sorted((PACKAGE / "domain").rglob("*.py")):
        outside = [m for _, m in imports_of(path) if m.split(".")[0] not in ("domain", "errors")]
        assert outside == [], f"{path.name} imports {outside}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from custsync_cli.config import Config\n", "domain imports config"),
        ("def f():\n    from custsync_cli.store import hq\n", "domain imports store"),
        ("from custsync_cli import jobs\n", "domain imports jobs"),
        ("import custsync_cli.output.render\n", "domain imports output.render"),
    ],
)
def test_a_forbidden_import_is_reported(tmp_path: Path, source: str, expected: str) -> None:
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "rules.py").write_text(source)
    table = layer_table(ARCHITECTURE.read_text())
    assert [v.split(": ", 1)[1] for v in violations(tmp_path, table)] == [expected]


def test_a_module_outside_every_layer_is_reported(tmp_path: Path) -> None:
    (tmp_path / "newthing.py").write_text("")
    table = layer_table(ARCHITECTURE.read_text())
    assert violations(tmp_path, table) == ["newthing.py: layer 'newthing' is not in the table"]


def private_uses(path: Path) -> list[str]:
    """custsync_cli's private names a test imports or reads off an imported module."""
    tree = ast.parse(path.read_text(), str(path))
    modules: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("custsync_cli"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno}: {alias.name}")
                modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_tests_use_only_public_names() -> None:
    tests = Path(__file__).resolve().parent
    assert [use for path in sorted(tests.rglob("*.py")) for use in private_uses(path)] == []


def queries_imported_by_output(package: Path) -> list[str]:
    """Functions (what runs SQL) that ``output/`` imports from ``store``: it renders models only."""
    import importlib

    found: list[str] = []
    for path in sorted((package / "output").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "custsync_cli.store"
            ):
                module = importlib.import_module(node.module or "")
                found.extend(
                    f"{path.name}:{node.lineno}: {alias.name}"
                    for alias in node.names
                    if callable(getattr(module, alias.name))
                    and not isinstance(getattr(module, alias.name), type)
                )
    return found


def test_output_takes_only_models_and_constants_from_the_store() -> None:
    assert queries_imported_by_output(PACKAGE) == []


def test_output_importing_a_store_query_is_reported(tmp_path: Path) -> None:
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "bad.py").write_text(
        "from custsync_cli.store.summary import STATUS_ORDER, StatusSummary, status_summary\n"
    )
    assert queries_imported_by_output(tmp_path) == ["bad.py:1: status_summary"]


SQL_CALLS = {"execute", "executemany", "executescript"}
# The store owns every statement on the store; the channel adapter owns the statements on
# channel databases (the store's SQL never reaches it); devtools are test and maintenance tools.
SQL_OWNERS = {"store", "channels", "devtools"}


def sql_outside_the_store(package: Path) -> list[str]:
    """``.execute(``, ``.executemany(`` and ``.executescript(`` calls outside the SQL owners."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        if layer_of(path, package) in SQL_OWNERS:
            continue
        found.extend(
            f"{path.relative_to(package)}:{node.lineno}: .{node.func.attr}("
            for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        )
    return found


def test_only_the_store_runs_sql() -> None:
    assert sql_outside_the_store(PACKAGE) == []


@pytest.mark.parametrize("call", sorted(SQL_CALLS))
def test_sql_outside_the_store_is_reported(tmp_path: Path, call: str) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "sync.py").write_text(
        f"def run(ctx):\n    x = 1\n    ctx.store.conn.{call}('UPDATE operations SET x = 1')\n"
    )
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "operations.py").write_text(f"def q(conn):\n    conn.{call}('')\n")
    assert sql_outside_the_store(tmp_path) == [f"jobs/sync.py:3: .{call}("]
