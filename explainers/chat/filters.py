"""A tiny, safe filter language for counting questions, read from words.

A :class:`Condition` is (column, op, value): op is one of ``>``, ``>=``, ``<``, ``<=``, ``==``,
``!=``, ``between``, ``is_true``, ``is_false``, ``is_level``, ``not_level`` or ``in`` (one of
several levels). Conditions are read from words ("more than 3 returns", "earning over 100k",
"between 30 and 40", "over 60" when only one column can be meant, "with kids", "no balance",
"women", "artists or entertainers"), with the value read in the column's unit (100k on a
k$ column is 100; 50% on a 0-1 share is 0.5), and applied with vectorised comparisons on
the customers frame. Nothing is evaluated as code: a column must be one of the report's
columns and a value a parsed number or one of the column's known levels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .tokens import Token
from .vocabulary import Vocabulary, general_first
from .words import COLUMN_NOUNS, COMPARATORS, NEGATIONS, POSSESSION, POSTFIX, STOP_WINDOW, UNIT_WORDS

NUMERIC_OPS = (">", ">=", "<", "<=", "==", "!=", "between")
FLAG_OPS = ("is_true", "is_false", "is_level", "not_level", "in")
OPS = NUMERIC_OPS + FLAG_OPS
#: Roles whose columns a bare number ("over 60", "under 25") may mean, with a plausible range.
VALUE_ONLY_ROLES = {"age": (0, 120)}
#: Roles whose "no X" / "with X" means zero / more than zero ("no kids", "with a cash advance").
PRESENCE_ROLES = frozenset({"count", "money", "household", "frequency", "share", "experience"})
#: Verbs that make "bought wine" a condition (spent more than nothing on wine) when customers are counted.
BUY_TRIGGERS = frozenset({"bought", "purchased"})
#: People named by what they use or buy ("cash advance users", "wine buyers").
USER_NOUNS = frozenset({"users", "user", "takers", "taker", "buyers", "buyer", "payers", "purchasers"})


@dataclass(frozen=True)
class Condition:
    """One filter on a customers column."""

    column: str
    op: str
    value: float | str | list | None = None
    value2: float | None = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown filter operator {self.op!r}")

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of ``frame`` meeting the condition (missing values never do)."""
        series = frame[self.column]
        if self.op in ("is_level", "not_level", "in"):
            present = series.notna().to_numpy(dtype=bool)
            wanted = list(self.value) if self.op == "in" else [self.value]
            hit = series.astype(object).isin(wanted).to_numpy(dtype=bool)
            return present & (~hit if self.op == "not_level" else hit)
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


def combined_mask(frame: pd.DataFrame, conditions, join: str = "and") -> np.ndarray:
    """Rows meeting all (``join="and"``) or any (``"or"``) of the conditions."""
    if not conditions:
        return np.ones(len(frame), dtype=bool)
    masks = [c.mask(frame) for c in conditions]
    return np.logical_and.reduce(masks) if join != "or" else np.logical_or.reduce(masks)


@dataclass(frozen=True)
class ParsedFilters:
    """Conditions read from a question, the token positions they used, and loose ends."""

    conditions: tuple
    used: frozenset
    unresolved: tuple  # comparator phrases whose column could not be found, e.g. ("more than 3",)
    starts: tuple = ()  # first token position of each condition (for and/or between them)
    ambiguous: tuple = ()  # [columns] that a condition's words fit equally ("children": kids or teenagers?)


# ----------------------------------------------------------------------------- values
def scaled_value(report, column: str, token: Token) -> float:
    """A written number in the column's unit: 100k on a k$ column is 100; 50% (or 50) on a
    0-1 share is 0.5; 2 years on a months column is 24."""
    value = float(token.number)
    meaning = report.meaning(column) if hasattr(report, "meaning") else None
    if meaning is None:
        return value
    if meaning.unit.startswith("k") and len(meaning.unit) == 2 and (token.suffix == "k" or value >= 1000):
        return value / 1000 if token.suffix == "k" or value >= 1000 else value
    if tuple(meaning.scale) == (0, 1) and (token.percent or value > 1):
        return value / 100
    return value


