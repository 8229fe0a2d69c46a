"""Metrics and traces of CORS decisions: ``on_decision`` hooks for
Prometheus and OpenTelemetry.

``CORSMiddleware(app, policy, on_decision=hook)`` calls ``hook`` with a
:class:`~cors_wsgi.refusals.Decision` for every request carrying an
``Origin`` (allowed or refused, preflight or actual; a request without
``Origin`` produces none).  This module turns decisions into a counter and
into span attributes, with label values taken only from bounded sets: the
kind, the outcome, a reason code of
:data:`~cors_wsgi.refusals.REFUSAL_REASONS` and a path pattern of the
configuration.  The ``Origin``, the method and the request path are never
a label: anyone chooses them::

    from cors_wsgi import metrics

    app = CORSMiddleware(app, policy, on_decision=metrics.prometheus())
    app = CORSMiddleware(app, policy, on_decision=metrics.opentelemetry())
    both = metrics.combine(metrics.prometheus(), metrics.opentelemetry())
    app = CORSMiddleware(app, policy, on_decision=both)

``prometheus()`` needs the ``metrics`` extra (``pip install
'cors_wsgi[metrics]'``, prometheus-client), ``opentelemetry()`` the
``opentelemetry`` extra (opentelemetry-api); each is imported when the
hook is built, and its absence raises an ``ImportError`` naming the extra.
See :doc:`metrics` for what is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cors_wsgi.refusals import DECISION_OUTCOMES, REFUSAL_KINDS, REFUSAL_REASONS, Decision, deliver

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["LABELS", "METRIC", "OTHER", "combine", "labels", "opentelemetry", "prometheus"]

#: The counter's name in the exposition (prometheus-client adds ``_total``).
METRIC = "cors_wsgi_decisions_total"
#: The counter's labels, in order.
LABELS = ("kind", "outcome", "reason", "path_pattern")
#: The label value for a kind, outcome or reason outside the known sets (a
#: hand-made :class:`~cors_wsgi.refusals.Decision`): the label set stays bounded.
OTHER = "other"

_KINDS = frozenset(REFUSAL_KINDS)
_OUTCOMES = frozenset(DECISION_OUTCOMES)
_REASONS = frozenset(REFUSAL_REASONS)

Hook = Callable[[Decision], None]


def labels(decision: Decision) -> tuple[str, str, str, str]:
    """The bounded label values of ``decision``: ``(kind, outcome, reason,
    path_pattern)``, ``""`` for no reason (allowed) and no pattern, and
    :data:`OTHER` for a kind, outcome or reason no release of cors_wsgi sends."""
    reason = decision.reason
    return (
        decision.kind if decision.kind in _KINDS else OTHER,
        decision.outcome if decision.outcome in _OUTCOMES else OTHER,
        "" if reason is None else reason if reason in _REASONS else OTHER,
        decision.path_pattern or "",
    )


def _missing(extra: str, package: str) -> ImportError:
    return ImportError(
        f"cors_wsgi.metrics needs {package} for this hook: pip install 'cors_wsgi[{extra}]' "
        f"(the {extra!r} extra) or pip install {package}"
    )


def prometheus(registry: CollectorRegistry | None = None) -> Hook:
    """An ``on_decision`` hook counting decisions in the counter
    ``cors_wsgi_decisions_total{kind, outcome, reason, path_pattern}``,
    registered in ``registry`` (default: prometheus-client's global
    ``REGISTRY``; build one hook per registry, a second raises
    prometheus-client's ``ValueError`` for a duplicated timeseries).

    :raises ImportError: without prometheus-client (the ``metrics`` extra).
    """
    try:
        import prometheus_client
    except ImportError as error:
        raise _missing("metrics", "prometheus-client") from error
    counter = prometheus_client.Counter(
        METRIC.removesuffix("_total"),
        "CORS decisions of cors_wsgi for requests with an Origin, by kind, outcome, reason code "
        "and configured path pattern",
        LABELS,
        registry=prometheus_client.REGISTRY if registry is None else registry,
    )
    # Each label set's child, found by the decision's fields: one dict lookup
    # per request once a combination was seen.  Keys are bounded as the labels
    # are, unless hand-made decisions carry ever new patterns: then emptied.
    children: dict[tuple[str, str, str | None, str | None], Callable[[], None]] = {}

    def count(decision: Decision) -> None:
        key = (decision.kind, decision.outcome, decision.reason, decision.path_pattern)
        inc = children.get(key)
        if inc is None:
            if len(children) >= 4096:
                children.clear()
            inc = children[key] = counter.labels(*labels(decision)).inc
        inc()

    return count


def opentelemetry() -> Hook:
    """An ``on_decision`` hook setting ``cors.kind``, ``cors.outcome``,
    ``cors.reason`` and ``cors.path_pattern`` (the label values of
    :func:`labels`; ``""`` for none) on the current span
    (``opentelemetry.trace.get_current_span()``), when it is recording.
    Sampling is the tracer provider's: an unsampled span costs one call.

    :raises ImportError: without opentelemetry-api (the ``opentelemetry`` extra).
    """
    try:
        from opentelemetry import trace
    except ImportError as error:
        raise _missing("opentelemetry", "opentelemetry-api") from error
    get_current_span = trace.get_current_span

    def annotate(decision: Decision) -> None:
        span = get_current_span()
        if not span.is_recording():
            return
        kind, outcome, reason, pattern = labels(decision)
        span.set_attributes({
            "cors.kind": kind, "cors.outcome": outcome, "cors.reason": reason, "cors.path_pattern": pattern,
        })

    return annotate


def combine(*hooks: Callable[[Decision], object]) -> Hook:
    """One ``on_decision`` hook calling each of ``hooks`` in order; what one
    raises is logged and the next still runs."""

    def every(decision: Decision) -> None:
        for hook in hooks:
            deliver(hook, decision, "on_decision")

    return every
