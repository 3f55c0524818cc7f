"""A tiny, safe filter language for counting questions.

A :class:`Condition` is (column, op, value): op is one of ``>``, ``>=``, ``<``, ``<=``,
``==``, ``!=``, ``between``, ``is_true``, ``is_false``, ``is_level``, ``not_level``.
Conditions are read from words ("more than 3 returns", "spend over 2000", "between 30 and
40 years old", "older than 60", "loyalty members", "who prefer the store") and applied
with vectorised numpy/pandas comparisons on the ``customers`` frame. No text is ever
evaluated (no eval/query): a column must be one of the report's features and a value a
parsed number or one of the column's known levels.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from .vocabulary import Token, Vocabulary

NUMERIC_OPS = (">", ">=", "<", "<=", "==", "!=", "between")
FLAG_OPS = ("is_true", "is_false", "is_level", "not_level")
OPS = NUMERIC_OPS + FLAG_OPS

#: Word sequences that compare, longest first within each op: (words, op, implied feature words).
COMPARATORS: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    (("no", "less", "than"), ">=", ()), (("not", "less", "than"), ">=", ()),
    (("no", "more", "than"), "<=", ()), (("not", "more", "than"), "<=", ()),
    (("not", "equal", "to"), "!=", ()),
    (("more", "than"), ">", ()), (("greater", "than"), ">", ()), (("higher", "than"), ">", ()),
    (("bigger", "than"), ">", ()), (("larger", "than"), ">", ()), (("older", "than"), ">", ("age",)),
    (("less", "than"), "<", ()), (("fewer", "than"), "<", ()), (("lower", "than"), "<", ()),
    (("smaller", "than"), "<", ()), (("younger", "than"), "<", ("age",)),
    (("at", "least"), ">=", ()), (("at", "most"), "<=", ()), (("up", "to"), "<=", ()),
    (("equal", "to"), "==", ()), (("over",), ">", ()), (("above",), ">", ()), (("exceeding",), ">", ()),
    (("under",), "<", ()), (("below",), "<", ()), (("exactly",), "==", ()), (("equals",), "==", ()),
    ((">=",), ">=", ()), (("<=",), "<=", ()), ((">",), ">", ()), (("<",), "<", ()), (("==",), "==", ()),
    (("=",), "==", ()), (("!=",), "!=", ()),
)
#: Words after a number that turn it into a bound: "3 or more", "5 or fewer", "10+".
POSTFIX = MappingProxyType({("or", "more"): ">=", ("or", "above"): ">=", ("or", "over"): ">=", ("plus",): ">=",
           ("or", "less"): "<=", ("or", "fewer"): "<=", ("or", "under"): "<=", ("or", "below"): "<="})
NEGATIONS = frozenset({"not", "non", "no", "without", "never"})
STOP_WINDOW = frozenset({"and", "or", "but", "who", "whose", "which", "with", "while", "in", "among",
                         "segment", "group", "cluster", ",", "than", "between"})


@dataclass(frozen=True)
class Condition:
    """One filter on a customers column."""

    column: str
    op: str
    value: float | str | None = None
    value2: float | None = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown filter operator {self.op!r}")

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of ``frame`` meeting the condition (missing values never do)."""
        series = frame[self.column]
        if self.op in ("is_level", "not_level"):
            present = series.notna().to_numpy(dtype=bool)
            hit = (series.astype(object) == self.value).to_numpy(dtype=bool)
            return present & (hit if self.op == "is_level" else ~hit)
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if self.op == "is_true":
                return values >= 0.5
            if self.op == "is_false":
                return values < 0.5
            v = float(self.value)
            if self.op == ">":
                return values > v
            if self.op == ">=":
                return values >= v
            if self.op == "<":
                return values < v
            if self.op == "<=":
                return values <= v
            if self.op == "==":
                return np.isclose(values, v, rtol=0, atol=1e-9)
            if self.op == "!=":
                return ~np.isclose(values, v, rtol=0, atol=1e-9) & ~np.isnan(values)
            lo, hi = sorted((v, float(self.value2)))
            return (values >= lo) & (values <= hi)

    def to_dict(self) -> dict:
        out = {"column": self.column, "op": self.op, "value": self.value}
        if self.value2 is not None:
            out["value2"] = self.value2
        return out


@dataclass(frozen=True)
class ParsedFilters:
    """Conditions read from a question, the token positions they used, and loose ends."""

    conditions: tuple
    used: frozenset
    unresolved: tuple  # comparator phrases whose column could not be found, e.g. ("more than 3",)


def combined_mask(frame: pd.DataFrame, conditions) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for condition in conditions:
        mask &= condition.mask(frame)
    return mask


def _match(tokens: list[Token], i: int, words: tuple) -> bool:
    return i + len(words) <= len(tokens) and all(tokens[i + k].text == w for k, w in enumerate(words))


def _share_like(report, column: str) -> bool:
    stats = (report.overall.get("numeric") or {}).get(column) or {}
    lo, hi = stats.get("min"), stats.get("max")
    return lo is not None and hi is not None and 0 <= lo and hi <= 1


def _scaled(report, column: str, value: float, percent: bool) -> float:
    return value / 100 if percent and _share_like(report, column) else value


