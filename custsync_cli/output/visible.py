"""Text from channels made safe to show: control characters appear as escapes, never act."""

from __future__ import annotations

# C0, DEL and C1 can clear the screen, retitle the window, plant hyperlinks or hide text;
# the bidirectional overrides can make a value read differently from what it holds.
_CONTROLS = (
    *range(0x00, 0x20),
    0x7F,
    *range(0x80, 0xA0),
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
)
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_ESCAPES = {
    code: _NAMED.get(code, f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in _CONTROLS
}
_ESCAPES_KEEPING_LINES = {code: text for code, text in _ESCAPES.items() if code != 0x0A}
# In JSON every character may be written as \uXXXX; json.dumps does so for C0 only.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in _CONTROLS if code >= 0x7F}


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character written as a backslash escape."""
    if text.isprintable():
        return text
    return text.translate(_ESCAPES_KEEPING_LINES if keep_newlines else _ESCAPES)


def json_safe(text: str) -> str:
    """JSON text with DEL, C1 and bidi controls escaped too: the same value, inert on a terminal."""
    if text.isascii():
        return text.replace("\x7f", "\\u007f") if "\x7f" in text else text
    return text.translate(_JSON_ESCAPES)
