"""Words of one report: tokenising questions, typo fixing, synonyms, feature and segment matching.

Everything here is built from the report's ACTUAL column names, levels and segment names
(a telecom table gets ``bill``/``data`` words, a retail one ``spend``/``orders``). A small
general lexicon of synonyms maps everyday words ("revenue", "older", "bargain") onto the
words column names are usually made of. Typos are fixed with :mod:`difflib` plus an
edit-distance cap, and only towards words this report or the question grammar knows, so
an unknown word ("income" when no such column exists) stays unknown and gets refused.
"""
from __future__ import annotations

import difflib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from types import MappingProxyType

from ..format import feature_label
from ..format import tokens as column_tokens

#: Everyday words -> the word-groups they stand for (a group is named by its first word).
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("spend", "spending", "spent", "spender", "revenue", "sales", "expenditure", "money", "monetary", "pay",
     "pays", "paid", "paying"),
    ("income", "salary", "earnings", "earn", "wage", "wages"),
    ("bill", "billing", "charge", "charges", "invoice", "invoices", "pay", "pays", "paid", "paying"),
    ("data", "gb", "gigabytes", "gigabyte"),
    ("age", "old", "older", "oldest", "young", "younger", "youngest", "aged", "elderly", "ages"),
    ("order", "orders", "purchase", "purchases", "buy", "buys", "transaction", "transactions", "ordering"),
    ("frequency", "often", "frequently", "frequent"),
    ("return", "returns", "refund", "refunds", "returned", "returning"),
    ("discount", "discounts", "coupon", "coupons", "promo", "promos", "promotion", "deal", "deals",
     "bargain", "bargains", "voucher", "vouchers"),
    ("online", "web", "internet", "digital", "ecommerce"),
    ("app", "mobile", "apps"),
    ("loyalty", "loyal", "member", "members", "membership"),
    ("household", "family", "families"),
    ("tenure", "seniority"),
    ("gender", "sex"),
    ("region", "area", "location"),
    ("signup", "joined", "registration", "registered", "join"),
    ("avg", "average", "mean"),
    ("value", "basket", "ticket", "aov"),
    ("customer", "customers", "client", "clients"),
    ("opt", "subscribe", "subscriber", "subscribers", "subscribed", "subscription", "optin", "opted"),
)
#: Question words that stand for several column words at once.
MULTI_SYNONYMS = MappingProxyType({
    "recency": ("days", "since", "last"), "recent": ("days", "since", "last"),
    "recently": ("days", "since", "last"), "inactive": ("days", "since", "last"),
    "basket": ("order", "value"), "aov": ("avg", "order", "value"), "ticket": ("order", "value"),
})
#: Everyday words for common category values (used only when the table has that value).
LEVEL_WORDS = MappingProxyType({"women": "female", "woman": "female", "ladies": "female", "lady": "female",
                                "men": "male", "man": "male", "gentlemen": "male"})
#: Phrases glued into one word before matching.
PHRASES: tuple[tuple[str, str], ...] = (
    ("sign up", "signup"), ("signed up", "signup"), ("e mail", "email"),
    (r"spend(s|ing)? per (order|purchase|visit|transaction)", "aov"), ("basket size", "basket"),
    (r"opt(ed)? ins?", "optin"),
    ("order size", "basket"),
    ("standard deviation", "std"), ("how old", "age"),
)
#: Column words that say little on their own ("per year", "total ...").
GENERIC_WORDS = frozenset({"per", "year", "years", "annual", "monthly", "month", "weekly", "total", "number",
                           "num", "count", "avg", "average", "mean", "days", "day", "rate", "the", "of",
                           "amount", "value", "score", "level", "in", "opt", "is", "has", "flag", "size",
                           # "how many customers ...": the noun of every question, not Dt_Customer
                           "customer", "customers", "client", "clients", "cust"})
#: Words in segment names that do not identify one segment.
NAME_GENERIC = frozenset({"buyers", "buyer", "shoppers", "shopper", "customers", "customer", "clients",
                          "users", "people", "group", "segment", "the", "and", "of", "in", "high", "low",
                          "big", "small"})
#: Level words too vague to name a level in a question ("other", "yes").
VAGUE_LEVELS = frozenset({"other", "none", "unknown", "missing", "yes", "no", "all", "any", "true", "false",
                          "na", "nan", "null", "not", "and", "or", "the"})
