"""What a question mentions: segments, columns, levels, conditions, statistics and stray words.

:func:`read_facts` walks the tokens once per kind of mention, most specific first, and marks
the positions each mention uses: explicit segment numbers ("segment 2", "#2", "the second
segment"), an existing label's levels ("sales segment A"), the Unassigned group, segment
names (current or earlier, typos fixed), conditions (numbers, "no kids", "women"), columns,
statistics and ranking words. What no mention explains and is not grammar is ``unknown``:
a question about something the table does not hold.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .filters import Condition, parse_comparisons, parse_levels, parse_presence
from .tokens import ORDINALS, Token, int_of
from .vocabulary import WEAK_WORDS, ColumnMatch, Vocabulary, general_first
from .words import (CAUSAL, DESCRIBE, FILLERS, LABEL_LEADS, OPERATION_WORDS, OTHER_WORDS, PEOPLE, PRONOUNS, RANK_HIGH,
                    RANK_LOW, ROLE_DIRECTIONS, SEGMENT_WORDS, STATISTICS, UNASSIGNED_WORDS)


#: The most columns one question is read for ("age, income and spending score" is three).
MAX_COLUMNS = 8


@dataclass(eq=False)
class Facts:
    """What one question mentions (filled by :func:`read_facts`)."""

    tokens: list
    texts: list = field(default_factory=list)
    used: set = field(default_factory=set)
    name_positions: set = field(default_factory=set)  # tokens that name a segment ("Younger Affluent ...")
    segments: list = field(default_factory=list)  # segment ids in question order (-1 = Unassigned)
    bad_segments: list = field(default_factory=list)  # numbers that are no segment
    ambiguous: list = field(default_factory=list)  # [[ids]] a name that fits several segments
    by_name: list = field(default_factory=list)  # ids referred to by name (not number)
    noise: bool = False  # asked about the Unassigned group
    pronoun: bool = False  # they / their / it / those ...
    other: bool = False  # "the other one / segment"
    conditions: list = field(default_factory=list)
    condition_starts: list = field(default_factory=list)
    unresolved: list = field(default_factory=list)  # comparison phrases without a column
    join: str = "and"
    columns: list = field(default_factory=list)  # ColumnMatch, best first (non-overlapping)
    column_tie: list = field(default_factory=list)  # columns the first mention fits as well
    stat: str | None = None  # mean, median, min, max, total, share, distribution, quartiles, range, std
    direction: str | None = None  # highest / lowest
    role_word: tuple | None = None  # ("age", "highest") from "oldest"
    limit: int | None = None
    unknown: list = field(default_factory=list)
    causal: bool = False
    positions: dict = field(default_factory=dict)  # segment id -> where the question names it
    ambiguous_columns: list = field(default_factory=list)  # [[columns]] a condition's words fit equally

    @property
    def words(self) -> set:
        return set(self.texts)

    def add_segment(self, seg_id: int, where: int, by_name: bool = False) -> None:
        if seg_id not in self.segments:
            self.segments.append(seg_id)
            if by_name:
                self.by_name.append(seg_id)
        self.positions[seg_id] = min(self.positions.get(seg_id, where), where)


def _listed_number(toks: list, k: int) -> bool:
    """A segment number in a list ("segment 1 and 2"); a number word before a column word is a
    count ("segment 1 with zero purchases")."""
    if int_of(toks[k]) is None:
        return False
    return toks[k].number is not None or k + 1 >= len(toks) or toks[k + 1].text in ("and", "or", "?", ",", "vs")


def explicit_segments(f: Facts, segment_ids: set, profile_levels: dict) -> list:
    """Segment numbers and the levels of an existing label column said as "segment A"."""
    toks, n, named_levels, done = f.tokens, len(f.tokens), [], 0
    for i, t in enumerate(toks):
        if i < done:  # inside a list already read ("segment 1 and segment 2"): each token is read once
            continue
        if t.text in SEGMENT_WORDS or t.text == "#":
            j = i + 1
            if t.text != "#" and j < n and toks[j].text in ("number", "no", "#", "nr", "num"):
                j += 1
            got = []
            while j < n and int_of(toks[j]) is not None:
                got.append(j)
                if j + 2 < n and toks[j + 1].text in ("and", "or", "vs", "versus", "to", "with") \
                        and (_listed_number(toks, j + 2) or (j + 3 < n and toks[j + 2].text in SEGMENT_WORDS
                                                             and int_of(toks[j + 3]) is not None)):
                    j += 2 if _listed_number(toks, j + 2) else 3
                else:
                    j += 1
            done = j
            for k in got:
                _add_id(f, int_of(toks[k]), segment_ids, k)
            if got:
                f.used.update(got + list(range(i, got[0])))
            elif j < n and toks[j].text in profile_levels:  # "segment A" where A is a level of an existing label
                named_levels.append((profile_levels[toks[j].text], j))
                f.used.update((i, j))
                if i > 0 and toks[i - 1].text in LABEL_LEADS:  # "sales segment D"
                    f.used.add(i - 1)
        elif t.text in ORDINALS and i + 1 < n and toks[i + 1].text in SEGMENT_WORDS:
            _add_id(f, ORDINALS[t.text], segment_ids, i)
            f.used.update((i, i + 1))
        elif t.text in UNASSIGNED_WORDS or _not_placed(toks, i):
            f.used.add(i)
            f.noise = True
            if -1 in segment_ids:
                f.add_segment(-1, i)
        elif t.text in LABEL_LEADS and i + 1 < n and toks[i + 1].text in profile_levels \
                and len(toks[i + 1].text) <= 3:  # "did the sales team label D", "labelled A"
            named_levels.append((profile_levels[toks[i + 1].text], i + 1))
            f.used.update((i, i + 1))
    return named_levels


#: Verbs of being put in a segment: "didn't fit into any segment", "couldn't be assigned to one".
PLACED = frozenset({"fit", "fits", "fitted", "assigned", "assign", "belong", "belongs", "placed", "grouped",
                    "clustered", "allocated", "classified", "matched", "put"})


def _not_placed(toks: list, i: int) -> bool:
    """Token ``i`` is a placing verb with a negation before it and a segment word after it."""
    if toks[i].text not in PLACED:
        return False
    negated = any(toks[k].text in ("not", "no", "never", "nt", "cannot") for k in range(max(0, i - 3), i))
    segment_after = any(toks[k].text in SEGMENT_WORDS or toks[k].text == "notinany"
                        for k in range(i + 1, min(len(toks), i + 5)))
    return negated and segment_after


def _add_id(f: Facts, seg_id: int, segment_ids: set, where: int) -> None:
    """A segment by number; -1 is the Unassigned group's number in every export, as its words are."""
    if seg_id == -1:
        f.noise = True
        if -1 in segment_ids:
            f.add_segment(-1, where)
    elif seg_id in segment_ids:
        f.add_segment(seg_id, where)
    else:
        f.bad_segments.append(seg_id)


