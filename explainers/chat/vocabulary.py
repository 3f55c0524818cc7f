"""The words of one report: its columns (from their meanings), category levels and segment names.

Everything here is built from the report: each column's label and the words and verbs its
meaning lists ("spend on wines": wine, wines, spend, bought; "kids at home": kids, children),
each category level and the everyday words for it ("Female": women, ladies), and each
segment's name and earlier names (after a rename). A question's tokens are matched against
these; typos are fixed only towards words this report or the question grammar knows, so a
word the table does not have ("churn" on a mall table) stays unknown and is refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType

from ..format import label as column_label
from .tokens import Token, normalise, same_word, stem
from .words import FILLERS, OPERATION_WORDS, PEOPLE, SEGMENT_WORDS

#: Column words that do not pick out one column on their own.
GENERIC = frozenset(stem(w) for w in (
    "per", "year", "years", "annual", "monthly", "month", "weekly", "total", "number", "count", "average", "mean",
    "days", "day", "rate", "the", "of", "amount", "value", "level", "in", "on", "is", "has", "flag", "size",
    "customer", "customers", "client", "clients", "since", "share", "score", "frequency", "with", "at", "a", "last",
    "home", "products", "product"))
#: Statistic words: they ask for a statistic and name a column only inside its label.
STAT_WORDS = frozenset({"avg", "average", "mean", "median", "typical", "total"})
#: At most this many levels of one column are read from one question ("artists or entertainers").
MAX_LEVELS_PER_COLUMN = 4
#: Words that say "how often" of a frequency column: weak, so "how often do they pay in full" is about
#: paying in full, not about every frequency column.
WEAK_WORDS = frozenset({"howoften", "often", "frequent", "frequently", "regular", "regularly"})
#: Words of a "yes/no" column about marriage or graduation, for its "no" answer.
_NO_FORMS = {"married": ("unmarried", "single", "singles", "never married", "not married"),
             "graduated": ("non graduates", "non graduate", "not graduated", "undergraduates")}
#: Words in segment names that do not identify one segment.
NAME_GENERIC = frozenset(stem(w) for w in (
    "buyers", "buyer", "shoppers", "shopper", "customers", "customer", "clients", "users", "people", "group",
    "segment", "the", "and", "of", "in", "lovers", "members", "workers"))
#: The question's own grammar ("how big", "most"): never a name's word on its own.
GRAMMAR = frozenset(FILLERS | OPERATION_WORDS | {stem(w) for w in FILLERS | OPERATION_WORDS})
PEOPLE_STEMS = frozenset(PEOPLE | {stem(w) for w in PEOPLE})
#: Words people swap in a name ("the high spenders" for "Big Spenders").
NAME_EQUIVALENTS = MappingProxyType({"high": "big", "large": "big", "larg": "big", "heavy": "big"})
#: Everyday words for common category values (used only when the table has that value).
LEVEL_SYNONYMS = MappingProxyType({
    "male": ("men", "man", "males", "guys", "gentlemen", "boys"),
    "female": ("women", "woman", "females", "ladies", "lady", "girls"),
    "m": ("men", "man", "males", "male"), "f": ("women", "woman", "females", "female"),
    "married": ("married", "spouse", "spouses"), "single": ("single", "singles"),
    "divorced": ("divorced", "divorcees"), "widow": ("widow", "widowed", "widows"),
    "together": ("cohabiting", "together"), "master": ("masters", "master", "msc"),
    "phd": ("phd", "phds", "doctorate", "doctorates"), "graduation": ("graduation", "graduates", "graduate"),
    "basic": ("basic",), "2n cycle": ("2n cycle", "second cycle"),
    "entertainment": ("entertainment", "entertainers", "entertainer"),
    "healthcare": ("healthcare", "health care", "healthcare workers"),
    "homemaker": ("homemakers", "homemaker", "housewives", "househusbands"),
    "yes": ("yes",), "no": ("no",),
})
#: Level words too vague to name a level on their own.
VAGUE_LEVELS = frozenset({"other", "none", "unknown", "missing", "yes", "no", "all", "any", "true", "false",
                          "na", "nan", "null", "not", "and", "or", "the", "0", "1", "a", "average", "high", "low"})


def _stems(text: str) -> tuple[str, ...]:
    """Stems of a text, glued and normalised exactly as questions are ("Pay-in-Full" -> payinfull)."""
    return tuple(stem(t) for t in re.findall(r"[^\W_]+", normalise(str(text))))


@dataclass(frozen=True, eq=False)
class ColumnWords:
    """One column as questions may name it.

    ``core`` holds the stems of its label (each weighs 1; generic ones 0.4), ``synonyms`` the
    stems of the words its meaning lists (0.8), ``verbs`` the verbs that ask about it (0.6).
    ``levels`` maps each category level (or "yes"/"no" of a flag) to the word sequences that
    name it.
    """

    name: str
    kind: str  # numeric, boolean, categorical, datetime, profile
    role: str
    label: str
    core: tuple
    synonyms: frozenset
    verbs: frozenset
    levels: dict = field(default_factory=dict)

    @property
    def core_weight(self) -> float:
        return sum(0.4 if s in GENERIC else 1.0 for s in self.core) or 1.0


@dataclass(frozen=True)
class ColumnMatch:
    """A column a question names: how well, where, and the level it names (if any)."""

    column: str
    score: float
    coverage: float  # share of the column's own (core) words the question used
    positions: frozenset
    level: str | None = None
    via_verb: bool = False
    generic_only: bool = False


@dataclass(frozen=True)
class NameMatch:
    """A segment named by (part of) its name: positions used and how complete the match is."""

    segment: int
    positions: frozenset
    complete: bool  # every distinctive word of the name was said
    distinctive: int  # distinctive name words matched
    alias: bool  # an earlier name
    weak: bool = False  # a part of a name made only of column words ("recent customers"): a column may be meant


def general_first(matches: list, vocab: "Vocabulary", counted: bool = False, often: bool = False) -> tuple:
    """(the column meant, the columns that fit the words as well). When words fit several columns
    equally, the most general one is meant if it is the only one with the fewest words ("purchase
    frequency" over "one-off purchase frequency" for "how often do they buy"); a table-wide total
    ("total spend") beats its parts; otherwise the others are a tie to ask about."""
    best = matches[0]
    same = [m for m in matches if (m.score, m.coverage) == (best.score, best.coverage) and m.level == best.level
            and m.positions == best.positions]
    if len(same) == 1:
        return best, []
    if counted:  # "number of orders", "how many purchases": the count column
        counts = [m for m in same if vocab.columns[m.column].role in ("count", "frequency")]
        if len(counts) == 1:
            return counts[0], []
    total = [m for m in same if vocab.columns[m.column].role == "total"]
    if total:
        return total[0], []
    if often:  # "how often": a true frequency column before counts that also say how often
        freq = [m for m in same if vocab.columns[m.column].role == "frequency"]
        if len(freq) == 1:
            return freq[0], []
        if freq:
            same = freq
            best = freq[0]
    fewest = min(len(vocab.columns[m.column].core) for m in same)
    general = [m for m in same if len(vocab.columns[m.column].core) == fewest]
    if len(general) == 1 and (best.via_verb or best.coverage < 1.0):
        return general[0], []
    return best, [m.column for m in same if m is not best]


class Vocabulary:
    """Lookup of the words of one report. Build once per engine; read-only afterwards."""

    def __init__(self, report) -> None:
        self.report = report
        self.columns: dict[str, ColumnWords] = {}
        for column in list(report.features) + list(report.profile_columns or []) + list(
                getattr(report, "derived_columns", None) or []):
            self.columns[column] = self._column(report, column)
        self._share_children()
        self.data_words = frozenset(w for info in self.columns.values()
                                    for w in (*info.core, *info.synonyms, *info.verbs,
                                              *(x for forms in info.levels.values() for f in forms for x in f)))
        self.renamed = frozenset(s.id for s in report.segments if getattr(s, "aliases", None))
        self.names: dict[int, list[tuple[tuple[str, ...], bool]]] = {}
        for s in report.segments:
            entries = [(_stems(s.name), False)] + [(_stems(a), True) for a in getattr(s, "aliases", [])]
            self.names[s.id] = [e for e in entries if e[0]]

    # ------------------------------------------------------------- building
    @staticmethod
    def _column(report, column: str) -> ColumnWords:
        kind = report.feature_types.get(column) or (
            "numeric" if column in (getattr(report, "derived_columns", None) or []) else "profile")
        meaning = report.meaning(column) if hasattr(report, "meaning") else None
        label = column_label(report, column) if kind != "profile" else (meaning.label if meaning else column)
        core = tuple(dict.fromkeys(s for s in _stems(label) if s not in ("of", "the", "on", "in", "at", "to", "a",
                                                                          "an", "for", "with")))
        raw = tuple(s for s in _stems(" ".join(re.findall(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])", column)))
                    if s not in GENERIC)
        synonyms = {s for w in (meaning.words if meaning else ()) if len(_stems(w)) == 1 for s in _stems(w)}
        synonyms |= set(raw)
        if meaning is not None and meaning.role in ("age", "birth_year"):
            synonyms |= {"howold", "old", "young", "aged"}
        verbs = {stem(v) for v in (meaning.verbs if meaning else ())}
        levels: dict = {}
        if kind in ("categorical", "profile"):
            shares = (report.overall.get("categorical" if kind == "categorical" else "profile") or {}).get(column) or {}
            for level in shares:
                forms = [_stems(level)] + [_stems(w) for w in LEVEL_SYNONYMS.get(str(level).lower(), ())]
                vague = [f for f in forms if len(f) == 1 and (f[0] in VAGUE_LEVELS or len(f[0]) == 1)]
                forms = [f for f in forms if f and f not in vague]
                # "high" alone is no level, "a high spending score" / "high spenders" is
                forms += [v + tuple(core[:n]) for v in vague for n in (len(core), 1) if core and v[0] not in
                          ("yes", "no", "0", "1", "average")]
                forms += [tuple(core[:1]) + v for v in vague if core and len(v[0]) == 1]  # "segmentation A"
                forms = list(dict.fromkeys(forms))
                if forms:
                    levels[str(level)] = tuple(forms)
        elif kind == "boolean" and meaning is not None:
            yes, no = [core], []
            if len(core) >= 3:  # "accepted campaign 3" is also "campaign 3"
                yes.append(core[1:])
            for direction, bucket in (("higher", yes), ("lower", no)):
                word = (meaning.names.get(direction) or ("",))[0]
                if word:
                    bucket.append(_stems(word.replace("-", " ")))
            for key, forms in _NO_FORMS.items():
                if stem(key) in core:
                    yes.append((stem(key),))
                    no.extend(_stems(w) for w in forms)
            levels["yes"] = tuple(dict.fromkeys(f for f in yes if f))
            if no:
                levels["no"] = tuple(dict.fromkeys(f for f in no if f))
        return ColumnWords(column, kind, meaning.role if meaning else "measure", label, core,
                           frozenset(synonyms - set(core)), frozenset(verbs), levels)

    def _share_children(self) -> None:
        """With kids and teenagers in separate columns, "children" could mean either: it names both,
        so a question about "children" gets a clarifying question instead of a guess."""
        household = [c for c, info in self.columns.items() if info.role == "household" and info.kind == "numeric"]
        kids = [c for c in household if any(w.startswith(("kid", "teen", "child")) for w in self.columns[c].core)]
        if len(kids) >= 2:
            for c in kids:
                info = self.columns[c]
                self.columns[c] = ColumnWords(info.name, info.kind, info.role, info.label, info.core,
                                              frozenset(info.synonyms | {"children", "child", "childr"}),
                                              info.verbs, info.levels)

    def known_words(self) -> set:
        """Every word this report knows (columns, levels, names), as typed and as stems."""
        out: set = set()
        for info in self.columns.values():
            out |= set(info.core) | set(info.synonyms) | set(info.verbs)
            for forms in info.levels.values():
                out |= {w for f in forms for w in f}
            meaning = self.report.meaning(info.name) if hasattr(self.report, "meaning") else None
            if meaning is not None:
                out |= {w for text in (*meaning.words, meaning.label) for w in re.findall(r"[^\W_]+", text.lower())}
        for entries in self.names.values():
            out |= {w for stems, _ in entries for w in stems}
        for s in self.report.segments:
            out |= set(re.findall(r"[^\W_]+", s.name.lower()))
            for alias in getattr(s, "aliases", []):
                out |= set(re.findall(r"[^\W_]+", alias.lower()))
        return out

    def label(self, column: str) -> str:
        return self.columns[column].label

    # -------------------------------------------------------------- columns
    @staticmethod
    def _usable(tokens: list[Token], skip: set, only: set | None) -> list:
        """(position, stem, text) of the tokens a match may use, in order; one pass."""
        positions = sorted(only) if only is not None else range(len(tokens))
        out = []
        for i in positions:
            if i in skip or not 0 <= i < len(tokens):
                continue
            t = tokens[i]
            if t.number is None or (t.text.isdigit() and len(t.text) <= 2):
                out.append((i, t.stem, t.text))
        return out

    @staticmethod
    def _groups(usable: list) -> dict:
        """stem -> positions (in order), so each column looks at each distinct word once."""
        groups: dict = {}
        for i, s, text in usable:
            groups.setdefault((s, text), []).append(i)
        return groups

    def match_columns(self, tokens: list[Token], skip: set, only: set | None = None) -> list[ColumnMatch]:
        """Every column the usable tokens point to, best first. Linear in the question's length:
        the tokens are grouped by word once, and each column checks each distinct word."""
        usable = self._usable(tokens, skip, only)
        groups = self._groups(usable)
        order = {i: k for k, (i, _, _) in enumerate(usable)}
        found = []
        for info in self.columns.values():
            used: set = set()
            score, core_hit, generic_only, via_verb = 0.0, 0.0, True, False
            for n, word in enumerate(info.core):
                hits = [min(p for p in ps if p not in used) for (s, text), ps in groups.items()
                        if any(p not in used for p in ps) and (same_word(s, word) or text == word)
                        and not (text in STAT_WORDS and not self._phrase_follows(tokens, ps, info.core, n))]
                if hits:
                    hit = min(hits)
                    used.add(hit)
                    weight = 0.4 if word in GENERIC else 1.0
                    score += weight
                    core_hit += weight
                    generic_only &= word in GENERIC
            for (s, text), ps in groups.items():
                free = [p for p in ps if p not in used]
                if not free or text.isdigit() or text in STAT_WORDS:
                    continue
                if s in info.synonyms or text in info.synonyms:
                    used.update(free)
                    score += 0.3 if text in WEAK_WORDS else 0.8
                    generic_only &= s in GENERIC
                elif (s in info.verbs or text in info.verbs) and text not in PEOPLE:  # "shoppers" is no "shop"
                    used.update(free)
                    score += 0.6
                    via_verb = True
                    generic_only = False
            level, level_positions = self._level(usable, info, used, groups, order)
            if level is not None:
                used |= level_positions
                score += 0.9 * len(level_positions)
                generic_only = False
            if score > 0:
                found.append(ColumnMatch(info.name, score, min(1.0, core_hit / info.core_weight), frozenset(used),
                                         level, via_verb and core_hit == 0, generic_only))
        found.sort(key=lambda m: (-m.score, -m.coverage, len(self.columns[m.column].core), m.column))
        return found

    @staticmethod
    def _phrase_follows(tokens: list[Token], positions: list, core: tuple, n: int) -> bool:
        """A statistic word ("average") names a column only inside its label ("average order value")."""
        return n + 1 < len(core) and any(p + 1 < len(tokens) and same_word(tokens[p + 1].stem, core[n + 1])
                                         for p in positions)

    @staticmethod
    def _level(usable: list, info: ColumnWords, used: set, groups: dict | None = None,
               order: dict | None = None) -> tuple[str | None, set]:
        """The level of ``info`` named by consecutive usable tokens (longest form first)."""
        groups = groups if groups is not None else Vocabulary._groups(usable)
        order = order if order is not None else {i: k for k, (i, _, _) in enumerate(usable)}
        best: tuple[str | None, set] = (None, set())
        for level, forms in info.levels.items():
            for form in forms:
                if len(form) <= len(best[1]):
                    continue
                starts = [p for (s, text), ps in groups.items() if same_word(s, form[0]) or text == form[0]
                          for p in ps if p not in used]
                for start in sorted(starts):
                    k = order[start]
                    window = usable[k:k + len(form)]
                    if len(window) == len(form) and all(
                            i not in used and (same_word(s, w) or t == w) for (i, s, t), w in zip(window, form)) \
                            and window[-1][0] - window[0][0] == len(form) - 1:
                        best = (level, {i for i, _, _ in window})
                        break
        return best

    def levels_named(self, tokens: list[Token], skip: set) -> list[tuple[str, str, set]]:
        """(column, level, positions) for every category level or flag value named in the question."""
        usable = self._usable(tokens, skip, None)
        groups = self._groups(usable)
        order = {i: k for k, (i, _, _) in enumerate(usable)}
        out = []
        for info in self.columns.values():
            if not info.levels:
                continue
            taken: set = set()
            for _ in range(MAX_LEVELS_PER_COLUMN):
                level, positions = self._level(usable, info, taken, groups, order)
                if level is None:
                    break
                out.append((info.name, level, positions))
                taken |= positions
        return out

    # ------------------------------------------------------------- segments
    def match_names(self, tokens: list[Token], skip: set, shared: bool = False) -> list[NameMatch]:
        """Segments named by their (current or earlier) name.

        A name counts as said when all its distinctive words are said in order; a part of it when
        two or more of its words are said in a row and one of them only names segments (not a
        column: "cash advance" in "Cash-Advance Users" is a column); one word when it is followed by
        the name's own noun ("the young shoppers") or names nothing but segments ("describe
        alpha"). A word shared by several names is ambiguous (each name is returned).
        """
        words = [(i, t.stem) for i, t in enumerate(tokens) if i not in skip and t.number is None]
        out = []
        for seg_id, entries in self.names.items():
            for stems, alias in entries:
                distinct = [w for w in stems if w not in NAME_GENERIC]
                if not distinct:
                    continue
                match = self._name_run(words, stems)
                if match is None:
                    continue
                positions, n_distinct, complete, found = match
                said = [stems[k] for k in sorted(found)]
                # words only a name has ("mainstream"): not a column's, not the question's grammar ("how big")
                own = set(said) - self.data_words - NAME_GENERIC - GRAMMAR
                meaningful = [s for s in said if s not in NAME_GENERIC and s not in GRAMMAR]
                last = max(positions)
                # a noun says a group is meant: "lapsed buyers", "the senior segment", "the seniors"
                noun = any(tokens[i].text in PEOPLE or tokens[i].stem in NAME_GENERIC for i in positions) or (
                    last + 1 < len(tokens) and (tokens[last + 1].text in PEOPLE or tokens[last + 1].text in SEGMENT_WORDS)) or (
                    tokens[last].text.endswith("s") and tokens[last].text[:-1] in stems and min(positions) > 0
                    and tokens[min(positions) - 1].text in ("the", "those", "these"))  # "the seniors"
                weak = not own
                renamed = not alias and seg_id in self.renamed  # a name the user chose is meant as a name
                if complete and (len(positions) >= 2 or own or len(distinct) > 1 or noun or renamed):
                    # a one-word name that is also a column word ("Older") needs its noun ("Older Customers")
                    out.append(NameMatch(seg_id, frozenset(positions), True, n_distinct, alias,
                                         weak and len(positions) < 2 and not renamed))
                elif complete:
                    continue
                elif n_distinct >= 2 and own:
                    out.append(NameMatch(seg_id, frozenset(positions), False, n_distinct, alias))
                elif meaningful and noun and (shared or self._unique_words(said, seg_id)):
                    # ``shared``: a profile is asked for, so words several names share ask which one
                    out.append(NameMatch(seg_id, frozenset(positions), False, n_distinct, alias, weak))
                elif n_distinct == 1 and own and len(own) == 1:
                    if self._unique_words(said, seg_id):
                        out.append(NameMatch(seg_id, frozenset(positions), False, 1, alias))
                    else:
                        out.append(NameMatch(seg_id, frozenset(positions), False, 1, alias))  # shared: ambiguous
        out.sort(key=lambda m: (-m.complete, -m.distinctive, m.alias, -len(m.positions), m.segment))
        return out

    def flag_claims(self, tokens: list[Token], column: str, positions) -> bool:
        """A category level's word ("app" of preferred channel) that a yes/no column uses with its
        verb ("do they use the app": the app-user flag) is that column's, not the level."""
        if self.columns[column].kind == "boolean" or len(positions) != 1:
            return False
        word = tokens[min(positions)].stem
        verbs = {t.stem for t in tokens} | {t.text for t in tokens}
        return any(info.kind == "boolean" and info.name != column and word in info.core and info.verbs & verbs
                   for info in self.columns.values())

    def is_column_phrase(self, tokens: list[Token], positions) -> bool:
        """The words at ``positions`` are one column's label and nothing more ("app users": app
        user); "high-balance cash advance users" says more than any one column."""
        said = {tokens[i].stem for i in positions} | {tokens[i].text for i in positions}
        content = {tokens[i].stem for i in positions if tokens[i].text not in PEOPLE}  # "users" says no more
        for info in self.columns.values():
            core = list(info.core)
            if core and all(any(same_word(w, x) for x in said) for w in core) and \
                    all(any(same_word(w, x) for w in info.core) for x in content):
                return True
        return False

    def _unique_words(self, said: list, seg_id: int) -> bool:
        """No other segment's names hold every distinctive word said."""
        words = {s for s in said if s not in NAME_GENERIC}
        return bool(words) and not any(words <= set(stems) for other, entries in self.names.items()
                                       if other != seg_id for stems, _ in entries)

    @staticmethod
    def _name_run(words: list, stems: tuple) -> tuple[set, int, bool, set] | None:
        """The best run of consecutive question words that follows the name's words in order,
        starting anywhere in the name; name words may be left out ("the recent spenders" for
        "Recent Frequent Big Spenders"), question words may not. Returns (positions, distinctive
        words said, every distinctive word said, indices of the name words said)."""
        def same(s: str, w: str) -> bool:
            return s == w or NAME_EQUIVALENTS.get(s) == w

        n_distinct = sum(1 for w in stems if w not in NAME_GENERIC)
        best = None
        for start in range(len(words)):
            first = words[start][1]
            for offset in (k for k, w in enumerate(stems) if same(first, w)):
                k, j, positions, hits, found = offset, start, set(), 0, set()
                while j < len(words) and k < len(stems):
                    i, s = words[j]
                    if j > start and i != words[j - 1][0] + 1:
                        break
                    nxt = next((m for m in range(k, len(stems)) if same(s, stems[m])), None)
                    if nxt is None:
                        break
                    positions.add(i)
                    found.add(nxt)
                    hits += stems[nxt] not in NAME_GENERIC
                    k, j = nxt + 1, j + 1
                if hits and (best is None or hits > best[1]):
                    complete = all(m in found for m, w in enumerate(stems) if w not in NAME_GENERIC)
                    best = (positions, hits, complete, found)
        return best


__all__ = ["Vocabulary", "ColumnWords", "ColumnMatch", "NameMatch", "GENERIC", "NAME_GENERIC", "general_first"]