def _match(tokens: list[Token], i: int, words: tuple) -> bool:
    return i + len(words) <= len(tokens) and all(tokens[i + k].text == w for k, w in enumerate(words))


def _window(tokens: list[Token], start: int, step: int, size: int, taken: set) -> list:
    out, i = [], start
    while 0 <= i < len(tokens) and len(out) < size:
        if i in taken or tokens[i].text in STOP_WINDOW or tokens[i].number is not None:
            break
        out.append(i)
        i += step
    return out


_EXACT_LEADS = frozenset({"have", "has", "with", "of", "having"})
#: Words after "over 60" that leave the number bare (it can still mean the only age column).
_HARMLESS = frozenset({"are", "is", "who", "that", "the", "a", "in", "do", "we", "have", "customers", "customer",
                       "people", "years", "year", "old", "yo", "and", "or", "married", "single", "women", "men"})


def _column_in(vocab: Vocabulary, tokens: list[Token], positions: list, skip: set, numeric: bool,
               prefer_count: bool = False, unit: str = "", report=None):
    """The best numeric column named in ``positions``; on a tie a count ("20 purchases" right after
    the number) or the column in the unit said ("12 months") wins."""
    if not positions:
        return None
    matches, generic = [], []
    for m in vocab.match_columns(tokens, skip=skip, only=set(positions)):
        kind = vocab.columns[m.column].kind
        if m.level is not None or numeric and kind in ("categorical", "profile", "boolean"):
            continue
        (generic if m.generic_only else matches).append(m)
    if not matches and len(generic) == 1 and any(tokens[k].text in COLUMN_NOUNS for k in generic[0].positions):
        matches = generic  # "a score of 50 or less" where one column is a score ("customers" names none)
    if not matches:
        return None
    top = [m for m in matches if m.score == matches[0].score]

    def fits(m) -> tuple:
        meaning = report.meaning(m.column) if report is not None and hasattr(report, "meaning") else None
        unit_fit = bool(unit) and meaning is not None and meaning.unit.rstrip("s") == unit.rstrip("s")
        return (unit_fit, prefer_count and vocab.columns[m.column].role == "count")
    if len(top) > 1 and any(fits(m) != (False, False) for m in top):
        return max(top, key=fits)
    best, tie = general_first(matches, vocab)
    if tie:
        return Ambiguous((best.column, *tie))
    return best


class Ambiguous(tuple):
    """Columns that a condition's words fit equally: the answer must ask which one is meant."""


def _by_role(vocab: Vocabulary, role: str) -> str | None:
    """The one numeric column with ``role`` (None when there is none or more than one)."""
    hits = [c for c, info in vocab.columns.items() if info.role == role and info.kind in ("numeric", "datetime")]
    return hits[0] if len(hits) == 1 else None


_COUNTED_ROLES = frozenset({"household", "count"})


def _counted_right_after(vocab: Vocabulary, tokens: list[Token], i: int, skip: set) -> bool:
    """Is the number at ``i`` followed at once by a column of things one has ("2 kids", "3 purchases")?"""
    match = _column_in(vocab, tokens, _window(tokens, i + 1, 1, 4, skip | {i}), skip | {i}, True)
    return match is not None and not isinstance(match, Ambiguous) and min(match.positions) == i + 1 \
        and vocab.columns[match.column].role in _COUNTED_ROLES and not tokens[i].suffix


def _range_at(tokens: list[Token], i: int) -> bool:
    """Two numbers in a row, the second larger: a range written "40-50" (the dash is not a token)."""
    return i + 1 < len(tokens) and tokens[i].number is not None and tokens[i + 1].number is not None \
        and tokens[i + 1].number > tokens[i].number