NUMBER_WORDS = MappingProxyType({"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
                "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
                "nineteen": 19, "twenty": 20})
ORDINALS = MappingProxyType({"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
            "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
            "6th": 6, "7th": 7, "8th": 8, "9th": 9, "10th": 10})
_SUFFIXES = ("ings", "ing", "ers", "er", "ies", "ied", "ed", "es", "ly", "s")
_TOKEN = re.compile(r"-?\d+(?:\.\d+)?[km]?(?![a-z])|[a-z][a-z0-9]*|\d+[a-z][a-z0-9]*|>=|<=|!=|==|[<>=#%]")


def stem(word: str) -> str:
    """A crude, consistent stem: ``spenders`` -> ``spend``, ``members`` -> ``memb``."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix):
            rest = word[: -len(suffix)]
            if len(rest) >= (3 if suffix == "s" else 4):
                if suffix in ("ies", "ied"):
                    rest += "y"
                if len(rest) > 3 and rest[-1] == rest[-2] and rest[-1] not in "lsz":
                    rest = rest[:-1]
                return rest
    return word


def same_word(a: str, b: str) -> bool:
    """Stems equal, or one a prefix (4+ letters) of the other: ``pref``/``prefer``, ``memb``/``membership``."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 4 and long_.startswith(short) and len(short) >= 0.6 * len(long_)


LEVEL_SYNONYMS = MappingProxyType({stem(k): v for k, v in LEVEL_WORDS.items()})
AVERAGE_WORDS = frozenset({"average", "averag", "mean", "avg"})


@dataclass(frozen=True)
class Token:
    """One question token: ``text`` as typed (lower case), ``stem``, ``number`` when numeric."""

    text: str
    stem: str
    number: float | None = None


def normalise(question: str) -> str:
    """Lower case, plain quotes and dashes, ``n't`` -> `` not``, known phrases glued; a dash is a
    space ("e-mail", "30-40") except as the sign of a number ("segment -1")."""
    text = unicodedata.normalize("NFKC", str(question)).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-").replace("\u2014", "-")
    text = re.sub(r"n't\b", " not", text)
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"[$\u20ac\u00a3]", " ", text)
    text = re.sub(r"(?<![\w.])-(?=\d)", "\ue000", text)  # a minus sign ("segment -1", "below -50") stays
    text = re.sub(r"[-_/]", " ", text).replace("\ue000", "-")
    text = " ".join(text.split())
    for phrase, glued in PHRASES:
        text = re.sub(rf"\b{phrase}\b", glued, text)
    return text


def _number(text: str) -> float | None:
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)([km]?)", text)
    if not match:
        return None
    value = float(match.group(1).replace(",", ""))
    return value * {"": 1, "k": 1e3, "m": 1e6}[match.group(2)]


def tokenize(question: str) -> list[Token]:
    """Tokens of a question (numbers parsed; ``2k`` = 2000, ``2,000`` = 2000)."""
    out = []
    for raw in _TOKEN.findall(normalise(question)):
        value = _number(raw)
        out.append(Token(raw, raw if value is not None else stem(raw), value))
    return out


def _edit_distance(a: str, b: str, cap: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count once), stopped early past ``cap``."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > cap:
            return cap + 1
        prev2, prev = prev, cur
    return prev[-1]


def correct(word: str, known: frozenset, known_list: list) -> str:
    """``word`` if known; else the closest known word one typo away (two from 9 letters), or itself.

    The closest word must share the first letter: typos rarely hit it, and it keeps
    unrelated words ("email" vs "male") apart.
    """
    if word in known or len(word) < 4 or not word.isalpha():
        return word
    cap = 2 if len(word) >= 9 else 1
    for candidate in difflib.get_close_matches(word, known_list, n=5, cutoff=0.75):
        if candidate[0] == word[0] and abs(len(candidate) - len(word)) <= cap \
                and _edit_distance(word, candidate, cap) <= cap:
            return candidate
    return word


@dataclass(frozen=True, eq=False)
class FeatureInfo:
    """One column: its name, kind, plain label, weighted word stems and (categorical) levels."""

    name: str
    kind: str
    label: str
    words: tuple  # ((stem, weight), ...)
    levels: dict = field(default_factory=dict)  # level -> tuple of stems

    @property
    def total_weight(self) -> float:
        return sum(w for _, w in self.words) or 1.0


