"""The one way custsync reads YAML: bounded in size, nesting depth and alias expansion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
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
    """A SafeLoader that refuses deep nesting and documents whose aliases expand too far.

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
