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

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cors_wsgi._snapshot import live_holders, refresh_error_totals
from cors_wsgi.refusals import DECISION_OUTCOMES, REFUSAL_KINDS, REFUSAL_REASONS, Decision, combine

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["LABELS", "METRIC", "OTHER", "STORE_METRICS", "combine", "labels", "opentelemetry", "prometheus",
           "store_samples"]

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

#: The ``allow_origin_store`` series of this process, each labelled
#: ``store`` (the store's ``repr``, e.g.
#: ``SQLAlchemyOriginStore('postgresql+psycopg://app:***@db/app', 'cors_origins')``,
#: password hidden; at most 200 characters, a longer one ending in a hash
#: of the whole): name -> (type, help).
STORE_METRICS: dict[str, tuple[str, str]] = {
    "cors_wsgi_store_snapshot_version": ("gauge", "Version of the allow_origin_store snapshot in force"),
    "cors_wsgi_store_snapshot_origins": ("gauge", "Origins in the allow_origin_store snapshot in force"),
    "cors_wsgi_store_snapshot_age_seconds": (
        "gauge", "Seconds since the store last confirmed the snapshot in force"),
    "cors_wsgi_store_stale": (
        "gauge", "1 while the snapshot is older than max_staleness_seconds (the alarm), else 0"),
    "cors_wsgi_store_refresh_errors_total": (
        "counter", "Failed or hanging checks of the store in this process"),
}

Hook = Callable[[Decision], None]


def store_samples() -> dict[str, dict[str, float]]:
    """The values of :data:`STORE_METRICS` now, by series name and ``store``
    label: ``{"cors_wsgi_store_snapshot_age_seconds": {"SQLiteOriginStore('/var/lib/o.db')": 1.2}}``.

    One entry per store of a live policy in this process; policies sharing a
    store (or one whose label is equal) are merged: the newest version and
    its origin count, the oldest age, the alarm if any raises it.  The error
    total counts every failed check of the process since it started, policies
    replaced since included (a counter never goes down; beyond 1000 labels
    under ``"other"``).  Without a store, every series is empty."""
    found: dict[str, dict[str, float]] = {name: {} for name in STORE_METRICS}
    version, origins, age, stale, errors = found.values()
    for label, count in refresh_error_totals().items():
        errors[label] = float(count)
    for holder in live_holders():
        label = holder.label
        current = holder.current
        if label not in version or current.version > version[label]:
            version[label], origins[label] = current.version, len(current.origins)
        age[label] = max(age.get(label, 0.0), holder.age)
        stale[label] = max(stale.get(label, 0.0), float(holder.stale))
        errors.setdefault(label, 0.0)
    return found


class _StoreCollector:
    """The ``allow_origin_store`` series, read at each scrape (never per request)."""

    def describe(self) -> list[object]:
        return self._families({name: {} for name in STORE_METRICS})

    def collect(self) -> list[object]:
        return self._families(store_samples())

    @staticmethod
    def _families(samples: dict[str, dict[str, float]]) -> list[object]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        families: list[object] = []
        for name, (kind, text) in STORE_METRICS.items():
            build = GaugeMetricFamily if kind == "gauge" else CounterMetricFamily
            family = build(name, text, labels=["store"])
            for label, value in sorted(samples[name].items()):
                family.add_metric([label], value)
            families.append(family)
        return families


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


#: The hook of each registry: ``prometheus()`` twice for one registry (two
#: apps built from one settings module, or a retry after a CORSConfigError)
#: returns the first hook, never a duplicated timeseries.
_HOOKS: weakref.WeakKeyDictionary[object, Hook] = weakref.WeakKeyDictionary()
_HOOKS_LOCK = threading.Lock()


def prometheus(registry: CollectorRegistry | None = None) -> Hook:
    """An ``on_decision`` hook counting decisions in the counter
    ``cors_wsgi_decisions_total{kind, outcome, reason, path_pattern}``,
    registered in ``registry`` (default: prometheus-client's global
    ``REGISTRY``), with a collector of the ``allow_origin_store`` series
    (:data:`STORE_METRICS`, values of :func:`store_samples` read at each
    scrape).  Called again for the same registry, it returns the same hook
    (the series are registered once).

    :raises ImportError: without prometheus-client (the ``metrics`` extra).
    :raises ValueError: prometheus-client's, when ``registry`` already holds
        a ``cors_wsgi_decisions`` counter it did not register.
    """
    try:
        import prometheus_client
    except ImportError as error:
        raise _missing("metrics", "prometheus-client") from error
    registry = prometheus_client.REGISTRY if registry is None else registry
    with _HOOKS_LOCK:
        hook = _HOOKS.get(registry)
        if hook is None:
            hook = _HOOKS[registry] = _register(prometheus_client, registry)
    return hook


prometheus.hook_factory = True  # type: ignore[attr-defined]  # a settings value must call it: "...:prometheus()"


def _register(prometheus_client: Any, registry: CollectorRegistry) -> Hook:
    counter = prometheus_client.Counter(
        METRIC.removesuffix("_total"),
        "CORS decisions of cors_wsgi for requests with an Origin, by kind, outcome, reason code "
        "and configured path pattern",
        LABELS,
        registry=registry,
    )
    try:
        registry.register(_StoreCollector())  # type: ignore[arg-type]
    except Exception:  # a name taken in this registry: leave it as it was, so a retry can work
        registry.unregister(counter)
        raise
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


opentelemetry.hook_factory = True  # type: ignore[attr-defined]
