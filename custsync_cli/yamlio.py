"""The one way custsync reads YAML: bounded in size, nesting and aliases; no duplicate keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# Far above any config or operations file written by hand or by a script.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64


class DocumentTooLarge(ValueError):
    """A file holds more than MAX_DOCUMENT_BYTES (or never ends, like /dev/zero)."""


def read_document(path: Path) -> str:
    """The text of ``path``, reading at most one byte past the limit whatever the file is."""
    with path.open("rb") as handle:
        data = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(f"larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    return data.decode("utf-8")


class BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses deep nesting, aliases that expand too far, and duplicate keys.

    A mapping that names a key twice is an error, not "the last one wins": the first value
    would be dropped without a word. Keys brought in by a ``<<`` merge may still be overridden.

    Each node's weight is what it would cost written out without aliases: one per node plus
    the length of each scalar, with an alias weighing as much as the node it names. A document
    without aliases weighs about its own length, so only alias expansion can reach the limit.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._weights: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        start = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        if self._depth >= MAX_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", start)
        self._depth += 1
        try:
            node: Node | None = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        assert node is not None  # only an empty document has no node, and that has no root
        if id(node) not in self._weights:
            weight = self._weight(node)
            if weight > MAX_DOCUMENT_BYTES:
                raise ComposerError(
                    None, None, "aliases expand to more than the document size limit", start
                )
            self._weights[id(node)] = weight
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = first_lines.get(key)
            except TypeError:  # an unhashable key: the SafeLoader refuses it with its own error
                continue
            if first is not None:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key '{key}' on line {line} (first on line {first})",
                    key_node.start_mark,
                )
            first_lines[key] = line
        return super().construct_mapping(node, deep=deep)

    def _weight(self, node: Node) -> int:
        if isinstance(node, ScalarNode):
            return 1 + len(node.value)
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        return 1 + sum(self._weights.get(id(child), 1) for child in children)


def load(text: str, loader: type[BoundedLoader] = BoundedLoader) -> Any:
    """Parse one YAML document; bounds are reported as ``yaml.YAMLError`` with a position."""
    return yaml.load(text, Loader=loader)


def describe(exc: yaml.YAMLError) -> str:
    """Where and what went wrong, as " at line L, column C: problem", quoting no document text."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or "invalid YAML"
    return f"{where}: {problem}"