def _comparison_at(tokens: list[Token], i: int) -> bool:
    """Does a comparison with a number start at ``i`` ("more than 70k")?"""
    for words, _, _ in COMPARATORS:
        if _match(tokens, i, words):
            j = i + len(words)
            return j < len(tokens) and tokens[j].number is not None
    return False


def parse_comparisons(tokens: list[Token], vocab: Vocabulary, report, skip: set) -> ParsedFilters:
    """Numeric conditions: comparison words + number(s) + the column named next to them (or the
    only column a bare number can mean, such as age for "over 60")."""
    conditions, used, unresolved, starts, ambiguous = [], set(), [], [], []
    i = 0
    while i < len(tokens):
        if i in skip or i in used:
            i += 1
            continue
        op, span, role, numbers = None, 0, "", []
        if tokens[i].text in ("between", "from", "aged") and i + 3 < len(tokens) \
                and tokens[i + 1].number is not None and tokens[i + 2].text in ("and", "to") \
                and tokens[i + 3].number is not None:
            op, span, numbers = "between", 1, [i + 1, i + 3]
            role = "age" if tokens[i].text == "aged" else ""
        elif tokens[i].text in ("between", "from", "aged") and i + 2 < len(tokens) \
                and _range_at(tokens, i + 1):  # "aged 40-50"
            op, span, numbers = "between", 1, [i + 1, i + 2]
            role = "age" if tokens[i].text == "aged" else ""
        elif tokens[i].number is not None and i + 2 < len(tokens) and tokens[i + 1].text == "to" \
                and tokens[i + 2].number is not None:
            op, span, numbers = "between", 0, [i, i + 2]
        elif _range_at(tokens, i):  # "40-50"
            op, span, numbers = "between", 0, [i, i + 1]
        if op is None:
            for words, cmp_op, implied in COMPARATORS:
                if _match(tokens, i, words):
                    j = i + len(words)
                    if j < len(tokens) and tokens[j].number is not None:
                        op, span, role, numbers = cmp_op, len(words), implied, [j]
                    break
        postfix: set = set()
        if op is None and tokens[i].number is not None:
            for words, post_op in POSTFIX.items():
                if _match(tokens, i + 1, words):
                    op, span, numbers = post_op, 0, [i]
                    postfix = set(range(i + 1, i + 1 + len(words)))
                    break
        if op is None and tokens[i].number is not None and i > 0 and tokens[i - 1].text in _EXACT_LEADS \
                and i + 1 < len(tokens) and (tokens[i + 1].text in UNIT_WORDS  # "have 12 months tenure"
                                             or _counted_right_after(vocab, tokens, i, set(skip) | used)):
            op, span, numbers = "==", 0, [i]  # "have 2 kids at home"
        if op is None:
            i += 1
            continue
        phrase = set(range(i, i + span)) | set(numbers) | postfix
        last = max(numbers)
        if last + 1 < len(tokens) and tokens[last + 1].text in ("%", "percent", "pct"):
            phrase.add(last + 1)
        unit = ""
        k = max(phrase) + 1
        while k < len(tokens) and k not in skip and (tokens[k].text in UNIT_WORDS or tokens[k].text in ("a", "per")
                                                     and k + 1 < len(tokens) and tokens[k + 1].text in UNIT_WORDS):
            unit = unit or (tokens[k].text if tokens[k].text in UNIT_WORDS else "")
            phrase.add(k)  # "12 months", "10+ years", "5 times a month": the unit belongs to the number
            k += 1
        end = max(phrase)
        taken = set(skip) | used | phrase
        right = _window(tokens, end + 1, 1, 4, taken)
        if any(_comparison_at(tokens, k) for k in right + [max(right, default=end) + 1]):
            right = []  # "over 50 earn more than 70k": "earn" belongs to the comparison after it
        left = _window(tokens, min(phrase) - 1, -1, 5, taken)
        column, positions, scale, detached = None, frozenset(), 1.0, False
        if role:
            column = _by_role(vocab, role)
            if column is None and role == "age":
                column = _by_role(vocab, "birth_year")
                if column is not None:
                    op = {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)
        if column is None:
            match = _column_in(vocab, tokens, right, taken, True, prefer_count=bool(right) and right[0] == end + 1,
                               unit=unit, report=report) \
                or _column_in(vocab, tokens, left, taken, True, unit=unit, report=report)
            if isinstance(match, Ambiguous):
                ambiguous.append(list(match))
                used |= phrase
                i = end + 1
                continue
            if match is not None and not isinstance(match, Ambiguous) \
                    and not _plausible(report, match.column, [tokens[k] for k in numbers]):
                # "customers over 60 have kids": 60 is no number of kids, so the number is an age;
                # "more than 60 kids" says it is kids, and stays unanswered
                detached = min(match.positions) > end + 1
                match = None
            if match is not None:
                column, positions = match.column, match.positions
                # the column's other words on either side belong to the condition ("spent over $500 on meat")
                extra = vocab.match_columns(tokens, skip=taken | set(positions), only=set(left + right))
                positions = frozenset(positions | next((m.positions for m in extra if m.column == column),
                                                       frozenset()))
        if role == "recency" and column is not None:
            factor = _DAYS.get(_plural(unit), {}).get(_unit_of(report, column)) if unit else None
            if factor is None:  # "in the last 3 visits": no time, no recency
                column = None
            else:
                scale = factor
                before = [k for k in range(max(0, min(phrase) - 4), min(phrase)) if k not in taken]
                positions = frozenset(k for k in before if tokens[k].stem in _BOUGHT)  # "bought within ..."
        if unit and role != "recency" and (column is None or _unit_of(report, column) != _plural(unit)):
            in_unit = [c for c, info in vocab.columns.items() if _unit_of(report, c) == _plural(unit)
                       and info.kind in ("numeric", "datetime")]
            buy_words = {"bought", "buy", "purchas", "order", "shop", "visit", "anything"}
            before = [k for k in range(max(0, min(phrase) - 6), min(phrase)) if k not in taken]
            buying = any(tokens[k].stem in buy_words - {"anything"} for k in before + right)
            recency = [c for c in in_unit if vocab.columns[c].role == "recency"]
            if buying and len(recency) == 1:  # "haven't bought anything in over 90 days"
                column, positions = recency[0], frozenset(k for k in before + right if tokens[k].stem in buy_words)
            elif column is None and len(in_unit) == 1:
                column = in_unit[0]
        stray = [k for k in right if tokens[k].text not in _HARMLESS and tokens[k].stem not in _HARMLESS]
        if column is None and (not stray or detached):  # "over 60" alone; "more than 3 pets" stays unknown
            values = [tokens[k].number for k in numbers]
            for only_role, (lo, hi) in VALUE_ONLY_ROLES.items():
                candidate = _by_role(vocab, only_role)
                if candidate is None and only_role == "age" and _by_role(vocab, "birth_year"):
                    candidate, role = _by_role(vocab, "birth_year"), "age"  # ages on a birth-year column
                    op = {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)
                if candidate and all(lo <= v <= hi for v in values) and not tokens[last].suffix:
                    column = candidate
        if column is None:
            unresolved.append(" ".join(tokens[k].text for k in sorted(phrase)))
            used |= phrase
            i = end + 1
            continue
        values = [scaled_value(report, column, tokens[k]) * scale for k in numbers]
        if role == "age" and vocab.columns[column].role == "birth_year":
            values = [report_year(report) - v for v in values]
        conditions.append(Condition(column, op, values[0], values[1] if op == "between" else None))
        starts.append(min(phrase | set(positions)))
        used |= phrase | set(positions)
        i = end + 1
    return ParsedFilters(tuple(conditions), frozenset(used), tuple(unresolved), tuple(starts), tuple(ambiguous))


