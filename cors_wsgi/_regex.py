"""Origin regexes: proven at construction to run in linear time, and, with
credentials, to trust no stranger.

``allow_origin_regex`` is matched with Python's backtracking ``re`` engine,
which is fast on the patterns people write and catastrophically slow on some
(``https://([a-z0-9]+-?)+\\.example\\.com`` takes seconds on 30 characters).
Rather than time patterns or probe them with a handful of origins, this
module reads the parse tree of the standard library's regex parser and
proves two properties:

**Linear-time matching** (every regex, with or without credentials).  The
pattern is turned into a position automaton that keeps *every* route the
backtracking engine can take: a position reached from another by two
different routes counts twice (as in ``([a-z0-9]+-?)+``, where the next
``[a-z0-9]`` is reached by repeating the inner or the outer group).  The
regex is accepted only when no two routes that part over the same text ever
meet again at one position.  That rules out both kinds of catastrophic
backtracking (exponential: routes that part and meet again inside a loop;
polynomial: a loop whose text can also lead into a second loop over the same
text), so the engine's work is linear in the length of the origin (which is
capped at 512 characters anyway).  Only the
characters a serialized origin can hold are considered, because only origins
of that shape ever reach the regex.  One relaxation, exact for the engine:
a greedy loop over every origin character that may end the match (``.*`` or
``.*$`` last, as in flask-cors' ``http?://\\w*\\.?example\\.com:?\\d*/?.*``)
ends the search the first time any route reaches it (it reads the rest of
the origin, and what follows it matches the empty rest), so routes that meet
there are not counted.  A lazy ``.*?`` is not relaxed: it tries the rest of
the pattern at every character.

**Anchors.**  ``^``/``\\A`` and ``$``/``\\Z`` are accepted where they always
hold on a full match of an origin: before anything is read and after
everything is read, at the ends of the pattern or of each of its top-level
alternatives (``^https://a\\.example\\.org$|^https://b\\.example\\.com$``);
there they are dropped.  Anywhere else they are refused.

**Trusts no stranger** (with credentials).  Every alternative the regex
can take (alternations and optional parts are expanded) must read, in this
order: a spelled-out scheme and ``://``; ``https``, or ``http`` only for a
loopback host; a host that is either spelled out, or ends with a spelled-out
domain that contains its registrable domain (``example.com``, never a public
suffix), preceded by a literal ``.`` or by a part that can only end in ``.``;
and after the host, nothing variable but a port (``:`` and digits).  Across
alternatives, an optional part left out may not change the registrable
domain (per the public suffix list): ``https://app\\.?example\\.com`` also
matches ``appexample.com``, ``https://app\\.example\\.com?`` matches
``app.example.co``.  So
``https://([a-z0-9-]+\\.)*example\\.com`` and
``https://pr-[0-9]+\\.preview\\.example\\.com`` are accepted, and
``https://app.example.com`` (unescaped dots), ``https://app\\.example\\.com.*``
(anything after the domain) and ``https?://app\\.example\\.com`` (``http``)
are refused, each with a matched stranger origin and a corrected regex.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

if sys.version_info >= (3, 11):
    from re import _constants as _sre
    from re import _parser as _sre_parse
else:  # pragma: no cover - Python 3.10
    import sre_constants as _sre
    import sre_parse as _sre_parse

__all__ = [
    "ORIGIN_ALPHABET",
    "RegexProblem",
    "check_regex",
]

#: Every character a serialized origin of the shape the matcher accepts can
#: hold (lower-case scheme and host, digits, ``+-._:/[]``).
ORIGIN_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+-._:/[]")
_DIGITS = frozenset("0123456789")

#: Most characters, groups and repeats (counted repeats unrolled) a regex
#: may have: it bounds both the proof's cost at start-up and the engine's
#: work per character of the origin.
MAX_POSITIONS = 256
#: Largest count in a counted repeat (``{1,63}``) that is unrolled.
MAX_COUNT = 255
#: Most alternatives a credentialed regex may expand into.
MAX_ALTERNATIVES = 256

_IGNORECASE = re.IGNORECASE.value
_POSSESSIVE = getattr(_sre, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(_sre, "ATOMIC_GROUP", None)
_START_ANCHORS = (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING)
_END_ANCHORS = (_sre.AT_END, _sre.AT_END_STRING)


@dataclass(frozen=True)
class RegexProblem:
    """One reason a regex is refused: a problem code and a fix-it message."""

    code: str
    message: str


class _RefusedError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.problem = RegexProblem(code, message)


# -- a small tree over the origin alphabet ------------------------------------------


@dataclass(frozen=True, eq=False)
class _Chars:
    """One character, from ``chars`` (a subset of the origin alphabet)."""

    chars: frozenset[str]
    any: bool = False  # an unescaped ``.``


@dataclass(frozen=True, eq=False)
class _Seq:
    items: tuple[_Node, ...]


@dataclass(frozen=True, eq=False)
class _Alt:
    options: tuple[_Node, ...]


@dataclass(frozen=True, eq=False)
class _Rep:
    min: int
    max: int | None  # None: unbounded
    body: _Node
    lazy: bool = False  # ``*?``, ``+?``: the tail is tried before another round


_Node = _Chars | _Seq | _Alt | _Rep


def _category(code: object, char: str) -> bool:
    if code in (_sre.CATEGORY_DIGIT,):
        return char.isdigit()
    if code in (_sre.CATEGORY_NOT_DIGIT,):
        return not char.isdigit()
    if code in (_sre.CATEGORY_WORD,):
        return char.isalnum() or char == "_"
    if code in (_sre.CATEGORY_NOT_WORD,):
        return not (char.isalnum() or char == "_")
    if code in (_sre.CATEGORY_SPACE, _sre.CATEGORY_LINEBREAK):
        return False
    if code in (_sre.CATEGORY_NOT_SPACE, _sre.CATEGORY_NOT_LINEBREAK):
        return True
    raise _RefusedError("regex-unsupported", f"the character category {code} is not supported.")


def _non_ascii(op: object, av: object) -> bool:
    if op is _sre.IN:
        return any(
            (o is _sre.LITERAL and a > 127) or (o is _sre.RANGE and a[1] > 127)
            for o, a in av  # type: ignore[attr-defined]
        )
    return av > 127  # type: ignore[operator]


def _variants(char: str, flags: int) -> tuple[str, ...]:
    if flags & _IGNORECASE:
        return (char, char.upper(), char.lower())
    return (char,)


def _set_chars(items: list[tuple[object, object]], flags: int) -> frozenset[str]:
    negate = False
    found: set[str] = set()
    for char in ORIGIN_ALPHABET:
        hit = False
        for op, av in items:
            if op is _sre.NEGATE:
                negate = True
            elif op is _sre.LITERAL:
                hit = hit or any(ord(v) == av for v in _variants(char, flags))
            elif op is _sre.RANGE:
                low: int
                high: int
                low, high = av  # type: ignore[misc]
                hit = hit or any(low <= ord(v) <= high for v in _variants(char, flags))
            elif op is _sre.CATEGORY:
                hit = hit or _category(av, char)
            else:
                raise _RefusedError("regex-unsupported", f"{op} inside a character class is not supported.")
        if hit:
            found.add(char)
    return frozenset(ORIGIN_ALPHABET - found) if negate else frozenset(found)


def _chars(chars: frozenset[str], any: bool = False) -> _Chars:
    if not chars:
        raise _RefusedError(
            "regex-unsupported",
            "a part of the pattern matches no character a serialized origin can hold "
            "(origins are lower-case ASCII letters, digits and '+-._:/[]'); remove it or "
            "write it in lower case.",
        )
    return _Chars(chars, any)


def _reads(entry: tuple[object, Any]) -> bool:
    """True when a parse-tree entry can read a character (anchors and empty
    alternatives, as sre leaves after factoring ``^a$|^a$``, read none)."""
    op, av = entry
    if op is _sre.AT:
        return False
    if op is _sre.BRANCH:
        return any(_reads(e) for option in av[1] for e in option)
    if op is _sre.SUBPATTERN:
        return any(_reads(e) for e in av[3])
    return True


def _convert(pattern: object, flags: int, at_start: bool = False, at_end: bool = False) -> _Node:
    """The sre parse tree -> our tree; refuse what cannot be proven.

    ``at_start`` (``at_end``): every route reaches this part having read
    nothing (and leaves it with nothing left to read), as the first (last)
    part of the whole pattern or of one of its top-level alternatives is.
    There ``^``/``\\A`` (``$``/``\\Z``) always hold on a full match of an
    origin (which has no newline), so they are dropped; anywhere else they
    are refused.  Groups are kept as one-item sequences so that their cost
    to the engine counts towards :data:`MAX_POSITIONS`."""
    items: list[_Node] = []
    entries = list(pattern)  # type: ignore[call-overload]
    # Where the parts that read text begin and end: around them, nothing is read.
    first = next((i for i, e in enumerate(entries) if _reads(e)), len(entries))
    last = max((i for i, e in enumerate(entries) if _reads(e)), default=-1)
    for index, (op, av) in enumerate(entries):
        starts = at_start and index <= first
        ends = at_end and index >= last
        if op in (_sre.LITERAL, _sre.NOT_LITERAL, _sre.IN) and flags & _IGNORECASE and _non_ascii(op, av):
            # Python folds case beyond ASCII (U+017F matches s, U+0131 i); refuse
            # rather than guess which origin characters such a part matches.
            raise _RefusedError(
                "regex-unsupported",
                "a non-ASCII character in a case-insensitive pattern may match ASCII letters "
                "(U+017F matches 's'); origins are ASCII, so write the ASCII characters.",
            )
        if op is _sre.LITERAL and chr(av).isspace():
            raise _RefusedError(
                "regex-unsupported",
                "the pattern holds whitespace, which no origin does; for several regexes pass a "
                "list (in an ini file, one regex per line).",
            )
        if op is _sre.LITERAL:
            items.append(_chars(frozenset(v for v in _variants(chr(av), flags) if v in ORIGIN_ALPHABET)))
        elif op is _sre.NOT_LITERAL:
            excluded = set(_variants(chr(av), flags))
            items.append(_chars(frozenset(ORIGIN_ALPHABET - excluded)))
        elif op is _sre.ANY:
            items.append(_Chars(ORIGIN_ALPHABET, any=True))
        elif op is _sre.IN:
            items.append(_chars(_set_chars(av, flags)))
        elif op is _sre.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            items.append(_Seq((_convert(sub, (flags | add_flags) & ~del_flags, starts, ends),)))
        elif op is _sre.BRANCH:
            items.append(_Alt(tuple(_convert(option, flags, starts, ends) for option in av[1])))
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            low, high, sub = av
            items.append(_Rep(
                low, None if high is _sre.MAXREPEAT else high, _convert(sub, flags), op is _sre.MIN_REPEAT
            ))
        elif op is _sre.AT and ((starts and av in _START_ANCHORS) or (ends and av in _END_ANCHORS)):
            continue  # the whole origin is matched (fullmatch): ^ and $ at the ends change nothing
        elif op is _sre.AT:
            raise _RefusedError(
                "regex-unsupported",
                "anchors and word boundaries may only stand at the very start (^) or end ($) of "
                "the pattern or of each of its top-level alternatives, as in "
                "r'^https://a\\.example\\.com$|^https://b\\.example\\.com$'; the whole origin is "
                "always matched, so they may also be left out.",
            )
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            raise _RefusedError("regex-unsupported", "lookahead and lookbehind assertions are not supported.")
        elif op in (_sre.GROUPREF, _sre.GROUPREF_EXISTS):
            raise _RefusedError("regex-unsupported", "backreferences are not supported.")
        elif op is _POSSESSIVE or op is _ATOMIC:
            raise _RefusedError(
                "regex-unsupported", "possessive repeats and atomic groups are not supported."
            )
        else:
            raise _RefusedError("regex-unsupported", f"{op} is not supported.")
    return items[0] if len(items) == 1 else _Seq(tuple(items))


# -- linear time: routes never meet again and never loop side by side --------------


@dataclass
class _Automaton:
    """Positions (one per character matcher, counted repeats unrolled) with
    route multiplicities, capped at 2: ``follow[p][q] == 2`` means two
    different routes lead from ``p`` to ``q``."""

    chars: list[frozenset[str]] = field(default_factory=list)
    follow: list[dict[int, int]] = field(default_factory=list)
    steps: int = 0
    #: Positions of greedy loops over every origin character (``.*``).
    any_loops: set[int] = field(default_factory=set)

    def count(self) -> None:
        """One more unit of the engine's work per character: a position, a
        group or a repeat (counted repeats counted once per copy)."""
        self.steps += 1
        if self.steps > MAX_POSITIONS:
            raise _RefusedError(
                "regex-too-complex",
                f"the pattern has more than {MAX_POSITIONS} characters, groups and repeats "
                "(counted repeats such as {1,63} count once per repetition); split it into "
                "a list of simpler regexes.",
            )

    def _append(self, chars: frozenset[str]) -> int:
        self.chars.append(chars)
        self.follow.append({})
        return len(self.chars) - 1

    def add(self, chars: frozenset[str]) -> int:
        self.count()
        return self._append(chars)

    def link(self, last: dict[int, int], first: dict[int, int], times: int = 1) -> None:
        for p, m in last.items():
            row = self.follow[p]
            for q, n in first.items():
                row[q] = min(2, row.get(q, 0) + m * n * times)


_Glushkov = tuple[dict[int, int], dict[int, int], int]  # first, last, number of empty routes


def _add(a: dict[int, int], b: dict[int, int], times: int = 1) -> dict[int, int]:
    out = dict(a)
    if times:
        for k, v in b.items():
            out[k] = min(2, out.get(k, 0) + v * times)
    return out


def _build(node: _Node, auto: _Automaton) -> _Glushkov:
    if not isinstance(node, _Chars):
        auto.count()
    if isinstance(node, _Chars):
        p = auto.add(node.chars)
        return {p: 1}, {p: 1}, 0
    if isinstance(node, _Seq):
        return _build_parts([_builder(item, auto) for item in node.items], auto)
    if isinstance(node, _Alt):
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        empty = 0
        for option in node.options:
            f, la, e = _build(option, auto)
            first, last, empty = _add(first, f), _add(last, la), min(2, empty + e)
        return first, last, empty
    # A repeat: ``min`` mandatory copies, then a loop (unbounded) or a chain
    # of nested optional copies (bounded): exactly the engine's routes.
    if node.min > MAX_COUNT or (node.max is not None and node.max > MAX_COUNT):
        raise _RefusedError(
            "regex-too-complex",
            f"a counted repeat above {{{MAX_COUNT}}} cannot be proven fast at start-up; "
            "use '+' or '*' instead.",
        )
    body = node.body
    if _char_info(body)[0] == frozenset():
        raise _RefusedError(
            "regex-unsupported",
            "a repeated part matches only the empty string (as in '(){9}'); remove it.",
        )
    parts: list[Callable[[], _Glushkov]] = [_builder(body, auto)] * node.min
    if node.max is None:
        parts.append(lambda: _build_loop(body, auto, greedy=not node.lazy))
    elif node.max > node.min:
        count = node.max - node.min
        parts.append(lambda: _build_chain(body, count, auto))
    return _build_parts(parts, auto)


def _builder(node: _Node, auto: _Automaton) -> Callable[[], _Glushkov]:
    return lambda: _build(node, auto)


def _build_parts(parts: list[Callable[[], _Glushkov]], auto: _Automaton) -> _Glushkov:
    """Glushkov sets of a sequence whose items are built by ``parts``."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    empty = 1
    for part in parts:
        f, la, e = part()
        auto.link(last, f)
        first = _add(first, f, empty)
        last = _add(la, last, e)
        empty = min(2, empty * e)
    return first, last, empty


