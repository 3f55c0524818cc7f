"""Word patterns matched over a list of words in one pass (no regular-expression backtracking).

The refusal rules (prompt injection, personal data, predictions) and the check of LLM answers
look for phrases such as "ignore ... instructions" or "date of birth". As regular expressions
with ``.*`` they cost time proportional to the square of the text (every "ignore" scans to
the end: a 70 KB question took 20 s). Here a pattern is a short list of word steps; all
patterns advance together, word by word, so matching costs one pass over the words whatever
they hold.

Pattern syntax, words separated by spaces:

* ``a|b`` either word; ``name*`` any word starting with "name";
* ``(the)`` an optional word; ``...`` any number of other words (none too) before the next step.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

GAP = "..."


@dataclass(frozen=True)
class _Step:
    words: frozenset
    prefixes: tuple
    optional: bool = False
    gap: bool = False  # other words may come before this step

    def accepts(self, word: str) -> bool:
        return word in self.words or any(word.startswith(p) for p in self.prefixes)


def _compile(pattern: str) -> tuple[_Step, ...]:
    steps, gap = [], False
    for part in pattern.split():
        if part == GAP:
            gap = True
            continue
        optional = part.startswith("(") and part.endswith(")")
        options = part.strip("()").split("|")
        steps.append(_Step(frozenset(o for o in options if not o.endswith("*")),
                           tuple(o[:-1] for o in options if o.endswith("*")), optional, gap))
        gap = False
    if not steps or steps[0].optional or gap:
        raise ValueError(f"a pattern starts with a word and ends with a word: {pattern!r}")
    return tuple(steps)


class PhraseSet:
    """Patterns looked for together; :meth:`find` names the first one a word list holds."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._steps = tuple(_compile(p) for p in self.patterns)
        self._first: dict[str, list[int]] = {}
        self._first_prefix: list[tuple[str, int]] = []
        for i, steps in enumerate(self._steps):
            for word in steps[0].words:
                self._first.setdefault(word, []).append(i)
            self._first_prefix += [(p, i) for p in steps[0].prefixes]

    def _advance(self, p: int, k: int, out: set) -> bool:
        """Add state (pattern p, next step k) and the states its optional steps lead to;
        True when the pattern is complete."""
        steps = self._steps[p]
        while True:
            if k == len(steps):
                return True
            out.add((p, k))
            if not steps[k].optional:
                return False
            k += 1

    def find(self, words: Sequence[str]) -> str | None:
        """The first pattern found in ``words`` (lower-case tokens), or None. One pass: the
        live states are bounded by the patterns' total steps, however long ``words`` is."""
        live: set = set()
        for word in words:
            nxt: set = set()
            starts = self._first.get(word, ())
            if self._first_prefix:
                starts = list(starts) + [i for pre, i in self._first_prefix if word.startswith(pre)]
            for p in starts:
                if self._advance(p, 1, nxt):
                    return self.patterns[p]
            for p, k in live:
                step = self._steps[p][k]
                if step.accepts(word) and self._advance(p, k + 1, nxt):
                    return self.patterns[p]
                if step.gap:
                    nxt.add((p, k))
            live = nxt
        return None


__all__ = ["PhraseSet"]
