"""Question -> operation + arguments, without an LLM.

The parser tokenises the question (typos fixed towards words this report knows), finds
segment references (``segment 2``, ``#2``, ``cluster two``, full or partial names),
counting conditions, the column asked about and the operation words, then decides the
operation. Follow-ups ("and for segment 3?", "what about their age?") take what is
missing from the previous :class:`Intent`. Words it cannot account for make it refuse:
an unknown column must never be answered with a different one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .filters import Condition, parse_comparisons
from .phrases import PhraseSet
from .vocabulary import (
    NUMBER_WORDS,
    ORDINALS,
    FeatureMatch,
    Token,
    Vocabulary,
    correct,
    same_word,
    stem,
    tokenize,
)
from .words import (
    ACTIONS,
    COMPARE,
    COUNT_WORDS,
    DESCRIBE,
    DIRECTIONAL,
    EVERYONE_WORDS,
    FILLERS,
    HELP,
    OVERVIEW,
    PRONOUNS,
    QUALITY,
    QUALITY_SOFT,
    RANK_HIGH,
    RANK_LOW,
    SEGMENT_WORDS,
    SIZE_WORDS,
    STATISTICS,
    UNASSIGNED_WORDS,
    WHICH,
)

KEYWORDS = frozenset(SEGMENT_WORDS | UNASSIGNED_WORDS | EVERYONE_WORDS | PRONOUNS | set(STATISTICS)
                     | RANK_HIGH | RANK_LOW | set(DIRECTIONAL) | SIZE_WORDS | DESCRIBE | COMPARE | OVERVIEW
                     | QUALITY | QUALITY_SOFT | ACTIONS | HELP | COUNT_WORDS | FILLERS | WHICH
                     | {"rank", "ranking", "sort", "sorted", "ranked", "than", "over", "under", "above",
                        "below", "between", "least", "at", "exactly", "or", "greater", "fewer", "older",
                        "younger", "equal", "plus", "up", "from", "non", "without", "never", "#", "%",
                        "no", "nr", "num", "not", "mean", "means", "meaning", "assigned", "fit", "fits"})
#: Prompt injection, personal details and predictions, as word patterns (see :mod:`.phrases`):
#: matched over the question's tokens in one pass, whatever its length.
INJECTION = PhraseSet([
    "ignore ... instruction|instructions|previous|above|prompt|rules|everything", "disregard",
    "system prompt", "systemprompt", "your|the|initial|hidden prompt|instructions|rules|guidelines", "jailbreak*",
    "developer mode", "pretend", "you are now", "act as", "repeat ... above",
    "forget ... instructions|rules|everything", "prompt", "override", "reveal"])
PERSONAL = frozenset({"email", "emails", "phone", "phones", "telephone", "address", "addresses", "postcode",
                      "zipcode", "zip", "ssn", "passport", "password", "passwords", "birthday", "dob", "iban",
                      "contact", "contacts", "surname", "firstname", "lastname", "identity"})
PERSONAL_PHRASES = PhraseSet([
    "credit card number*", "date of birth", "social security", "home address|addresses|phone|number|town|city",
    "where does|do|did ... live", "name|names of (the) customer|customers|client|clients|people|person",
    "customer|customers|client|clients|their|his|her|full|first|last|people name|names", "who is customer"])
FUTURE = PhraseSet([
    "predict|prediction|predictions|predicted|forecast|forecasts|forecasting|future|tomorrow|projection|"
    "projections|projected|will", "going to", "next year|month|quarter|week|season", "churn probability",
    "likely to"])
ID_LEAD = frozenset({"customer", "client", "id", "cust", "customerid", "customer_id", "#", "no", "number"})


@dataclass(frozen=True, eq=False)
class Intent:
    """What a question asks: an operation name and its arguments (plain JSON values)."""

    operation: str
    args: dict = field(default_factory=dict)


def refusal_reason(question: str) -> str | None:
    """"instructions", "personal" or "future" when the question is out of bounds, else None."""
    return refusal_of_words([t.text for t in tokenize(question)])


def refusal_of_words(words: list[str]) -> str | None:
    """:func:`refusal_reason` of tokens already split (lower case, as :func:`tokenize` gives them)."""
    if INJECTION.find(words):
        return "instructions"
    if not PERSONAL.isdisjoint(words) or PERSONAL_PHRASES.find(words):
        return "personal"
    if FUTURE.find(words):
        return "future"
    return None


def counting_question(texts: list) -> bool:
    """ "how many ...", "count ...", "number of ..." (but not "how many percent")."""
    if {"percent", "percentage", "%", "share", "proportion"} & set(texts):
        return False
    return ("how" in texts and "many" in texts) or "count" in texts or "howmany" in texts or \
        any(a == "number" and b == "of" for a, b in zip(texts, texts[1:], strict=False))


def _int_of(token: Token) -> int | None:
    if token.number is not None and float(token.number).is_integer():
        return int(token.number)
    return NUMBER_WORDS.get(token.text)


@dataclass(eq=False)
class _Facts:
    """What one question mentions (filled step by step while parsing)."""

    tokens: list
    segments: list = field(default_factory=list)
    bad_segments: list = field(default_factory=list)
    ambiguous: list = field(default_factory=list)
    used: set = field(default_factory=set)  # positions explained by segments, columns, filters
    conditions: list = field(default_factory=list)
    unresolved: list = field(default_factory=list)
    feature: FeatureMatch | None = None
    feature_tie: list = field(default_factory=list)
    limit: int | None = None

    positions: dict = field(default_factory=dict)  # segment id -> where the question names it

    def add_segment(self, seg_id: int, where: int = 10_000) -> None:
        if seg_id not in self.segments:
            self.segments.append(seg_id)
        self.positions[seg_id] = min(self.positions.get(seg_id, where), where)

    def in_question_order(self) -> None:
        self.segments.sort(key=lambda s: self.positions.get(s, 10_000))


class Parser:
    """Parses questions about one report. Holds only read-only lookups."""

    def __init__(self, report, vocab: Vocabulary, find_customer: Callable[[str], tuple] | None = None):
        self.report = report
        self.vocab = vocab
        self.find_customer = find_customer
        self.segment_ids = {s.id for s in report.segments}
        stems = vocab.known_words()
        known = stems | KEYWORDS | set(NUMBER_WORDS) | set(ORDINALS)
        self._known = frozenset(known)
        self._known_list = sorted(known)

    # --------------------------------------------------------------- tokens
    def tokens(self, question: str) -> list[Token]:
        out, fixes = [], {}  # a word repeated in the question is corrected once
        for t in tokenize(question):
            if t.number is not None or t.text in self._known or t.stem in self._known:
                out.append(t)
                continue
            if t.text not in fixes:
                fixes[t.text] = correct(t.text, self._known, self._known_list)
            fixed = fixes[t.text]
            out.append(t if fixed == t.text else Token(fixed, stem(fixed)))
        return out

    # ------------------------------------------------------------- segments
    def _explicit_segments(self, f: _Facts) -> None:
        toks, n = f.tokens, len(f.tokens)
        for i, t in enumerate(toks):
            if t.text in SEGMENT_WORDS or t.text == "#":
                j = i + 1
                if t.text != "#" and j < n and toks[j].text in ("number", "no", "#", "nr", "num"):
                    j += 1
                got = []
                while j < n and _int_of(toks[j]) is not None:
                    got.append(j)
                    if j + 2 < n and toks[j + 1].text in ("and", "or", "vs", "versus", "to") \
                            and _int_of(toks[j + 2]) is not None:
                        j += 2
                    else:
                        j += 1
                for k in got:
                    self._add_id(f, _int_of(toks[k]), k)
                if got:
                    f.used.update(got + list(range(i, got[0])))
            elif t.text in ORDINALS and i + 1 < n and toks[i + 1].text in SEGMENT_WORDS:
                self._add_id(f, ORDINALS[t.text], i)
                f.used.update((i, i + 1))
            elif t.text in UNASSIGNED_WORDS:
                f.used.add(i)
                if -1 in self.segment_ids:
                    f.add_segment(-1, i)
                else:
                    f.bad_segments.append(-1)

    def _add_id(self, f: _Facts, seg_id: int, where: int) -> None:
        """A segment by number; -1 is the Unassigned group's number in every export, as its words are."""
        if seg_id in self.segment_ids:
            f.add_segment(seg_id, where)
        else:
            f.bad_segments.append(seg_id)

    def _name_runs(self, f: _Facts) -> dict:
        """Strong name references are taken now; weak one-word ones are returned for later."""
        runs = self.vocab.segment_runs(f.tokens, f.used)
        data_words = self.vocab.column_words | self.vocab.level_words
        wants_feature = self._wants_feature(f)

        def data_only(run: tuple) -> bool:
            """Every distinctive word of the run is a column's or level's word ("cash advance")."""
            distinct = [f.tokens[k].stem for k in run[3] if f.tokens[k].stem not in self.vocab.name_generic]
            return bool(distinct) and all(d in data_words for d in distinct)

        def strong_run(run: tuple) -> bool:
            score, n_distinct, n_matched, positions, _ = run
            if score >= 0.99:
                return True
            if wants_feature and data_only(run):  # "highest cash advance": the column, not the name
                return False
            if n_distinct >= 2:
                return True
            distinct = [f.tokens[k].stem for k in positions if f.tokens[k].stem not in self.vocab.name_generic]
            return n_matched >= 2 and not any(d in data_words for d in distinct)

        strong = {sid: r for sid, r in runs.items() if strong_run(r)}
        taken: set = set()
        rank = lambda r: (r[1], r[4], r[2], r[0])  # noqa: E731 - distinct, in name order, matched, share
        for sid, run in sorted(strong.items(), key=lambda kv: (tuple(-x for x in rank(kv[1])), kv[0])):
            rivals = [o for o, r in strong.items() if o != sid and r[3] & run[3] and rank(r) == rank(run)]
            if run[3] & taken:
                continue
            if rivals and data_only(run):  # column words that several names share name no segment
                continue
            if rivals:
                f.ambiguous.append(sorted([sid] + rivals))
            else:
                f.add_segment(sid, min(run[3]))
            taken |= run[3]
            self._absorb(f, run[3])
        f.used |= taken
        weak: dict = {}
        for sid, run in runs.items():
            if sid not in strong and not (run[3] & taken):
                for pos in run[3]:
                    if f.tokens[pos].stem not in self.vocab.generic | self.vocab.name_generic \
                            and f.tokens[pos].text not in KEYWORDS:  # "drivers" is not "Driven"
                        weak.setdefault(pos, []).append(sid)
        return weak

    def _absorb(self, f: _Facts, positions: set) -> None:
        """The word right after a name ("bargain *hunters*") belongs to the reference."""
        nxt = max(positions) + 1
        if nxt < len(f.tokens) and nxt not in f.used and self._unknown(f.tokens[nxt]):
            f.used.add(nxt)
            positions.add(nxt)

    def _unknown(self, token: Token) -> bool:
        """Not a grammar word, filler, number word or generic column word ("year", "days")."""
        if token.number is not None:
            return True
        return token.text not in KEYWORDS and token.stem not in KEYWORDS and token.text not in NUMBER_WORDS \
            and len(token.text) >= 3 and token.text not in ORDINALS \
            and not (token.stem in self.vocab.generic and token.stem in self.vocab.column_words)

    # -------------------------------------------------------------- feature
    def _promote_noun_phrases(self, f: _Facts, weak: dict) -> None:
        """ "describe the *bargain hunters*": a one-word name match followed by an unknown noun names a
        segment (not in questions about a column: "average *basket margin*" is an unknown column)."""
        if self._wants_feature(f):
            return
        for pos, sids in sorted(weak.items()):
            nxt = pos + 1
            if len(sids) == 1 and pos not in f.used and nxt < len(f.tokens) and nxt not in f.used \
                    and f.tokens[nxt].number is None and self._unknown(f.tokens[nxt]):
                f.add_segment(sids[0], pos)
                f.used |= {pos, nxt}

    def _feature(self, f: _Facts, weak: dict) -> None:
        matches = [m for m in self.vocab.match_features(f.tokens, skip=f.used, prefer_not=set(weak))
                   if not m.generic_only and not self._stat_word_only(f, m)]
        if matches and matches[0].positions & set(weak) and self._prefer_segment(f, matches[0], set(weak)) \
                and not (self._counting(f) and (matches[0].level is not None
                                                or self.vocab.features[matches[0].feature].kind == "boolean")):
            # "describe the bargain hunters": the word names a segment, not the discount column
            matches = [m for m in self.vocab.match_features(f.tokens, skip=f.used | set(weak))
                       if not m.generic_only and not self._stat_word_only(f, m)]
        if matches:
            best = matches[0]
            f.feature = best
            f.feature_tie = [m.feature for m in matches[1:]
                             if (m.weight, m.coverage) == (best.weight, best.coverage) and m.level == best.level]
            f.used |= set(best.positions)
        for pos, sids in sorted(weak.items()):
            if pos in f.used:
                continue
            if len(sids) == 1:
                f.add_segment(sids[0], pos)
                run = {pos}
                self._absorb(f, run)
                f.used |= run
            else:
                if not self._wants_feature(f):  # in "which segment ..." questions the word is about a column
                    f.ambiguous.append(sorted(sids))
                f.used.add(pos)

    @staticmethod
    def _wants_feature(f: _Facts) -> bool:
        """Statistic or ranking words, "how much/often/old": the question is about a column."""
        free = {t.text for i, t in enumerate(f.tokens) if i not in f.used}
        texts = [t.text for t in f.tokens]
        how = any(a == "how" and b in ("much", "often", "old", "long") for a, b in zip(texts, texts[1:], strict=False))
        return how or bool(free & (set(STATISTICS) | RANK_HIGH | RANK_LOW | set(DIRECTIONAL) | WHICH))

    def _prefer_segment(self, f: _Facts, match: FeatureMatch, weak: set) -> bool:
        """Whether a word that fits both a name and a column ("bargain", "spenders") names the segment:
        not in questions about a column, nor when a segment is already named; a column's own word
        ("spend") only when the question asks to describe, size, compare or act on a segment."""
        words = {t.text for t in f.tokens}
        if self._wants_feature(f) or len(f.segments) >= 2 or (f.segments and not words & COMPARE):
            return False
        shared = [k for k in match.positions if k in weak]
        own = {w for w, _ in self.vocab.features[match.feature].words}
        if any(not any(same_word(f.tokens[k].stem, w) for w in own) for k in shared):
            return True  # matched the column only through a synonym ("bargain" ~ discount)
        return bool(words & (DESCRIBE | ACTIONS | SIZE_WORDS | COMPARE))

    @staticmethod
    def _stat_word_only(f: _Facts, m: FeatureMatch) -> bool:
        """ "share" alone (a statistic word) does not name "online share" or "discount share"."""
        return m.coverage < 0.99 and m.level is None and all(f.tokens[k].text in STATISTICS for k in m.positions)

    @staticmethod
    def _counting(f: _Facts) -> bool:
        return counting_question([t.text for t in f.tokens])

    def _partial_unknown_neighbour(self, f: _Facts) -> str | None:
        """A partly matched column next to an unknown word ("*credit* score") is another column."""
        m = f.feature
        if m is None or m.coverage >= 0.99 or m.level is not None:
            return None
        for pos in (min(m.positions) - 1, max(m.positions) + 1):
            if 0 <= pos < len(f.tokens) and pos not in f.used and self._unknown(f.tokens[pos]) \
                    and f.tokens[pos].number is None:
                return f.tokens[pos].text
        return None

    def leftovers(self, f: _Facts) -> list[str]:
        return [t.text for i, t in enumerate(f.tokens) if i not in f.used and self._unknown(t)]

    # ---------------------------------------------------------------- parse
    def parse(self, question: str, context: Intent | None = None) -> Intent:
        reason = refusal_reason(question)
        if reason:
            return Intent("refuse", {"reason": reason})
        if self.find_customer is not None:
            found, missing = self.find_customer(question)
            if found is not None:
                return Intent("customer_segment", {"customer_id": found})
            if missing is not None:
                return Intent("refuse", {"reason": "customer_not_found", "customer_id": missing})
        f = _Facts(self.tokens(question))
        if not f.tokens:
            return Intent("help", {})
        self._explicit_segments(f)
        weak = self._name_runs(f)
        parsed = parse_comparisons(f.tokens, self.vocab, self.report, f.used)
        f.conditions.extend(parsed.conditions)
        f.unresolved.extend(parsed.unresolved)
        f.used |= parsed.used
        self._top_n(f)
        self._promote_noun_phrases(f, weak)
        self._feature(f, weak)
        f.in_question_order()
        intent = self._decide(f, context)
        if intent.operation in ("refuse", "clarify"):
            return intent
        if f.bad_segments:
            return Intent("refuse", {"reason": "no_such_segment", "segments": f.bad_segments})
        if f.ambiguous:
            return Intent("clarify", {"candidates": f.ambiguous[0]})
        if f.unresolved:
            return Intent("refuse", {"reason": "unknown_column", "words": self.leftovers(f)})
        neighbour = self._partial_unknown_neighbour(f)
        unknown = self.leftovers(f)
        if neighbour or unknown:
            return Intent("refuse", {"reason": "unknown_words", "words": ([neighbour] if neighbour else [])
                                     + [w for w in unknown if w != neighbour]})
        if f.feature_tie and "feature" in intent.args and intent.args["feature"] == f.feature.feature:
            return Intent("clarify", {"features": [f.feature.feature] + f.feature_tie})
        return intent

    def _top_n(self, f: _Facts) -> None:
        for i, t in enumerate(f.tokens[:-1]):
            if t.text in ("top", "bottom") and i + 1 not in f.used and _int_of(f.tokens[i + 1]) is not None:
                f.limit = _int_of(f.tokens[i + 1])
                f.used.add(i + 1)

    # ------------------------------------------------------ single references
    def resolve_segment(self, text: object) -> int | None:
        """A segment id from "2", "segment 2" or a (partial) name; None when unclear."""
        value = str(text).strip()
        if value.lstrip("-").isdigit():
            seg_id = int(value)
            return seg_id if seg_id in self.segment_ids else None
        for seg_id, name in self.vocab.segment_names.items():
            if name.lower() == value.lower():
                return seg_id
        f = _Facts(self.tokens(value))
        self._explicit_segments(f)
        weak = self._name_runs(f)
        if not f.segments:
            unique = {sids[0] for sids in weak.values() if len(sids) == 1}
            if len(unique) == 1:
                f.segments.append(unique.pop())
        return f.segments[0] if len(f.segments) == 1 and not f.ambiguous and not f.bad_segments else None

    def resolve_feature(self, text: object) -> str | None:
        """A column from its exact name or plain words ("annual spend"); None when unclear."""
        value = str(text).strip()
        for column in self.report.features:
            if str(column).lower() == value.lower():
                return column
        f = _Facts(self.tokens(value))
        matches = [m for m in self.vocab.match_features(f.tokens) if not m.generic_only and m.coverage >= 0.5]
        if not matches:
            return None
        f.used |= set(matches[0].positions)
        return None if self.leftovers(f) else matches[0].feature

    def resolve_level(self, feature: str, text: object) -> str | None:
        levels = (self.report.overall.get("categorical") or {}).get(feature) or {}
        value = str(text).strip().lower()
        return next((lv for lv in levels if str(lv).lower() == value), None)

    # --------------------------------------------------------------- decide
    def _decide(self, f: _Facts, ctx: Intent | None) -> Intent:
        from .decide import decide

        return decide(self, f, ctx)


__all__ = ["Parser", "Intent", "refusal_reason", "refusal_of_words", "KEYWORDS", "Condition", "PERSONAL",
           "INJECTION", "PERSONAL_PHRASES", "FUTURE"]