def named_segments(f: Facts, vocab: Vocabulary) -> None:
    """Segments named by name; a name that fits several segments equally is ambiguous."""
    taken: set = set()
    describing = any(t.text in DESCRIBE for t in f.tokens)
    matches = vocab.match_names(f.tokens, f.used, shared=describing)
    ranks = {i for i, t in enumerate(f.tokens) if t.text in RANK_HIGH or t.text in RANK_LOW}
    level_words = {i for _, _, where in vocab.levels_named(f.tokens, f.used) for i in where}
    numbered = bool(f.segments)
    for m in matches:
        if m.positions & taken:
            continue
        # a superlative right before the words ranks by them ("the most recent customers"); "lower"
        # inside "the lower-income big spenders" or "younger than" elsewhere ranks nothing
        start = min(m.positions)
        ranking = bool(ranks & {start - 1, start - 2} - m.positions)
        # a part of a name made of column words is the column when the question ranks ("the most
        # recent customers"), already names its segment ("app users in segment 5") or says a whole
        # column label ("app users")
        after = max(m.positions) + 1
        phrase = m.positions | ({after} if after < len(f.tokens) and f.tokens[after].text in PEOPLE else set())
        # ... or says a level ("high spenders" of a Low/Average/High spending score)
        # ... unless the question asks for a profile ("tell me about the big spenders"): segments have one
        if m.weak and (ranking or numbered or (not describing and (
                vocab.is_column_phrase(f.tokens, phrase) or m.positions & level_words))
                or _column_goes_on(f, vocab, m.positions)):
            continue
        rivals = [o for o in matches
                  if o.segment != m.segment and o.positions == m.positions and o.complete == m.complete
                  and o.distinctive == m.distinctive and o.alias == m.alias]
        if rivals:
            f.ambiguous.append(sorted({m.segment} | {o.segment for o in rivals}))
        else:
            f.add_segment(m.segment, min(m.positions), by_name=True)
        taken |= m.positions
    f.used |= taken
    f.name_positions |= taken


def _column_goes_on(f: Facts, vocab: Vocabulary, positions) -> bool:
    """A column's label starts inside these name words and goes on after them ("of kids at home"
    beside "Parents of Young Kids"): the column is meant."""
    last = max(positions)
    return any(last in c.positions and last < min(c.positions - positions, default=last) <= last + 2
               and not c.generic_only for c in vocab.match_columns(f.tokens, f.used))


