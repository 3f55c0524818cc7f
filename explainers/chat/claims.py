"""Check an LLM's answer, sentence by sentence, against the tool results it was given.

The LLM only phrases results the grounded operations computed; its text is shown when
:func:`check_answer` finds no problem, otherwise the grounded answer is. The rules, applied
to every sentence and to every clause of it (cut at commas, brackets and linking words such
as "and", "but", "while", "against"):

1. **Table text is data.** Segment names, column names and labels, and category levels are
   taken out as references before anything else is read. A sentence that is nothing but
   table text states a cell, not a fact ("All segments are worthless" as a segment name),
   and so does table text used as the statement of a clause without a number ("... are
   <level>"); both fail. A category level is a value: a clause naming one needs its share.
2. **Only the results' own words.** What is left must be words of the grounded results'
   wording (table text excluded), of the question, of the report's columns and their
   synonyms, or plain grammar without judgement or modal verbs. An opinion ("worthless",
   "great"), a cause ("because", "due to"), a vague amount ("dozens") or a ratio ("twice",
   "double") is in none of them and fails. The parser's refusal rules (instructions,
   personal details, predictions such as "will") run on the same words.
3. **A number sits next to what it belongs to.** Every number, in digits or in words ("five",
   "a dozen", "half", "a third", "two thirds", "one in four"), must equal, within the rounding
   it is written with, a recorded number whose subject the clause names: its segment (named
   in the clause, else carried over from the clause before, else from the question) or
   everyone, and its column when it is a column's value. A number the user wrote in the
   question is theirs and passes.
4. **Only segments the results are about.** A segment named must be one the results hold
   numbers about; a segment number that does not exist fails.

Everything is a pass over the answer's words (an answer is at most a few thousand
characters); nothing here calls the LLM or evaluates text.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from .numbers import supported
from .mentions import Facts, explicit_segments, named_segments
from .parser import PERSONAL, refusal_of_words
from .tokens import NUMBER_WORDS, Token, tokenize
from .words import EVERYONE_WORDS, FILLERS, SEGMENT_WORDS

EVERYONE = "everyone"
CUSTOMER = "customer"
#: Words of judgement: never plain grammar (allowed only when the results' own wording uses them).
JUDGEMENT = frozenset({"best", "worst", "good", "bad", "well", "better", "worse", "right", "wrong", "great",
                       "poor", "nice", "important", "valuable", "ideal", "perfect", "really", "actually"})
#: Modal verbs: speculation or advice unless the results use them.
MODALS = frozenset({"will", "would", "shall", "may", "might", "must", "should", "could"})
#: Words of cause: a segmentation shows differences, not why (allowed only in the results' own wording).
CAUSAL = frozenset({"because", "due", "cause", "causes", "caused", "causing", "reason", "reasons", "so", "therefore",
                    "hence", "thus", "thanks", "result", "results", "lead", "leads", "led", "drive", "drives",
                    "driven", "driver", "drivers", "driving", "explain", "explains", "explanation", "why",
                    "makes", "make", "made"})
#: Words an answer needs to phrase recorded numbers, beyond the question grammar.
PHRASING = frozenset("""
has have had account accounts accounting represent represents representing up
contain contains include includes including comprise comprises form forms stand stands standing
compare compared comparison against versus vs while whereas respectively each per whom which who
around about roughly approximately nearly almost close just over under above below exactly
group groups segment segments cluster clusters customer customers people persons members clients
buyers shoppers users everyone everybody overall rest others all whole entire table dataset total
average typical typically median mean value values level levels share shares percent percentage
year years yearly annual annually month months monthly week weeks weekly day days daily
higher lower more less fewer larger smaller bigger highest lowest largest smallest biggest most least
fewest top bottom count counts number numbers size sizes called named name known labelled labeled
found find finds there here these those this that their them they its it is are was were be being been
of in on at to for from by with within into as and or but not no nor than then also too
% # > < = >= <= != ==
""".split())
#: Nouns that say a number counts customers (a size or a count has no column).
COUNT_NOUNS = frozenset({"customer", "customers", "people", "persons", "members", "clients", "buyers",
                         "shoppers", "users", "households", "accounts", "share", "percent", "%"})
COPULAS = frozenset({"is", "are", "was", "were", "be", "been", "being", "seem", "seems", "look", "looks",
                     "feel", "feels", "remain", "remains", "become", "becomes", "stay", "stays"})
CLAUSE_WORDS = frozenset({"and", "but", "while", "whereas", "against", "versus", "vs", "compared"})
TENS = {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
FRACTIONS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5,
             "fifths": 5, "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7, "eighth": 8, "eighths": 8,
             "ninth": 9, "ninths": 9, "tenth": 10, "tenths": 10}
#: Never recorded: ratios between numbers and vague amounts.
RATIOS = frozenset({"twice", "double", "doubled", "doubles", "triple", "tripled", "triples", "treble",
                    "quadruple", "fold", "twofold", "threefold", "fourfold", "times", "dozens", "hundreds",
                    "thousands", "millions", "billions", "handful", "umpteen", "countless", "numerous"})
NUMBER_TEXT = frozenset(NUMBER_WORDS) | frozenset(TENS) | frozenset(SCALES) | frozenset(FRACTIONS) | {"dozen"}
PERCENT_TOLERANCE = 0.01  # a fraction in words ("a third") may sit this far from the recorded share
#: Table text in a clause is replaced by one of these words (segment, column, level).
MARKS = {"segment": "tabletextsegment", "feature": "tabletextcolumn", "level": "tabletextlevel"}
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_MARKUP = re.compile(r"[*`#>|~]+")
_ESCAPE = re.compile(r"\\(.)")
_SEGMENT_INDEX = re.compile(r"segments\[(\d+)\]")
_SEGMENT_WHERE = re.compile(r"segment == (-?\d+)")
_CLAUSE_CUT = re.compile(r"(\s+|(?<!\d),|,(?!\d)|[()])")  # not the comma of "12,345"


def plain(text: str) -> str:
    """Markdown escapes and HTML entities undone (the check reads words, not markup)."""
    return html.unescape(_ESCAPE.sub(r"\1", _MARKUP.sub(" ", str(text))))


@dataclass(frozen=True)
class Subjects:
    """What a recorded number is about: segment ids, :data:`EVERYONE` or :data:`CUSTOMER`; columns."""

    segments: frozenset = frozenset()
    features: frozenset | None = frozenset()  # None: not known (numbers quoted from a suggestion's text)


@dataclass
class Clause:
    """One clause of an answer: its words (table text marked, segment references out) and what it names."""

    words: list  # tokens left after table text and segment references
    numbers: list  # (value, decimals shown, is_percent) written in digits
    spelled: list  # (value, is_share) written in words
    ratios: list
    segments: set = field(default_factory=set)
    features: set = field(default_factory=set)
    marks: list = field(default_factory=list)  # kinds of table text, in order
    bad_segments: list = field(default_factory=list)
    everyone: bool = False
    predicate_text: bool = False  # table text right after "is"/"are"
    n_tokens: int = 0  # every token but table text


class AnswerCheck:
    """The check of LLM answers for one engine: its table text and vocabulary, gathered once."""

    def __init__(self, engine) -> None:
        self.engine = engine
        report = engine.report
        self.index = {i: s.id for i, s in enumerate(report.segments)}
        spans: dict[str, tuple] = {}
        for s in report.segments:
            spans[s.name.lower()] = ("segment", s.id)
        for f in report.features:
            spans.setdefault(str(f).lower(), ("feature", f))
            spans.setdefault(engine.vocab.label(f).lower(), ("feature", f))
        for f, levels in (report.overall.get("categorical") or {}).items():
            for level in levels:
                spans.setdefault(str(level).lower(), ("level", f))
        self.spans = sorted(((t, k) for t, k in spans.items() if t.strip()), key=lambda kv: -len(kv[0]))
        self.column_stems = engine.vocab.data_words
        self.segment_ids = {s.id for s in report.segments}
        self.grammar = frozenset((FILLERS | PHRASING | SEGMENT_WORDS | EVERYONE_WORDS) - JUDGEMENT - MODALS - CAUSAL)

    def mark_table_text(self, text: str) -> tuple[str, list]:
        """Lower-case ``text`` with each verbatim table text replaced by a mark word; what they named."""
        text, found = f" {plain(text).lower()} ", []
        for phrase, target in self.spans:
            start = text.find(phrase)
            while start >= 0:
                end = start + len(phrase)
                if not text[start - 1].isalnum() and not text[end].isalnum():
                    found.append(target)
                    text = f"{text[:start]} {MARKS[target[0]]} {text[end:]}"
                    start += len(MARKS[target[0]]) + 2
                start = text.find(phrase, start + 1)
        return text, found

    def clause(self, text: str) -> Clause:
        marked, found = self.mark_table_text(text)
        raw = tokenize(marked)
        parser = self.engine.parser
        tokens = parser.tokens(marked)  # aligned with ``raw``: one token each, typos fixed
        facts = Facts(tokens, [t.text for t in tokens])
        explicit_segments(facts, self.segment_ids, {})
        named_segments(facts, self.engine.vocab)
        marks = set(MARKS.values())
        kept = [(i, t) for i, t in enumerate(raw) if i not in facts.used and t.text not in marks]
        words = [t for _, t in kept if t.number is None]
        numbers = [(float(t.number), _decimals(t),
                    i + 1 < len(raw) and raw[i + 1].text in ("%", "percent")) for i, t in kept if t.number is not None]
        spelled, ratios = word_numbers([t for _, t in kept])
        c = Clause(words, numbers, spelled, ratios, marks=[k for k, _ in found],
                   bad_segments=list(facts.bad_segments), n_tokens=sum(1 for t in raw if t.text not in marks))
        c.segments = {t for k, t in found if k == "segment"} | set(facts.segments)
        c.features = {t for k, t in found if k != "segment"}
        for m in self.engine.vocab.match_columns(facts.tokens, facts.used):
            if not m.generic_only and (m.coverage >= 0.5 or m.level is not None):
                c.features.add(m.column)
        c.everyone = bool({t.text for t in raw} & (EVERYONE_WORDS - {"average"}))
        c.predicate_text = any(a.text in COPULAS and b.text in (MARKS["feature"], MARKS["level"])
                               for a, b in zip(raw, raw[1:], strict=False))
        return c

    def subjects(self, record: dict) -> Subjects:
        """Segments and columns a record's ``source`` is about."""
        source = str(record.get("source", ""))
        segs: set = set()
        index = _SEGMENT_INDEX.search(source)
        if "of customer" in source or source.startswith(("assignments[", "customer[")):
            segs.add(CUSTOMER)
        elif index and int(index.group(1)) in self.index:
            segs.add(EVERYONE if source.endswith(".overall_mean") else self.index[int(index.group(1))])
        elif source.startswith(("overall.", "n_rows")):
            segs.add(EVERYONE)
        elif source.startswith("customers:"):
            ids = {int(i) for i in _SEGMENT_WHERE.findall(source)}
            segs |= ids or {EVERYONE}
        if source.startswith("actions:"):
            return Subjects(frozenset(segs), None)
        feats = {f for f in self.engine.report.features if f".numeric.{f}." in source
                 or f".categorical.{f}." in source
                 or (source.startswith("customers:") and re.search(rf"(?<!\w){re.escape(str(f))}(?!\w)", source))}
        return Subjects(frozenset(segs), frozenset(feats))