_BOUGHT = frozenset({"bought", "buy", "purchas", "order", "shop", "visit", "anything", "something"})
#: Time units said -> {the column's unit: how many of it one is}, for "in the last 2 months".
_DAYS = {"days": {"days": 1.0, "weeks": 1 / 7, "months": 1 / 30}, "weeks": {"days": 7.0, "weeks": 1.0},
         "months": {"days": 30.0, "months": 1.0, "weeks": 30 / 7}, "years": {"days": 365.0, "months": 12.0,
                                                                          "years": 1.0}}


def _plausible(report, column: str, numbers: list) -> bool:
    """A threshold the column's values could meet: not far outside their range (60 kids at home,
    -5,000 days). Unknown ranges are plausible."""
    stats = ((report.overall.get("numeric") or {}).get(column) or {}) if report is not None else {}
    lo, hi = stats.get("min"), stats.get("max")
    if lo is None or hi is None:
        return True
    span = max(float(hi) - float(lo), 1.0)
    for token in numbers:
        value = scaled_value(report, column, token)
        if value > float(hi) + 2 * span or value < float(lo) - 2 * span:
            return False
    return True


def _plural(unit: str) -> str:
    return unit if unit.endswith("s") else unit + "s"


def _unit_of(report, column: str) -> str:
    meaning = report.meaning(column) if hasattr(report, "meaning") else None
    return meaning.unit if meaning is not None else ""


