"""The ``cors_wsgi`` logger, and the helpers that keep every line it writes
escaped.

Request values (method, path, origin, header values) come from the client.
Written raw, a value holding ``ESC[2J`` or a newline can rewrite a terminal
or forge a log line (flask-cors CVE-2024-1681).  :func:`printable` is the
one escaper of every printed request or server value (here, in
``cors_wsgi.fetch`` and in the ``cors-wsgi`` command): control characters,
non-ASCII text (bidi overrides, homoglyphs) and backslashes are escaped, and
long values are cut, so a line costs bounded space whatever a client sends;
:func:`escape` quotes a value with it for a log line.

Tracebacks are escaped too: an application's exception message may hold
request bytes (``ValueError("bad item " + environ["HTTP_X_ITEM"])``).  A
filter on the logger gives every record that carries an exception the
traceback as :func:`format_exception` writes it (``record.exc_text``, which
``logging.Formatter`` prints instead of formatting the exception itself):
one line per frame as Python prints them, and the exception's message (and
notes) on one line, with CR, LF, ESC and every other non-printable or
non-ASCII character written as ``\\n``, ``\\x1b``, ``\\u202e``.  The record
keeps ``exc_info``, so error trackers still get the exception itself.
"""

from __future__ import annotations

import logging
import traceback

__all__ = ["MAX_LOGGED_LENGTH", "MAX_MESSAGE_LENGTH", "escape", "format_exception", "logger", "printable"]

logger = logging.getLogger("cors_wsgi")

#: Longest escaped form of one request value in a log line, in characters.
MAX_LOGGED_LENGTH = 200
#: Longest escaped exception message (or note) in a traceback, in characters.
MAX_MESSAGE_LENGTH = 2000
#: Most chained exceptions (``__cause__``/``__context__``) a traceback shows.
_MAX_CHAIN = 16

_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"


def printable(text: str, limit: int | None = None, *, quote: str = "") -> str:
    """``text`` as one line of printable ASCII: the one escaper for every
    request or server value cors_wsgi prints (log lines, tracebacks,
    ``cors_wsgi.fetch`` messages, the ``cors-wsgi`` command).

    Each character outside ``' '``..``'~'``, the backslash and each
    character of ``quote`` is written as in a Python string literal
    (``\\n``, ``\\x1b``, ``\\u202e``, ``\\\\``, ``\\'``), so no escaped text can
    pass for another.  With ``limit``, at most ``limit`` characters of the
    escaped text are kept and ``...`` marks a cut: at most ``limit + 3``
    characters, and the work bounded, whatever ``text`` holds.
    """
    if limit is not None:
        text = text[: limit + 1]
    special = "\\" + quote
    if not (text.isascii() and text.isprintable()) or any(ch in text for ch in special):
        text = "".join(
            ("\\" + ch if ch in special else ch) if " " <= ch <= "~" else ascii(ch)[1:-1] for ch in text
        )
    if limit is not None and len(text) > limit:
        return text[:limit] + "..."
    return text


def escape(value: object) -> str:
    """``value`` quoted for a log line, e.g. ``'GET\\x1b[2J'``: a ``str``
    through :func:`printable` between single quotes (a quote inside written
    ``\\'``), any other value as its ``ascii()`` form, cut to
    :data:`MAX_LOGGED_LENGTH` characters (``...`` marks a cut) whatever the
    client sent.
    """
    if isinstance(value, str):
        return "'" + printable(value, MAX_LOGGED_LENGTH - 2, quote="'") + "'"
    text = ascii(value)
    return text if len(text) <= MAX_LOGGED_LENGTH else text[:MAX_LOGGED_LENGTH] + "..."


def _message(error: BaseException) -> str:
    name = type(error).__qualname__
    module = type(error).__module__
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    try:
        text = str(error)
    except Exception:
        text = "<str() of the exception raised>"
    return f"{name}: {printable(text, MAX_MESSAGE_LENGTH)}" if text else name


def format_exception(error: BaseException) -> str:
    """The traceback of ``error`` (and the exceptions chained to it) as
    Python prints it, every line printable ASCII and the messages escaped,
    e.g. ``"Traceback (most recent call last):\\n  File ... \\nValueError: bad\\\\nforged"``."""
    chain: list[tuple[BaseException, str | None]] = []  # newest first, each with what follows it
    seen: set[int] = set()
    current: BaseException | None = error
    after: str | None = None
    while current is not None and id(current) not in seen and len(chain) < _MAX_CHAIN:
        seen.add(id(current))
        chain.append((current, after))
        if current.__cause__ is not None:
            current, after = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, after = current.__context__, _CONTEXT
        else:
            current = None
    lines: list[str] = []
    for item, separator in reversed(chain):
        if item.__traceback__ is not None:
            lines.append("Traceback (most recent call last):")
            for frame in traceback.format_tb(item.__traceback__):
                lines.extend(printable(line) for line in frame.rstrip("\n").split("\n"))
        lines.append(_message(item))
        for note in getattr(item, "__notes__", None) or ():
            lines.append(printable(str(note), MAX_MESSAGE_LENGTH))
        if separator is not None:
            lines += ["", separator, ""]
    return "\n".join(lines)


class _EscapedTracebacks(logging.Filter):
    """Gives a record with an exception its escaped traceback (``exc_text``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = format_exception(record.exc_info[1])
        return True


if not any(isinstance(f, _EscapedTracebacks) for f in logger.filters):
    logger.addFilter(_EscapedTracebacks())
