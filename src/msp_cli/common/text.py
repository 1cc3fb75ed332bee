"""Text that comes from users, files and the environment: which characters are control
characters, how such text is cleaned when it is stored, escaped when it is shown, and cut
when a message echoes it.

A control character is one Python does not call printable, except the space separators
(Unicode category Zs: a no-break space is a space): C0 and C1 controls, DEL, line and
paragraph separators, and format characters such as bidirectional overrides. Any of them
can move a terminal's cursor, clear its screen, reorder what it shows or split a table row.
"""

from __future__ import annotations

import unicodedata

ECHO_LIMIT = 100  # characters of a bad value echoed in an error message
ELLIPSIS = "…"


def is_space_separator(ch: str) -> bool:
    """A space of some width (no-break, thin, ideographic...): Unicode category Zs."""
    return unicodedata.category(ch) == "Zs"


def is_control(ch: str) -> bool:
    return not ch.isprintable() and not is_space_separator(ch)


def has_controls(text: str) -> bool:
    return not text.isprintable() and any(is_control(ch) for ch in text)


def spaces_for_controls(text: str) -> str:
    """Every control character and every space separator as a plain space: how names read
    from files are stored, so nothing in them can act on a terminal or split a row."""
    if text.isprintable() and text.isascii():
        return text  # the common case, without looking at each character
    return "".join(" " if is_control(ch) or is_space_separator(ch) else ch for ch in text)


def plain_spaces(text: str) -> str:
    """Space separators (a no-break space...) as plain spaces; other characters kept."""
    if text.isascii():
        return text
    return "".join(" " if is_space_separator(ch) else ch for ch in text)


_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(ch: str) -> str:
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """Text as it may reach a terminal: control characters written as escapes (`\\x1b`,
    `\\n`, `\\u202e`), everything else unchanged."""
    if text.isprintable():
        return text
    return "".join(_escape(ch) if is_control(ch) else ch for ch in text)


def shown(value: object, limit: int = ECHO_LIMIT) -> str:
    """A value echoed in a message: quoted, control characters escaped, cut to about
    `limit` characters with an ellipsis (a 5 MB bad line must not become a 5 MB error)."""
    text = str(value)
    cut = len(text) > limit
    if cut:
        text = text[:limit]
    quoted = repr(text)
    return quoted[:-1] + ELLIPSIS + quoted[-1] if cut else quoted


def cut(text: str, limit: int = ECHO_LIMIT) -> str:
    """Text of any origin shortened to about `limit` characters, with an ellipsis."""
    return text if len(text) <= limit else text[:limit] + ELLIPSIS