def report_year(report) -> int:
    """The year ages are counted at: the table's latest date when it has one, else this year."""
    ref = (report.data_summary or {}).get("reference_date") if hasattr(report, "data_summary") else None
    if ref:
        return int(str(ref)[:4])
    from segmenter.meanings import CURRENT_YEAR

    return CURRENT_YEAR


def _negated(tokens: list[Token], first: int) -> bool:
    return any(tokens[k].text in NEGATIONS for k in range(max(0, first - 3), first))


def parse_presence(tokens: list[Token], vocab: Vocabulary, skip: set) -> ParsedFilters:
    """ "no kids", "without a cash advance", "zero balance" (== 0) and "with kids", "have teenagers",
    "took a cash advance" (> 0) for count, money and household columns."""
    conditions, used, starts, ambiguous = [], set(), [], []
    for i, t in enumerate(tokens):
        if t.text in ("every", "always") and i not in skip:  # "pay in full every month": all of the time
            before = [k for k in range(max(0, i - 3), i) if k not in skip and k not in used]
            share = _column_in(vocab, tokens, before, set(skip) | used, True)
            if share is None and t.text == "always":  # "who always pay in full"
                share = _column_in(vocab, tokens, _window(tokens, i + 1, 1, 4, set(skip) | used), set(skip) | used,
                                   True)
            if share is not None and not isinstance(share, Ambiguous) \
                    and vocab.columns[share.column].role in ("share", "frequency"):
                conditions.append(Condition(share.column, "==", 1.0 if _unit_scale(vocab, share.column) else 100.0))
                starts.append(min(share.positions))
                used |= {i} | set(share.positions) | {k for k in range(i + 1, min(len(tokens), i + 3))
                                                     if tokens[k].text in UNIT_WORDS}
            continue
        bought = t.text in BUY_TRIGGERS  # "customers who bought wine": spent something on it
        if i in skip or i in used or not (t.text in NEGATIONS | POSSESSION or bought):
            continue
        k = i + 1  # only small words between: "with no kids", "have a zero balance", "took a cash advance"
        zero = t.text in NEGATIONS or _negated(tokens, i)
        while k < len(tokens) and tokens[k].text in _BETWEEN and k not in skip:
            zero |= tokens[k].text in NEGATIONS
            k += 1
        window = _window(tokens, k, 1, 4, set(skip) | used)
        match = _column_in(vocab, tokens, window, set(skip) | used, True)
        if isinstance(match, Ambiguous):
            if all(vocab.columns[c].role in PRESENCE_ROLES for c in match):
                ambiguous.append(list(match))
                used |= set(range(i, k)) | set(window)
            continue
        if match is None or vocab.columns[match.column].role not in PRESENCE_ROLES or min(match.positions) != k:
            continue
        if bought and t.text not in vocab.columns[match.column].verbs and t.stem not in vocab.columns[match.column].verbs:
            continue
        conditions.append(Condition(match.column, "==" if zero else ">", 0.0))
        starts.append(i)
        used |= set(range(i, k)) | set(match.positions)
        nxt = max(match.positions) + 1  # "both kids and teenagers", "a kid and a teen": a second column
        if nxt + 1 < len(tokens) and tokens[nxt].text == "and" and nxt + 1 not in skip:
            first = nxt + 1
            while first < len(tokens) and tokens[first].text in _BETWEEN and first not in skip:
                first += 1
            again = _column_in(vocab, tokens, _window(tokens, first, 1, 4, set(skip) | used), set(skip) | used,
                               True)
            if again is not None and not isinstance(again, Ambiguous) \
                    and vocab.columns[again.column].role in PRESENCE_ROLES \
                    and min(again.positions) == first:
                conditions.append(Condition(again.column, "==" if zero else ">", 0.0))
                starts.append(nxt)
                used |= set(range(nxt, first)) | set(again.positions)
    # "cash advance users", "wine buyers": customers with more than none of it
    for i, t in enumerate(tokens):
        if t.text not in USER_NOUNS or i in skip or i in used or i == 0:
            continue
        before = [k for k in range(max(0, i - 4), i) if k not in skip and k not in used]
        match = _column_in(vocab, tokens, before, set(skip) | used, True)
        if match is None or isinstance(match, Ambiguous) or max(match.positions) != i - 1 \
                or vocab.columns[match.column].role not in PRESENCE_ROLES or vocab.columns[match.column].kind == "boolean":
            continue
        conditions.append(Condition(match.column, ">", 0.0))
        starts.append(min(match.positions))
        used |= set(match.positions) | {i}
    return ParsedFilters(tuple(conditions), frozenset(used), (), tuple(starts), tuple(ambiguous))