@dataclass(frozen=True)
class FeatureMatch:
    """A feature found in a question: matched weight, coverage, token positions and level."""

    feature: str
    weight: float
    coverage: float
    positions: frozenset
    level: str | None = None
    generic_only: bool = False


def _word_stems(text: str) -> list[str]:
    return [stem(t) for t in column_tokens(text) if not t.isdigit() and len(t) > 1]


def _level_stems(text: str) -> list[str]:
    """Words of a categorical value, split at spaces and punctuation only: a value is written as
    people say it ("PhD" is "phd", not the camel-case parts "ph d" of a column name)."""
    return [stem(t) for t in re.findall(r"[^\W_]+", text.lower()) if not t.isdigit() and len(t) > 1]


class Vocabulary:
    """Lookup of the words of one report. Build once per engine; read-only afterwards."""

    def __init__(self, report) -> None:
        self.groups: dict[str, set] = {}
        for group in SYNONYM_GROUPS:
            for word in group:
                self.groups.setdefault(stem(word), set()).add(group[0])
        self.multi = {stem(k): tuple(stem(w) for w in v) for k, v in MULTI_SYNONYMS.items()}
        self.features: dict[str, FeatureInfo] = {}
        doc_freq: dict[str, int] = {}
        raw_words = {}
        for column in report.features:
            stems = list(dict.fromkeys(_word_stems(column))) or [stem(str(column).lower())]
            raw_words[column] = stems
            for s in stems:
                doc_freq[s] = doc_freq.get(s, 0) + 1
        generic = {stem(w) for w in GENERIC_WORDS}
        for column in report.features:
            kind = report.feature_types.get(column, "numeric")
            words = tuple((s, 0.5 if s in generic else 1 / math.sqrt(doc_freq[s]))
                          for s in raw_words[column] if s not in ("per", "of", "the"))
            if kind == "datetime":  # values are "days since <date>"
                words += tuple((w, 0.5) for w in ("day", "since") if w not in raw_words[column])
            levels = {}
            if kind == "categorical":
                shares = (report.overall.get("categorical") or {}).get(column) or {}
                levels = {str(lv): tuple(_level_stems(str(lv))) for lv in shares
                          if _level_stems(str(lv)) and not set(_level_stems(str(lv))) <= VAGUE_LEVELS}
            label = feature_label(column, kind)
            if str(column).isupper():
                label = label.lower()
            self.features[column] = FeatureInfo(column, kind, label, words or ((stem(column), 1.0),), levels)
        self.generic = generic
        self.column_words = frozenset(w for info in self.features.values() for w, _ in info.words)
        self.level_words = frozenset(w for info in self.features.values() for stems in info.levels.values()
                                     for w in stems)
        self.segment_words = {s.id: tuple(_word_stems(s.name)) for s in report.segments}
        self.name_generic = frozenset(stem(w) for w in NAME_GENERIC)
        self.segment_names = {s.id: s.name for s in report.segments}

    # ----------------------------------------------------------------- words
    def known_words(self) -> set:
        """Every stem this report knows (columns, levels, names, synonyms)."""
        out = set(self.groups) | set(self.multi) | set(LEVEL_SYNONYMS)
        for info in self.features.values():
            out.update(s for s, _ in info.words)
            for stems in info.levels.values():
                out.update(stems)
        for stems in self.segment_words.values():
            out.update(stems)
        return out

    def match_quality(self, question_stem: str, word: str) -> float:
        """1.0 for the same word, 0.8 for a synonym, 0 otherwise."""
        if same_word(question_stem, word):
            return 1.0
        q_groups = self.groups.get(question_stem, set())
        if q_groups and q_groups & self.groups.get(word, {word}):
            return 0.8
        if word in self.multi.get(question_stem, ()):
            return 0.8
        return 0.0

    # -------------------------------------------------------------- features
    def match_features(self, tokens: list[Token], skip: set | frozenset = frozenset(),
                       only: set | None = None, prefer_not: set | frozenset = frozenset()) -> list[FeatureMatch]:
        """Every feature some question words point to, best first (ties avoid ``prefer_not`` tokens)."""
        positions = sorted(only) if only is not None else range(len(tokens))  # only: a few words, not all
        usable = [(i, tokens[i].stem) for i in positions if i not in skip and tokens[i].number is None]
        found = []
        for info in self.features.values():
            used: set = set()
            weight = 0.0
            non_generic = False
            for word, w in info.words:
                best, where = 0.0, None
                for i, s in usable:
                    if i in used and word not in self.multi.get(s, ()):  # "recency" stands for 3 words
                        continue
                    if s in AVERAGE_WORDS:  # "average" asks for a mean; it does not name "avg_order_value"
                        continue
                    q = self.match_quality(s, word)
                    if q > best or (q == best and q > 0 and where in prefer_not and i not in prefer_not):
                        best, where = q, i
                if where is not None and best > 0:
                    used.add(where)
                    weight += best * w
                    non_generic |= word not in self.generic
            level = None
            for lv, stems in info.levels.items():
                pos = self._find_run(usable, stems, used)
                if pos:
                    level = lv
                    used |= pos
                    weight += 0.9
                    non_generic = True
                    break
            if weight > 0:
                coverage = min(1.0, weight / info.total_weight)
                found.append(FeatureMatch(info.name, weight, coverage, frozenset(used), level,
                                          generic_only=not non_generic))
        found.sort(key=lambda m: (-m.weight, -m.coverage, m.feature))
        return found

    @staticmethod
    def _find_run(usable: list, stems: tuple, used: set) -> set:
        """Positions where ``stems`` appear consecutively among ``usable`` tokens."""
        if not stems:
            return set()
        for start in range(len(usable) - len(stems) + 1):
            window = usable[start:start + len(stems)]
            if all((same_word(s, w) or LEVEL_SYNONYMS.get(s) == w) and i not in used
                   for (i, s), w in zip(window, stems, strict=True)):
                return {i for i, _ in window}
        return set()

    def level_matches(self, tokens: list[Token], skip: set) -> list[tuple[str, str, set]]:
        """(feature, level, positions) for every categorical level named in the question."""
        usable = [(i, t.stem) for i, t in enumerate(tokens) if i not in skip and t.number is None]
        out = []
        for info in self.features.values():
            for lv, stems in info.levels.items():
                pos = self._find_run(usable, stems, set())
                if pos:
                    out.append((info.name, lv, pos))
        return out

    # -------------------------------------------------------------- segments
    def segment_runs(self, tokens: list[Token], skip: set) -> dict[int, tuple[float, int, int, set]]:
        """Best run of consecutive question words inside each segment's name.

        Returns ``{segment_id: (score, distinctive_words, matched_words, positions, in_order)}``;
        ``score`` is the matched share of the name's distinctive words, ``in_order`` the number of
        neighbouring words that follow each other as in the name.
        """
        out = {}
        for seg_id, words in self.segment_words.items():
            distinct = [w for w in words if w not in self.name_generic]
            best = None
            i = 0
            while i < len(tokens):
                run, taken, order, j = set(), set(), [], i
                while j < len(tokens) and j not in skip and tokens[j].number is None:
                    hits = [k for k, w in enumerate(words) if k not in taken
                            and self.name_word_quality(tokens[j].stem, w) > 0]
                    if not hits:
                        break
                    hit = next((k for k in hits if order and k == order[-1] + 1), hits[0])
                    taken.add(hit)
                    order.append(hit)
                    run.add(j)
                    j += 1
                if run:
                    n_distinct = sum(1 for k in taken if words[k] not in self.name_generic)
                    score = n_distinct / max(len(distinct), 1)
                    ordered = sum(1 for a, b in zip(order, order[1:], strict=False) if b == a + 1)
                    key = (n_distinct, ordered, len(run), score)
                    if n_distinct and (best is None or key > best[0]):
                        best = (key, (score, n_distinct, len(run), run, ordered))
                i = j + 1 if j > i else i + 1
            if best:
                out[seg_id] = best[1]
        return out

    def name_word_quality(self, question_stem: str, word: str) -> float:
        """Like :meth:`match_quality`, but a word that IS a column word ("age") never refers to a
        segment through a synonym ("Young ...")."""
        if question_stem in ("the", "and", "of", "a"):
            return 0.0
        quality = self.match_quality(question_stem, word)
        if 0 < quality < 1 and question_stem in self.column_words:
            return 0.0
        return quality

    def label(self, feature: str) -> str:
        return self.features[feature].label


__all__ = ["Vocabulary", "Token", "FeatureInfo", "FeatureMatch", "tokenize", "normalise", "stem",
           "same_word", "correct", "NUMBER_WORDS", "ORDINALS", "SYNONYM_GROUPS"]
