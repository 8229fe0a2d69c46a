"""Configuration errors: one exception carrying every problem found.

A :class:`CORSConfigError` is raised by :class:`~cors_wsgi.CORSPolicy`,
:class:`~cors_wsgi.CORSMiddleware` and the PasteDeploy filter factory when a
configuration is wrong or insecure.  It never stops at the first problem::

    >>> from cors_wsgi import CORSPolicy, CORSConfigError
    >>> try:
    ...     CORSPolicy(allow_origins=["*"], allow_credentials=True, max_age=-1)
    ... except CORSConfigError as error:
    ...     print(sorted(p.code for p in error.problems))
    ['max-age-out-of-range', 'wildcard-origin-with-credentials']

Each :class:`Problem` has a stable ``code`` (safe to match on in tests and
tooling), the ``argument`` it concerns (``"allow_origins"``), the offending
``value`` and a ``message`` that says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CORSConfigError", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration.

    :param code: stable, kebab-case identifier, e.g. ``"null-origin"``.
    :param argument: the constructor argument or ini key concerned,
        e.g. ``"allow_origins"``.
    :param value: the offending value as given (``repr`` is used when shown).
    :param message: what is wrong and how to fix it.
    """

    code: str
    argument: str
    value: object
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.argument}={self.value!r}: {self.message}"


class CORSConfigError(ValueError):
    """Raised at construction time with **every** configuration problem found.

    :ivar problems: the list of :class:`Problem`, in the order found.
    """

    problems: list[Problem]

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = [f"{count} CORS configuration problem{'s' if count != 1 else ''}:"]
        lines.extend(f"  - {problem}" for problem in self.problems)
        super().__init__("\n".join(lines))

    @property
    def codes(self) -> list[str]:
        """The problems' codes, in order (a convenience for tests and tools)."""
        return [problem.code for problem in self.problems]
