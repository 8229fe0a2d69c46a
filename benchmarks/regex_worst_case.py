"""Worst matching time of any origin regex cors_wsgi accepts, on hostile origins.

Run: ``python benchmarks/regex_worst_case.py [EXAMPLES]`` (default 3000).
Hypothesis generates random regexes (atoms, classes, groups, alternations,
repeats; the generator of ``tests/test_attacks.py``); for every one that
``CORSPolicy`` accepts, 40 origins of 480 characters shaped to make a
backtracking engine work hardest are matched (each the least of three
runs), and the slowest match is reported; then the peers' documented regexes
(``tests/test_peer_regexes.py``) on their own adversarial origins.  For
contrast, the same is timed for patterns the policy refuses
(``regex-backtracking``), on origins a tenth as long.  Bounded: a fixed
number of examples, and a refused pattern is stopped at 2 s.
"""

from __future__ import annotations

import re
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, settings

from tests.test_attacks import BACKTRACKING, codes, small_regexes, worst_inputs
from tests.test_peer_regexes import DJANGO_REGEX, FLASK_CORS_REGEX, adversarial_origins

PEER_REGEXES = (FLASK_CORS_REGEX, DJANGO_REGEX, r"^https://\w+\.example\.org$|^https://\w+\.example\.com$")


def slowest(source: str, origins: list[str]) -> float:
    """The slowest origin's match time, each the least of three runs (one
    run alone measures the scheduler as often as the regex)."""
    compiled = re.compile(source)
    worst = 0.0
    for origin in origins:
        took = []
        for _ in range(3):
            start = time.perf_counter()
            compiled.fullmatch(origin)
            took.append(time.perf_counter() - start)
        worst = max(worst, min(took))
    return worst


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    accepted = [0]
    worst = [0.0, ""]

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=small_regexes())
    def run(body: str) -> None:
        source = "https://" + body
        try:
            re.compile(source)
        except re.error:
            return
        if codes(allow_origin_regex=source):
            return
        accepted[0] += 1
        took = slowest(source, list(worst_inputs(source)))
        if took > worst[0]:
            worst[:] = [took, source]

    run()
    print(f"accepted regexes: {accepted[0]} of {examples} generated")
    print(f"slowest match of an accepted regex on a 488-character origin: {worst[0] * 1000:.2f} ms")
    print(f"  (the regex: {worst[1]!r})")

    for source in PEER_REGEXES:
        took = slowest(source, adversarial_origins(source))
        print(f"peer regex {source!r} on its adversarial origins (<= 512 characters): {took * 1000:.3f} ms")

    def stop(*_: object) -> None:
        raise TimeoutError

    signal.signal(signal.SIGALRM, stop)
    for source in BACKTRACKING[:3]:
        signal.setitimer(signal.ITIMER_REAL, 2.0)
        start = time.perf_counter()
        try:
            re.fullmatch(source, "https://" + "a" * 26)
            took = f"{(time.perf_counter() - start) * 1000:.0f} ms"
        except TimeoutError:
            took = "> 2000 ms (stopped)"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        print(f"refused {source!r} on a 34-character origin: {took}")


if __name__ == "__main__":
    main()