def _build_chain(body: _Node, count: int, auto: _Automaton) -> _Glushkov:
    """``(x(x(x)?)?)?`` for ``count`` copies of ``x``: each copy may only
    follow the one before it, and any copy may end the chain."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    previous: dict[int, int] | None = None
    for _ in range(count):
        f, la, e = _build(body, auto)
        if e and count > 1:
            raise _RefusedError(
                "regex-backtracking",
                "a repeated part can match nothing (as in '(a?){1,5}'), so there are many ways "
                "to match the same text; make the repeated part match at least one character.",
            )
        if previous is None:
            first = f
        else:
            auto.link(previous, f)
        last = _add(last, la)
        previous = la
    return first, last, 1 if count > 1 else min(2, 1 + (e if count else 0))


def _build_loop(body: _Node, auto: _Automaton, greedy: bool) -> _Glushkov:
    f, la, e = _build(body, auto)
    while isinstance(body, _Seq) and len(body.items) == 1:
        body = body.items[0]
    if greedy and isinstance(body, _Chars) and body.chars == ORIGIN_ALPHABET:
        auto.any_loops.update(f)
    if e:
        raise _RefusedError(
            "regex-backtracking",
            "a repeated part can match nothing (as in '(a*)*'), so there are endless ways to "
            "match the same text; make the repeated part match at least one character.",
        )
    auto.link(la, f)
    return f, la, 1


def _linear_time_problem(tree: _Node) -> RegexProblem | None:
    auto = _Automaton()
    first, last, _empty = _build(tree, auto)
    chars, follow = auto.chars, auto.follow
    # A greedy loop over every origin character that may end the match
    # (``.*`` or ``.*$`` at the end) ends the search the first time any
    # route reaches it: it reads the rest of the origin (no origin character
    # stops it) and what follows it matches the empty rest.  So routes that
    # meet there, or one route there beside another, cost nothing: such
    # pairs are not followed.
    final = auto.any_loops & last.keys()

    def overlap(p: int, q: int) -> bool:
        return not chars[p].isdisjoint(chars[q]) and p not in final and q not in final

    ambiguous = RegexProblem(
        "regex-backtracking",
        "two parts of the pattern can match the same characters in turn (nested or "
        "overlapping repeats such as '([a-z0-9]+-?)+' or '[a-z]*[a-z]*'), so a crafted "
        "Origin makes Python's backtracking regex engine run for seconds (ReDoS). Make "
        "each character matchable in only one way, e.g. r'https://[a-z0-9-]+\\.example\\.com' "
        "or r'https://([a-z0-9-]+\\.)*example\\.com'.",
    )
    # Where two routes part: two successors of one position (or two first
    # positions) that can read the same character.
    seeds: set[tuple[int, int]] = set()
    for row in (first, *follow):
        targets = [q for q in row if chars[q]]
        for q in targets:
            if row[q] > 1 and q not in final:
                return ambiguous  # two routes to one position: they have met
        for i, p in enumerate(targets):
            for q in targets[i + 1 :]:
                if overlap(p, q):
                    seeds.add((min(p, q), max(p, q)))
    # Walk every pair of parted routes over common text: they must never
    # meet again.  A meeting is exactly what makes backtracking blow up:
    # routes that part and meet in a loop double the work every round
    # (exponential); a route that can both stay in a loop and move on to a
    # second loop over the same text meets itself there (polynomial).
    # Pairs that never meet die or end on their own, so the engine's work
    # stays linear; two loops tried one after the other are fine.
    seen: set[tuple[int, int]] = set(seeds)
    todo = list(seeds)
    while todo:
        for nxt in _pairs(todo.pop(), follow, overlap):
            if nxt[0] == nxt[1]:
                return ambiguous
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return None


def _pairs(
    pair: tuple[int, int], follow: list[dict[int, int]], overlap: Callable[[int, int], bool]
) -> Iterator[tuple[int, int]]:
    p, q = pair
    for p2 in follow[p]:
        for q2 in follow[q]:
            if overlap(p2, q2):
                yield (p2, q2) if p2 <= q2 else (q2, p2)


# -- credentials: every alternative spells out its scheme and registrable domain -----


@dataclass(frozen=True, eq=False)
class _Var:
    """A part that can match text of varying length: a repeat."""

    node: _Rep


_Atom = _Chars | _Var


#: One alternative a regex can take: its atoms, and every choice made on the
#: way as ``(choice node id, option index, first atom, end atom)``: which
#: option of an alternation or an optional part it took, and which atoms
#: that option produced.
_Traced = tuple[list[_Atom], tuple[tuple[int, int, int, int], ...]]


def _expand(node: _Node) -> list[_Traced]:
    if isinstance(node, _Chars):
        return [([node], ())]
    if isinstance(node, _Seq):
        out: list[_Traced] = [([], ())]
        for item in node.items:
            tails = _expand(item)
            out = [
                (head + tail, head_choices + tuple(
                    (n, option, start + len(head), end + len(head)) for n, option, start, end in tail_choices
                ))
                for head, head_choices in out
                for tail, tail_choices in tails
            ]
            _check_alternatives(len(out))
        return out
    if isinstance(node, _Alt):
        out = [
            (atoms, ((id(node), index, 0, len(atoms)), *choices))
            for index, option in enumerate(node.options)
            for atoms, choices in _expand(option)
        ]
        _check_alternatives(len(out))
        return out
    if node.min == 0 and node.max == 1:
        return [([], ((id(node), 0, 0, 0),)), *(
            (atoms, ((id(node), 1, 0, len(atoms)), *choices)) for atoms, choices in _expand(node.body)
        )]
    if node.max is not None and node.min == node.max and node.min <= 8:
        return _expand(_Seq((node.body,) * node.min))
    return [([_Var(node)], ())]


def _check_alternatives(count: int) -> None:
    if count > MAX_ALTERNATIVES:
        raise _RefusedError(
            "regex-too-complex",
            f"with credentials every alternative is checked on its own, and this regex has "
            f"more than {MAX_ALTERNATIVES}; pass a list of simpler regexes instead.",
        )


def _literal(atom: _Atom) -> str | None:
    if isinstance(atom, _Chars) and len(atom.chars) == 1:
        return next(iter(atom.chars))
    return None


def _char_info(node: _Node) -> tuple[frozenset[str], frozenset[str], bool]:
    """(every character, every possible last character, can be empty)."""
    if isinstance(node, _Chars):
        return node.chars, node.chars, False
    if isinstance(node, _Alt):
        infos = [_char_info(o) for o in node.options]
        return (
            frozenset().union(*(i[0] for i in infos)),
            frozenset().union(*(i[1] for i in infos)),
            any(i[2] for i in infos),
        )
    if isinstance(node, _Seq):
        every: frozenset[str] = frozenset()
        ends: frozenset[str] = frozenset()
        empty = True
        for item in node.items:
            chars, item_last, item_empty = _char_info(item)
            every |= chars
            ends = item_last | (ends if item_empty else frozenset())
            empty = empty and item_empty
        return every, ends, empty
    chars, last, empty = _char_info(node.body)
    return chars, last, empty or node.min == 0


def _atom_info(atom: _Atom) -> tuple[frozenset[str], frozenset[str], bool]:
    return _char_info(atom.node if isinstance(atom, _Var) else atom)


def _sample(node: _Node, dot: str = ".") -> str:
    """One short string the node matches, reading an unescaped ``.`` as ``dot``."""
    if isinstance(node, _Chars):
        if node.any:
            return dot
        for preferred in "abcdefghijklmnopqrstuvwxyz0123456789-.":
            if preferred in node.chars:
                return preferred
        return min(node.chars) if node.chars else ""
    if isinstance(node, _Seq):
        return "".join(_sample(item, dot) for item in node.items)
    if isinstance(node, _Alt):
        return _sample(node.options[0], dot)
    return _sample(node.body, dot) * max(node.min, 1)


def _escape(text: str) -> str:
    return re.sub(r"([.\\+*?()\[\]{}|^$])", r"\\\1", text)




@dataclass(frozen=True)
class _Context:
    fullmatch: Callable[[str], bool]
    host_of: Callable[[str], str | None]
    tolerate_insecure: bool
    tolerate_public_suffixes: bool
    is_public: Callable[[str], bool]
    registrable: Callable[[str], str | None]
    is_loopback: Callable[[str], bool]


def _stranger_problem(
    ctx: _Context,
    atoms: list[_Atom],
    why: str,
    fix: str | None,
    intended_domain: str | None,
    fillers: tuple[str, ...] = ("attacker", "attacker-", "x", "1", ".attacker.com", "attacker.com"),
) -> RegexProblem:
    """A ``regex-too-broad`` problem naming a stranger origin the regex
    really matches (checked with the compiled regex), when one is found."""
    witness = _find_stranger(ctx, atoms, intended_domain, fillers)
    seen = f" For example it matches {witness!r}." if witness else ""
    hint = f" Write r'{fix}'." if fix else ""
    return RegexProblem(
        "regex-too-broad",
        f"with credentials a regex may only match origins you own, but {why}.{seen}{hint}",
    )


_TRAILING_FILLERS = (".attacker.com", "attacker.com", "-attacker.com", "attacker", "x", "1")


def _find_stranger(
    ctx: _Context, atoms: list[_Atom], intended_domain: str | None, fillers: tuple[str, ...]
) -> str | None:
    samples = [_sample(a.node if isinstance(a, _Var) else a) for a in atoms]
    for index, atom in enumerate(atoms):
        if _literal(atom) is not None:
            continue
        for filler in ("x", "1", "-") if isinstance(atom, _Chars) else fillers:
            candidate = "".join(samples[:index]) + filler + "".join(samples[index + 1 :])
            host = ctx.host_of(candidate)
            if host is None or not ctx.fullmatch(candidate):
                continue
            if ctx.registrable(host) != intended_domain:
                return candidate
    return None


def _check_alternative(ctx: _Context, atoms: list[_Atom]) -> RegexProblem | None:
    # The scheme and "://", spelled out.
    text = ""
    index = 0
    while index < len(atoms):
        char = _literal(atoms[index])
        if char is None:
            break
        text += char
        index += 1
        if text.endswith("://"):
            break
    scheme, sep, _ = text.partition("://")
    if not sep:
        return RegexProblem(
            "regex-too-broad",
            "with credentials the scheme must be spelled out, e.g. r'https://app\\.example\\.com'; "
            f"this alternative does not start with a literal scheme and '://' (it starts {text!r}).",
        )
    rest = atoms[index:]

    # Strip a port: ':' then only digits, at the end.
    end = len(rest)
    while end and _atom_info(rest[end - 1])[0] <= _DIGITS and _atom_info(rest[end - 1])[0]:
        end -= 1
    if end < len(rest) and end and _literal(rest[end - 1]) == ":":
        host_atoms, port_atoms = rest[: end - 1], rest[end - 1 :]
    else:
        host_atoms, port_atoms = rest, []
    port_text = "".join(_sample(a.node if isinstance(a, _Var) else a) for a in port_atoms)

    # The host's literal end: the spelled-out domain.
    cut = len(host_atoms)
    while cut and _literal(host_atoms[cut - 1]) is not None:
        cut -= 1
    tail = "".join(_literal(a) or "" for a in host_atoms[cut:])
    variable = host_atoms[:cut]
    intended_host = "".join(_sample(a.node if isinstance(a, _Var) else a) for a in host_atoms)
    prefix = f"{scheme}://"

    if not variable:
        host = tail
        secure = scheme != "http" or ctx.is_loopback(host) or ctx.tolerate_insecure
        if not secure:
            return RegexProblem(
                "insecure-origin-with-credentials",
                f"the regex matches the http: origin {prefix + host + port_text!r}; with credentials "
                "an http: origin lets anyone on the network path (public Wi-Fi, a proxy) act as the "
                f"user. Write r'{_escape('https://' + host)}' or pass "
                "dangerously_tolerate_insecure_origins=True.",
            )
        return None

    intended_domain = ctx.registrable(intended_host.split(":")[0].strip("."))
    if scheme not in ("http", "https"):
        return _stranger_problem(
            ctx, atoms, f"the host of a {scheme}: origin varies", None, intended_domain
        )
    all_any = all((isinstance(a, _Chars) and a.any) or _literal(a) is not None for a in host_atoms)
    if not tail or tail.startswith(":"):
        stable = len(host_atoms)
        while stable and _literal(host_atoms[stable - 1]) is None:
            stable -= 1
        start = "".join(_sample(a.node if isinstance(a, _Var) else a) for a in host_atoms[:stable])
        fix = None
        if start.endswith(":"):
            fix = _escape(prefix + start[:-1]) + "(:[0-9]+)?"
        elif start and not start.endswith(".") and "." in start:
            fix = _escape(prefix + start)
        return _stranger_problem(
            ctx, atoms,
            "the end of the host varies, so it matches hosts that merely start like yours",
            fix, intended_domain, _TRAILING_FILLERS,
        )
    domain = tail[1:] if tail.startswith(".") else tail
    if not tail.startswith("."):
        # The variable part must end on a label boundary: every part before
        # the domain that can end it must only end with '.'.
        position = len(variable)
        bounded = False
        while position:
            _chars, last, empty = _atom_info(variable[position - 1])
            if not last <= {"."}:
                break
            if not empty:
                bounded = True
                break
            position -= 1
        else:
            bounded = True  # only empty-able parts ending in '.', then "://"
        if not bounded:
            if all_any:
                fix = _escape(prefix + intended_host)
                why = (
                    "an unescaped '.' matches any character, so the domain is not spelled out"
                )
            else:
                fix = f"{_escape(prefix)}([a-z0-9-]+\\.)*{_escape(domain)}{_escape(port_text)}"
                why = (
                    f"nothing separates the variable part from {domain!r}, so it matches "
                    f"any domain that merely ends in {domain!r}"
                )
            return _stranger_problem(ctx, atoms, why, fix, intended_domain)
    if not re.fullmatch(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*", domain):
        return _stranger_problem(
            ctx, atoms, f"{domain!r} is not a domain name", None, intended_domain
        )
    if (
        scheme == "http"
        and not ctx.is_loopback(domain)
        and not ctx.tolerate_insecure
    ):
        return RegexProblem(
            "insecure-origin-with-credentials",
            f"the regex matches http: origins such as {prefix + intended_host + port_text!r}; with "
            "credentials an http: origin lets anyone on the network path act as the user. Use "
            "https (write 'https://', not 'https?://') or pass "
            "dangerously_tolerate_insecure_origins=True.",
        )
    if domain != "localhost" and not ctx.tolerate_public_suffixes and (
        ctx.is_public(domain) or ctx.registrable(domain) is None
    ):
        return RegexProblem(
            "public-suffix-wildcard",
            f"{domain!r} is a public suffix: anyone can register a name under it, so a regex "
            f"for any host under {domain!r} trusts strangers with the user's credentials. Spell "
            "out your own domain, or pass dangerously_tolerate_subdomains_of_public_suffixes=True.",
        )
    return None


def _registrable_variation(ctx: _Context, traced: list[_Traced]) -> RegexProblem | None:
    """A ``regex-too-broad`` problem when one optional part or alternation,
    the rest of the regex held fixed, produces hosts under different
    registrable domains (``https://app\\.?example\\.com`` matches
    ``appexample.com``; ``https://app\\.example\\.com?`` matches
    ``app.example.co``), unless each option spells its whole registrable
    domain (``https://(app\\.example\\.com|app\\.example\\.org)``).  Only an
    empty option (the optional part left out) is a stranger: any option that
    spells text was written by the user, because Python's parser cannot tell
    ``(app\\.example\\.com|app\\.example\\.org)`` from ``app\\.example\\.(com|org)``."""
    # Per alternative: its sample origin and registrable domain (loopback
    # hosts are all this machine: one domain).
    samples: list[tuple[str, str | None]] = []
    for atoms, _ in traced:
        origin = "".join(_sample(a.node if isinstance(a, _Var) else a) for a in atoms)
        host = ctx.host_of(origin)
        if host is None:
            samples.append((origin, None))
        elif ctx.is_loopback(host):
            samples.append((origin, "localhost"))
        else:
            samples.append((origin, ctx.registrable(host.rstrip("."))))
    intended = samples[max(range(len(traced)), key=lambda i: len(traced[i][0]))][1]
    groups: dict[tuple[object, ...], list[tuple[int, int, int]]] = {}
    for index, (atoms, choices) in enumerate(traced):
        if ctx.host_of(samples[index][0]) is None:
            continue  # no browser sends this alternative's sample: nothing to compare
        for node, _option, start, end in choices:
            key = (node, tuple(map(id, atoms[:start])), tuple(map(id, atoms[end:])))
            groups.setdefault(key, []).append((index, start, end))
    for members in groups.values():
        domains = {samples[index][1] for index, _, _ in members}
        if len(domains) < 2:
            continue
        # Python's parser stores r'(shop\.com|store\.com)' as r's(hop|tore)\.com' (it
        # factors out common prefixes), so an option that spells something is
        # taken as spelled; an option that is empty (the optional part left
        # out) spells nothing, and the domain it leaves is a stranger's.
        left_out = [index for index, start, end in members if start == end]
        if not left_out:
            continue
        # The stranger: a domain other than the one spelled with every part present.
        witness = next((i for i, _, _ in members if samples[i][1] != intended), left_out[0])
        named = sorted(d for d in domains if d is not None)
        shown = " and ".join(repr(d) for d in named) or "public suffixes"
        origin = samples[witness][0]
        seen = f" For example it matches {origin!r}." if ctx.fullmatch(origin) else ""
        hosts = [samples[i][0] for i, _, _ in members if not any(
            isinstance(a, _Var) for a in traced[i][0])]
        whole = ""
        if hosts and len(hosts) == len(members):
            scheme = hosts[0].partition("://")[0]
            if all(h.startswith(scheme + "://") for h in hosts):
                options = "|".join(dict.fromkeys(_escape(h.partition("://")[2]) for h in hosts))
                whole = f"; if you own every one, spell each as a whole domain: r'{scheme}://({options})'"
        return RegexProblem(
            "regex-too-broad",
            "with credentials a regex may only match origins you own, but an optional part or "
            f"alternative changes the registrable domain: it matches hosts under {shown}.{seen} "
            f"Require the characters you meant (write '\\.', not '\\.?'){whole}.",
        )
    return None


def check_regex(
    source: str,
    flags: int,
    *,
    credentials: bool,
    fullmatch: Callable[[str], bool],
    host_of: Callable[[str], str | None],
    tolerate_insecure: bool,
    tolerate_public_suffixes: bool,
    is_public: Callable[[str], bool],
    registrable: Callable[[str], str | None],
    is_loopback: Callable[[str], bool],
) -> list[RegexProblem]:
    """Every problem with one ``allow_origin_regex``: unsupported syntax,
    super-linear matching, and (with credentials) strangers it would trust.

    ``fullmatch`` is the compiled regex's test and ``host_of`` gives the host
    of an origin in the shape the matcher accepts (else ``None``); both are
    used only to confirm that a stranger origin shown in a message is one a
    browser could send and the regex really matches.
    """
    try:
        tree = _convert(_sre_parse.parse(source, flags), flags, at_start=True, at_end=True)
    except _RefusedError as refused:
        return [refused.problem]
    problems: list[RegexProblem] = []
    try:
        slow = _linear_time_problem(tree)
    except _RefusedError as refused:
        slow = refused.problem
    if slow is not None:
        problems.append(slow)
    try:
        traced = _expand(tree)
    except _RefusedError as refused:
        return [*problems, refused.problem] if credentials else problems
    alternatives = [atoms for atoms, _ in traced]
    never = _never_matches(alternatives)
    if never is not None:
        problems.append(never)
    if not credentials:
        return problems
    ctx = _Context(
        fullmatch, host_of, tolerate_insecure, tolerate_public_suffixes, is_public, registrable, is_loopback
    )
    found: list[RegexProblem] = []
    seen: set[str] = set()
    for atoms in alternatives:
        problem = _check_alternative(ctx, atoms)
        if problem is not None and problem.message not in seen:
            seen.add(problem.message)
            found.append(problem)
    if not found:
        variation = _registrable_variation(ctx, traced)
        if variation is not None:
            found.append(variation)
    if any(p.code == "regex-too-broad" for p in found):
        # One fix for the whole regex, keeping its alternatives and variable
        # parts, and offered only when the fixed regex passes every check.
        fix = _verified_fix(source, flags, credentials=credentials, fullmatch=fullmatch, host_of=host_of,
                            tolerate_insecure=tolerate_insecure,
                            tolerate_public_suffixes=tolerate_public_suffixes,
                            is_public=is_public, registrable=registrable, is_loopback=is_loopback)
        hint = f" Write r'{fix}'." if fix else ""
        broad = next(p for p in found if p.code == "regex-too-broad")
        found = [
            RegexProblem(p.code, _WRITE_HINT.sub("", p.message) + hint) if p is broad else p
            for p in found
            if p.code != "regex-too-broad" or p is broad
        ]
    return problems + found


_WRITE_HINT = re.compile(r" Write r'.*'\.$")
#: An escaped dot or a literal letter made optional (``\.?``, ``m?``).
_OPTIONAL_CHAR = re.compile(r"(\\\.|(?<![\\\]])[a-z0-9-])\?")
_LONE_DOT = re.compile(r"(?<!\\)\.(?![*+?{])")
_GLUED_WILDCARD = re.compile(r"://(?:\.\*|\.\+|\[a-z0-9-\][*+])(?=[A-Za-z0-9])")
_TRAILING_WILDCARD = re.compile(r"(?:\(\\\.\.\*\)\?|\.\*|\.\+)(\$?)$")


def _verified_fix(source: str, flags: int, **check: Any) -> str | None:
    """The first of a few source-level repairs (escape lone dots, drop a
    trailing wildcard, https for https?) that passes every check."""
    escaped = _LONE_DOT.sub(r"\\.", source)
    candidates = [
        escaped,
        source.replace(r")?\.?", r"\.)?"),  # (www)?\.?example -> (www\.)?example
        _OPTIONAL_CHAR.sub(r"\1", source),
        _TRAILING_WILDCARD.sub(r"\1", source),
        _TRAILING_WILDCARD.sub(r"\1", escaped),
        source.replace("https?://", "https://"),
        _GLUED_WILDCARD.sub(r"://([a-z0-9-]+\\.)*", source),
    ]
    for candidate in dict.fromkeys(candidates):
        if candidate == source:
            continue
        try:
            compiled = re.compile(candidate, flags)
        except re.error:
            continue
        check["fullmatch"] = lambda origin, c=compiled: c.fullmatch(origin) is not None
        if not check_regex(candidate, flags, **check):
            return candidate
    return None


def _never_matches(alternatives: list[list[_Atom]]) -> RegexProblem | None:
    """A regex whose every alternative spells out something no serialized
    origin holds (a path, a default port) can never match: a mistake."""
    reasons: list[str] = []
    for atoms in alternatives:
        text = "".join(_literal(a) or "\0" for a in atoms)
        scheme, sep, rest = text.partition("://")
        if not sep:
            return None
        if "/" in rest:
            reasons.append("origins have no path: remove what starts at the '/' after the host")
        elif (scheme, rest.rpartition(":")[2]) in (("https", "443"), ("http", "80")):
            reasons.append("browsers never send the default port: remove it")
        else:
            return None
    return RegexProblem(
        "origin-not-serialized",
        f"the regex can never match an Origin header: {reasons[0]}.",
    )
