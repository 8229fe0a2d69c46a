"""The ``cors_wsgi`` logger, and the one helper every log line uses for
request values.

Request values (method, path, origin, header values) come from the client.
Written raw, a value holding ``ESC[2J`` or a newline can rewrite a terminal
or forge a log line (flask-cors CVE-2024-1681).  :func:`escape` renders any
value as a bounded, printable-ASCII ``repr``: control characters, non-ASCII
text (bidi overrides, homoglyphs) and quotes are escaped, and long values are
cut, so a log line costs bounded space whatever a client sends.
"""

from __future__ import annotations

import logging

__all__ = ["MAX_LOGGED_LENGTH", "escape", "logger"]

logger = logging.getLogger("cors_wsgi")

#: Longest escaped form of one request value in a log line, in characters.
MAX_LOGGED_LENGTH = 200


def escape(value: object) -> str:
    """``value`` as printable ASCII for a log line, e.g. ``'GET\\x1b[2J'``.

    The ``ascii()`` form of the value (any type), cut to
    :data:`MAX_LOGGED_LENGTH` characters and marked with ``...`` when longer:
    at most ``MAX_LOGGED_LENGTH + 3`` characters whatever the client sent.
    """
    text = ascii(value[: MAX_LOGGED_LENGTH + 1] if isinstance(value, str) else value)
    if len(text) > MAX_LOGGED_LENGTH:
        return text[:MAX_LOGGED_LENGTH] + "..."
    return text