def _decimals(token: Token) -> int:
    text = token.text.rstrip("km")
    places = len(text.split(".")[1]) if "." in text else 0
    return places - (3 if token.text.endswith("k") else 6 if token.text.endswith("m") else 0)


def word_numbers(tokens: list) -> tuple[list, list]:
    """(numbers written in words as (value, is_share), ratio and vague-amount words) in ``tokens``."""
    out, ratios, texts = [], [], [t.text for t in tokens]
    i = 0
    while i < len(texts):
        w = texts[i]
        before = texts[i - 1] if i else ""
        if w in RATIOS:
            ratios.append(w)
        elif w in FRACTIONS:  # "half", "a third", "two thirds"
            out.append((NUMBER_WORDS.get(before, 1) / FRACTIONS[w], True))
        elif w == "one" and i + 2 < len(texts) and texts[i + 1] == "in" and \
                (texts[i + 2] in NUMBER_WORDS or tokens[i + 2].number):  # "one in four"
            out.append((1 / float(NUMBER_WORDS.get(texts[i + 2]) or tokens[i + 2].number), True))
            i += 3
            continue
        elif w == "dozen":
            out.append((12.0 * NUMBER_WORDS.get(before, 1), False))
        elif (w in NUMBER_WORDS and w not in ("zero", "one")) or w in TENS or w in SCALES:
            value = float(NUMBER_WORDS.get(w, TENS.get(w, SCALES.get(w, 0))))
            j = i + 1
            if w in TENS and j < len(texts) and NUMBER_WORDS.get(texts[j], 10) < 10:
                value += NUMBER_WORDS[texts[j]]
                j += 1
            while j < len(texts) and texts[j] in SCALES and w not in SCALES:
                value *= SCALES[texts[j]]
                j += 1
            if j < len(texts) and (texts[j] in FRACTIONS or texts[j] == "dozen"):
                i = j  # "two thirds", "two dozen": the next word carries the number
                continue
            out.append((value, False))
            i = j
            continue
        i += 1
    return out, ratios