def _unit_scale(vocab: Vocabulary, column: str) -> bool:
    """True when a share column holds 0-1 (else 0-100)."""
    report = vocab.report
    meaning = report.meaning(column) if hasattr(report, "meaning") else None
    return meaning is None or tuple(meaning.scale) != (0, 100)


#: Small words allowed between "with"/"have"/"no" and the column they are about.
_BETWEEN = frozenset({"a", "an", "any", "some", "no", "zero", "never", "not", "both", "made", "taken"})


def parse_levels(tokens: list[Token], vocab: Vocabulary, skip: set) -> ParsedFilters:
    """Category levels and yes/no values named in the question ("women", "married", "artists or
    entertainers", "not graduated"); two levels of one column become one "in" condition."""
    by_column: dict = {}
    used, starts = set(), {}
    for column, level, positions in vocab.levels_named(tokens, skip):
        if positions & used or vocab.flag_claims(tokens, column, positions):
            continue
        used |= positions
        first = min(positions)
        negated = _negated(tokens, first)
        by_column.setdefault(column, []).append((level, negated))
        starts.setdefault(column, first)
    conditions = []
    for column, levels in by_column.items():
        info = vocab.columns[column]
        if info.kind == "boolean":
            level, negated = levels[0]
            yes = (level == "yes") != negated
            conditions.append(Condition(column, "is_true" if yes else "is_false"))
        elif len(levels) > 1 and not any(n for _, n in levels):
            conditions.append(Condition(column, "in", [lv for lv, _ in levels]))
        else:
            level, negated = levels[0]
            conditions.append(Condition(column, "not_level" if negated else "is_level", level))
    return ParsedFilters(tuple(conditions), frozenset(used), (), tuple(starts[c.column] for c in conditions))


__all__ = ["Condition", "ParsedFilters", "parse_comparisons", "parse_presence", "parse_levels", "combined_mask",
           "scaled_value", "OPS", "NUMERIC_OPS", "FLAG_OPS"]