def _choose_columns(f: Facts, vocab: Vocabulary) -> None:
    """The columns the free words name, best first; a tie on the first is kept for a clarification.
    At most :data:`MAX_COLUMNS` are read: no question is about more, and each costs a pass."""
    for _ in range(MAX_COLUMNS):
        matches = [m for m in vocab.match_columns(f.tokens, f.used) if not m.generic_only]
        if not matches:
            break
        best, tie = general_first(matches, vocab, counted=bool({"number", "howmany", "count"} & set(f.texts)),
                                  often=bool(WEAK_WORDS & set(f.texts)))
        if not f.columns:
            f.column_tie = tie
        f.columns.append(best)
        f.used |= set(best.positions)
    # a table-wide total is what spend words mean when nothing more specific is named: "spends most
    # online" is about the online column, "spend on wine" about wine
    if len(f.columns) > 1 and vocab.columns[f.columns[0].column].role == "total":
        f.columns = f.columns[1:] + f.columns[:1]
        f.column_tie = []


def _statistics(f: Facts) -> None:
    for i, t in enumerate(f.tokens):
        if t.text in ROLE_DIRECTIONS and f.role_word is None:
            f.role_word = ROLE_DIRECTIONS[t.text]
        if t.text in STATISTICS and f.stat is None:
            f.stat = STATISTICS[t.text]
        if t.text in RANK_HIGH and f.direction is None:
            f.direction = "highest"
        elif t.text in RANK_LOW and f.direction is None:
            f.direction = "lowest"
        if t.text in ("top", "bottom") and i + 1 < len(f.tokens) and int_of(f.tokens[i + 1]) is not None:
            f.limit = int_of(f.tokens[i + 1])
            f.used.add(i + 1)
        if t.text in CAUSAL:
            f.causal = True


def _unknown(f: Facts, vocab: Vocabulary) -> None:
    known = FILLERS | OPERATION_WORDS | PEOPLE
    for i, t in enumerate(f.tokens):
        if i in f.used or t.number is not None or t.text in known or t.stem in known or len(t.text) < 3:
            continue
        f.unknown.append(t.text)


def read_facts(tokens: list[Token], vocab: Vocabulary, report) -> Facts:
    """Every mention in ``tokens``, in the order that keeps them apart (see the module docstring)."""
    f = Facts(tokens, [t.text for t in tokens])
    segment_ids = {s.id for s in report.segments}
    profile_levels = {}
    for column in report.profile_columns or []:
        for level in ((report.overall.get("profile") or {}).get(column) or {}):
            if len(str(level)) <= 12:
                profile_levels[str(level).lower()] = (column, str(level))
    for (column, level), where in explicit_segments(f, segment_ids, profile_levels):
        f.conditions.append(Condition(column, "is_level", level))
        f.condition_starts.append(where)
    named_segments(f, vocab)
    for i, t in enumerate(tokens):
        if t.text in PRONOUNS and i not in f.used:
            f.pronoun = True
        if t.text == "there" and i == len(tokens) - 1 and i > 0 and tokens[i - 1].text not in ("are", "is", "were"):
            f.pronoun = True  # "the most common profession there?" (not "how many are there")
        if t.text in OTHER_WORDS:
            f.other = True
    texts = set(f.texts)
    about_customers = bool(texts & (PEOPLE | {"howmany", "count", "%", "percent", "percentage", "share",
                                              "proportion", "who", "with", "without"})) or "number" in texts
    parsers = (parse_comparisons, parse_presence) if about_customers else (parse_comparisons,)
    for parse in parsers:  # "take cash advances" is a condition only when customers are counted
        parsed = parse(tokens, vocab, report, f.used) if parse is parse_comparisons else parse(tokens, vocab, f.used)
        f.conditions.extend(parsed.conditions)
        f.condition_starts.extend(parsed.starts)
        f.unresolved.extend(parsed.unresolved)
        f.ambiguous_columns.extend(parsed.ambiguous)
        f.used |= parsed.used
    levels = parse_levels(tokens, vocab, f.used)
    f.conditions.extend(levels.conditions)
    f.condition_starts.extend(levels.starts)
    f.used |= levels.used
    if len(f.conditions) > 1:
        order = sorted(range(len(f.conditions)), key=lambda k: f.condition_starts[k])
        f.conditions = [f.conditions[k] for k in order]
        f.condition_starts = [f.condition_starts[k] for k in order]
        between = [t.text for t in tokens[f.condition_starts[0]:f.condition_starts[-1]]]
        if "or" in between and "and" not in between:
            f.join = "or"
        elif "or" in between and "and" in between:
            f.join = "mixed"
    f.segments.sort(key=lambda s: f.positions.get(s, 10_000))
    _choose_columns(f, vocab)
    _statistics(f)
    _unknown(f, vocab)
    return f


def level_condition(match: ColumnMatch, vocab: Vocabulary) -> Condition | None:
    """A column mention that named a level or a flag ("women", "married") as a condition."""
    info = vocab.columns[match.column]
    if match.level is None:
        return Condition(match.column, "is_true") if info.kind == "boolean" else None
    if info.kind == "boolean":
        return Condition(match.column, "is_true" if match.level == "yes" else "is_false")
    return Condition(match.column, "is_level", match.level)


__all__ = ["Facts", "read_facts", "level_condition", "explicit_segments", "named_segments"]