def _window_feature(vocab: Vocabulary, tokens: list[Token], positions: list, numeric: bool):
    """The column named by the words at ``positions`` (free words next to a comparison)."""
    if not positions:
        return None
    matches = vocab.match_features(tokens, only=set(positions))
    for m in matches:
        kind = vocab.features[m.feature].kind
        if not m.generic_only and m.level is None and (kind != "categorical" or not numeric):
            return m
    return None


def _window(tokens: list[Token], start: int, step: int, size: int, taken: Callable[[int], bool]) -> list:
    out, i = [], start
    while 0 <= i < len(tokens) and len(out) < size:
        if taken(i) or tokens[i].text in STOP_WINDOW or tokens[i].number is not None:
            break
        out.append(i)
        i += step
    return out


def parse_comparisons(tokens: list[Token], vocab: Vocabulary, report, skip: set) -> ParsedFilters:
    """Numeric conditions: comparator words + number(s) + the column named next to them."""
    conditions, used, unresolved = [], set(), []
    i = 0
    while i < len(tokens):
        if i in skip or i in used:
            i += 1
            continue
        op, span, hint, numbers = None, 0, (), []
        if tokens[i].text == "between" or (tokens[i].text == "from" and i + 3 < len(tokens)
                                           and tokens[i + 2].text == "to"):
            if i + 3 < len(tokens) and tokens[i + 1].number is not None and tokens[i + 2].text in ("and", "to") \
                    and tokens[i + 3].number is not None:
                op, span, numbers = "between", 1, [i + 1, i + 3]
        if op is None:
            for words, cmp_op, implied in COMPARATORS:
                if _match(tokens, i, words):
                    j = i + len(words)
                    if j < len(tokens) and tokens[j].number is not None:
                        op, span, hint, numbers = cmp_op, len(words), implied, [j]
                    break
        postfix: set = set()
        if op is None and tokens[i].number is not None:
            for words, post_op in POSTFIX.items():
                if _match(tokens, i + 1, words):
                    op, span, numbers = post_op, 0, [i]
                    postfix = set(range(i + 1, i + 1 + len(words)))
                    break
        if op is None:
            i += 1
            continue
        phrase = set(range(i, i + span)) | set(numbers) | postfix
        last = max(numbers)
        percent = last + 1 < len(tokens) and tokens[last + 1].text in ("%", "percent")
        if percent:
            phrase.add(last + 1)
        end = max(phrase)

        def taken(k: int, phrase: set = phrase) -> bool:  # no set copies: a question of n comparisons stays linear
            return k in skip or k in used or k in phrase

        right = _window(tokens, max(phrase) + 1, 1, 4, taken)
        left = _window(tokens, min(phrase) - 1, -1, 5, taken)
        match = None
        if hint:
            hint_tokens = [Token(w, w) for w in hint]
            found = vocab.match_features(hint_tokens)
            match = found[0] if found and not found[0].generic_only else None
            match_positions: frozenset = frozenset()
        if match is None:
            match = _window_feature(vocab, tokens, right, True) or _window_feature(vocab, tokens, left, True)
            both = _window_feature(vocab, tokens, left + right, True)
            if both is not None and (match is None or both.weight > match.weight):
                match = both  # "not ordered for more than 200 *days*": words on both sides
            match_positions = match.positions if match else frozenset()
        if match is None:
            unresolved.append(" ".join(tokens[k].text for k in sorted(phrase)))
            used |= phrase
            i = end + 1
            continue
        column = match.feature
        values = [_scaled(report, column, tokens[k].number, percent) for k in numbers]
        conditions.append(Condition(column, op, values[0], values[1] if op == "between" else None))
        used |= phrase | set(match_positions)
        i = end + 1
    return ParsedFilters(tuple(conditions), frozenset(used), tuple(unresolved))


def _negated(tokens: list[Token], positions: set) -> bool:
    first = min(positions)
    return any(tokens[k].text in NEGATIONS for k in range(max(0, first - 3), first))


def parse_flags(tokens: list[Token], vocab: Vocabulary, skip: set) -> ParsedFilters:
    """Yes/no columns ("loyalty members", "app users") and levels ("female", "the store")."""
    conditions, used = [], set()
    for column, level, positions in vocab.level_matches(tokens, skip):
        if positions & used:
            continue
        op = "not_level" if _negated(tokens, positions) else "is_level"
        conditions.append(Condition(column, op, level))
        used |= positions
        own = {w for w, _ in vocab.features[column].words}  # "the West *region*", "*channel* store"
        near = range(max(0, min(positions) - 2), min(len(tokens), max(positions) + 3))
        used |= {k for k in near if k not in skip and tokens[k].stem in own}
    taken = set(skip) | used
    for m in vocab.match_features(tokens, skip=taken):
        info = vocab.features[m.feature]
        if info.kind != "boolean" or m.generic_only or m.coverage < 0.5 or m.positions & used:
            continue
        op = "is_false" if _negated(tokens, set(m.positions)) else "is_true"
        conditions.append(Condition(m.feature, op))
        used |= set(m.positions)
    return ParsedFilters(tuple(conditions), frozenset(used), ())


__all__ = ["Condition", "ParsedFilters", "parse_comparisons", "parse_flags", "combined_mask", "OPS",
           "NUMERIC_OPS", "FLAG_OPS"]