def clauses(sentence: str) -> list[str]:
    """A sentence cut at commas, brackets and linking words (which start the next part)."""
    parts, current = [], []
    for piece in _CLAUSE_CUT.split(sentence):
        if piece in (",", "(", ")"):
            parts.append("".join(current))
            current = []
            continue
        if piece.strip().lower() in CLAUSE_WORDS and "".join(current).strip():
            parts.append("".join(current))
            current = []
        current.append(piece)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _about(subj: Subjects, segments: set, features: set, c: Clause, counting: bool) -> bool:
    """Whether a record with subjects ``subj`` is about what a clause names (or carries)."""
    if EVERYONE in subj.segments:
        if not (c.everyone or not segments):
            return False
    elif subj.segments and CUSTOMER not in subj.segments and not subj.segments & segments:
        return False
    if subj.features is None:
        return True
    if subj.features:
        return bool(subj.features & features)
    return not c.features or counting


def check_answer(engine, text: str, results: list, question: str) -> list[str]:
    """Problems of an LLM answer ``text`` against the grounded ``results`` it was given (empty: show it)."""
    check = engine.answer_check()
    records = [n for r in results for n in r.numbers if n.get("kind") != "id"]
    subjects = [check.subjects(r) for r in records]
    about = {s for subj in subjects for s in subj.segments}
    about |= {s for r in results for s in r.focus.get("segments") or []}
    own = set()
    for r in results:
        for t in tokenize(check.mark_table_text(engine.render(r))[0]):
            own |= {t.text, t.stem}
    asked = check.clause(question)
    own |= {w for t in asked.words for w in (t.text, t.stem) if t.text not in JUDGEMENT | MODALS | CAUSAL}
    asked_numbers = {v for v, _, _ in asked.numbers} | {v for v, _ in asked.spelled}
    about |= asked.segments
    carried_segments, carried_features = set(asked.segments), set(asked.features)
    problems: list[str] = []

    def fail(reason: str, part: str) -> None:
        problems.append(f"{reason} in {part.strip()[:60]!r}")

    def placed(value: float, decimals: int, is_percent: bool, share_words: bool, segments, features, c) -> bool:
        counting = bool({t.text for t in c.words} & COUNT_NOUNS)
        for r, subj in zip(records, subjects, strict=True):
            if share_words:
                close = r.get("kind") == "percent" and abs(float(r["value"]) - value) <= PERCENT_TOLERANCE
            else:
                close = supported(value, decimals, is_percent, [r])
            if close and _about(subj, segments, features, c, counting):
                return True
        return False

    for sentence in _SENTENCE.split(str(text)):
        if not sentence.strip():
            continue
        parts = [(part, check.clause(part)) for part in clauses(sentence)]
        carried_segments |= {s for _, c in parts for s in c.segments}  # what the answer has named so far
        carried_features |= {f for _, c in parts for f in c.features}
        has_number = any(c.numbers or c.spelled for _, c in parts)
        if not sum(c.n_tokens for _, c in parts) and not sentence.rstrip().endswith(":"):
            fail("a sentence of table text only", sentence)  # a heading ("Annual spend:") is a label
        if any("level" in c.marks for _, c in parts) and not has_number:
            fail("a category without its share", sentence)
        for part, c in parts:
            texts = [t.text for t in c.words]
            reason = refusal_of_words(texts) or ("personal" if not PERSONAL.isdisjoint(texts) else None)
            if reason:
                fail(f"{reason} words", part)
            unknown = [t.text for t in c.words if t.text not in check.grammar and t.text not in own
                       and t.stem not in own and t.stem not in check.column_stems
                       and t.text not in RATIOS and t.text not in NUMBER_TEXT]
            if unknown:
                fail(f"words the results do not use {unknown[:4]}", part)
            if c.ratios:
                fail(f"a ratio or vague amount {c.ratios[:2]}", part)
            if c.bad_segments or not c.segments <= about:
                fail(f"segments the results are not about {sorted(map(str, c.segments - about)) + c.bad_segments}",
                     part)
            if c.predicate_text and not (c.numbers or c.spelled):
                fail("table text used as a statement", part)
            segments = c.segments or carried_segments  # a clause naming none speaks of what came before
            features = c.features or carried_features
            for value, decimals, is_percent in c.numbers:
                if value not in asked_numbers and not placed(value, decimals, is_percent, False, segments, features, c):
                    fail(f"number {value:g} matches no result about what it names", part)
            for value, is_share in c.spelled:
                if not (value in asked_numbers or placed(value, 0, False, is_share, segments, features, c)):
                    fail(f"number {value:g} in words matches no result", part)
    return problems


__all__ = ["check_answer", "AnswerCheck", "Subjects", "Clause", "word_numbers", "clauses", "plain"]
