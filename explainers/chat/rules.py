"""Which operation a question asks for: an ordered table of small named rules.

Each rule reads an :class:`Ask` (the question's :class:`~explainers.chat.mentions.Facts`
plus the previous answer's context) and returns an :class:`~explainers.chat.intent.Intent`
or None; :func:`decide` tries them in :data:`RULES` order, most specific first. Follow-ups
take what they leave out from the context: "and segment 3?" repeats the last operation for
another segment, "what about their income?" asks the last segment about another column,
"which one is bigger?" compares the last two segments. When a question points at something
the context cannot settle ("the other one" among five segments), the answer is a question
back, never a guess.
"""
from __future__ import annotations

from dataclasses import dataclass

from segmenter.lexicon import CONCEPT_WORDS

from .filters import Condition
from .intent import Intent, refuse
from .mentions import Facts, level_condition
from .vocabulary import Vocabulary
from .words import (ACTIONS, COLUMN_NOUNS, COMPARE, COUNT_WORDS, DATA_WORDS, DESCRIBE, EVERYONE_WORDS, FOLLOW_STARTS, HELP,
                    OVERVIEW, PEOPLE, PERSON_DETAILS, QUALITY, QUALITY_SOFT, RANK_HIGH, RANK_LOW, SEGMENT_WORDS, SIZE_EXTREME_HIGH,
                    SIZE_EXTREME_LOW, SIZE_WORDS, WHICH)

SHARE_WORDS = frozenset({"share", "percent", "percentage", "proportion", "fraction", "%", "pct", "rate",
                         "heavy", "dominated", "skewed", "leaning", "concentrated", "proportionally",
                         "proportionately", "relatively"})  # "the most male-heavy"
#: "most valuable segment": several columns could be meant, so the answer asks which.
VALUE_WORDS = frozenset({"valuable", "profitable", "lucrative", "important", "worthwhile"})
WHOLE_WORDS = frozenset({"segmentation", "segments", "clusters", "clustering", "explanation", "explanations",
                         "model", "results", "groups", "analysis", "personas", "drivers", "split"})
#: Words that mean few days since the last purchase (recency) or a short tenure.
RECENT_WORDS = frozenset({"recent", "recently", "latest", "lately", "freshest"})
NEW_WORDS = frozenset({"newest", "newer", "new", "newly", "recently", "recent", "latest"})
#: "the most common / popular / usual X": the mix of X, not a ranking of segments.
MODE_WORDS = frozenset({"common", "popular", "usual", "typical", "dominant", "frequent", "prevalent"})
#: "rank / sort / order the segments by ...": a ranking without a direction word (highest first).
RANK_VERBS = frozenset({"rank", "ranking", "ranked", "sort", "sorted"})
SINGULAR_PEOPLE = frozenset({"customer", "client", "person", "shopper", "buyer", "user", "member", "one",
                             "cardholder", "individual", "consumer"})
INHERIT = ("feature_statistic", "segment_size", "describe_segment", "suggest_actions", "count_customers",
           "compare_segments", "rank_segments", "larger_of", "quality")


@dataclass(eq=False)
class Ask:
    """One question's facts with the conversation so far."""

    f: Facts
    ctx: Intent | None
    vocab: Vocabulary
    report: object

    @property
    def texts(self) -> list:
        return self.f.texts

    @property
    def words(self) -> set:
        return self.f.words

    @property
    def free(self) -> set:
        """Words no mention used (operation words live here)."""
        return {t.text for i, t in enumerate(self.f.tokens) if i not in self.f.used}

    @property
    def unnamed(self) -> set:
        """Words outside segment names: "younger" in "Younger Affluent Big Spenders" is no comparison."""
        return {t.text for i, t in enumerate(self.f.tokens) if i not in self.f.name_positions}

    @property
    def follow(self) -> bool:
        """Reads as a follow-up: "and segment 3?", "what about ...", a short question, a pronoun."""
        if self.ctx is None:
            return False
        t = self.texts
        starts = bool(t) and (t[0] in ("and", "also", "now", "then", "same", "plus", "ok", "okay")
                              or t[:2] in (["what", "about"], ["how", "about"]))
        which_of = t[:1] == ["which"] and bool(set(t) & {"one", "them", "these", "those", "both", "two"}) \
            and not self.f.segments
        return starts or which_of or len(t) <= 3 or self.f.pronoun or self.f.other

    @property
    def ctx_args(self) -> dict:
        return self.ctx.args if self.ctx is not None else {}

    @property
    def ctx_segments(self) -> list:
        a = self.ctx_args
        return list(a.get("_focus") or a.get("segments") or ([a["segment"]] if a.get("segment") is not None else []))

    def column(self):
        return self.f.columns[0] if self.f.columns else None

    def counting(self) -> bool:
        t = self.texts
        if set(t) & SHARE_WORDS:
            return False
        return "howmany" in t or "count" in t or any(a == "number" and b == "of" for a, b in zip(t, t[1:]))

    def segments(self, allow_ctx: bool = True) -> list:
        """Segments this question is about: named ones, else (for a follow-up) the last ones."""
        if self.f.segments:
            return list(self.f.segments)
        if allow_ctx and (self.f.pronoun or self.follow) and not self.f.other:
            return self.ctx_segments
        return []

    def which_segment(self) -> bool:
        """ "which segment ...", "what group ...", "who ..." (a question about segments, not customers)."""
        t = self.texts
        pairs = list(zip(t, t[1:]))
        return any(a in WHICH and (b in SEGMENT_WORDS or b in ("one", "is", "has", "have", "does", "do", "spends",
                                                                "earns", "buys", "pays", "visits", "responded"))
                   for a, b in pairs) or "who" in t or any(w in SEGMENT_WORDS for w in t) and self.f.direction \
            or bool(self.f.limit) or t[:1] == ["where"] and self.f.direction is not None \
            or bool(self.f.role_word) and t[:1] == ["where"]

    def role_column(self, role: str) -> tuple[str | None, bool]:
        """(the column with ``role``, inverted): age from a birth year counts the other way."""
        by_role = [c for c, info in self.vocab.columns.items() if info.role == role]
        if role == "age" and not by_role:
            by_role = [c for c, info in self.vocab.columns.items() if info.role == "birth_year"]
            return (by_role[0], True) if len(by_role) == 1 else (None, False)
        return (by_role[0], False) if len(by_role) == 1 else (None, False)

    def measure(self) -> dict | None:
        """The column (and level) the question measures: a named column, a named level ("women"),
        or a role word ("oldest" = age). None when it names none. A birth year asked about in age
        words ("youngest", "older") counts the other way: later birth years are younger people."""
        m = self.column()
        if m is not None and m.level is None:  # "which group prefers the store": the level is the condition's
            same = [c for c in self.f.conditions if c.column == m.column and c.op == "is_level"]
            if len(same) == 1 and len(self.f.conditions) == 1:
                return {"feature": m.column, "level": same[0].value, "inverted": False, "from_condition": True}
        if m is not None:
            info = self.vocab.columns[m.column]
            age_words = self.words & {"old", "older", "oldest", "young", "younger", "youngest", "howold", "aged",
                                      "age", "ages"}
            inverted = info.role == "birth_year" and bool(age_words)
            # "the most recent buyers" have the fewest days since their last purchase; so do the
            # recently signed-up on a tenure column ("the newest customers")
            inverted |= info.role == "recency" and bool(self.words & RECENT_WORDS)
            inverted |= info.role == "tenure" and bool(self.words & NEW_WORDS)
            return {"feature": m.column, "level": m.level, "inverted": inverted}
        level_conds = [c for c in self.f.conditions if c.op in ("is_level", "is_true", "is_false")]
        if len(level_conds) == 1 and not any(c.op not in ("is_level", "is_true", "is_false")
                                              for c in self.f.conditions):
            c = level_conds[0]
            level = c.value if c.op == "is_level" else ("yes" if c.op == "is_true" else "no")
            return {"feature": c.column, "level": level, "inverted": False, "from_condition": True}
        if self.f.role_word:
            column, inverted = self.role_column(self.f.role_word[0])
            if column is not None:
                return {"feature": column, "level": None, "inverted": inverted}
        return None


def _kind(ask: Ask, column: str) -> str:
    return ask.vocab.columns[column].kind


def _stat(ask: Ask, column: str, level: str | None, default: str = "mean") -> str:
    kind = _kind(ask, column)
    if kind in ("categorical", "profile"):
        return "share" if level is not None else "distribution"
    if kind == "boolean":
        return "share"
    stat = ask.f.stat
    if stat == "total" and ask.words & {"average", "avg", "mean", "typical", "typically"}:
        return "median" if ask.words & {"median", "typical", "typically"} else "mean"  # "total spend on average"
    if stat == "total" and ask.vocab.columns[column].role == "total" and not ask.words & {"sum", "altogether",
                                                                                         "combined"}:
        return default  # "total spend" names the column; it does not ask to add it up
    if stat in ("median", "min", "max", "total", "quartiles", "range", "std"):
        return stat
    return default


def _segment_arg(ask: Ask) -> int | None:
    segs = ask.segments()
    return segs[0] if segs else None


def _other_column(ask: Ask) -> str | None:
    """A column named only in part, next to a noun it does not have ("credit *score*" on a table with a
    credit limit): another column, which the table lacks."""
    for m in ask.f.columns:
        if m.coverage >= 0.99 or m.level is not None:
            continue
        for pos in (min(m.positions) - 1, max(m.positions) + 1):
            if 0 <= pos < len(ask.f.tokens) and pos not in ask.f.used and ask.f.tokens[pos].text in COLUMN_NOUNS:
                info = ask.vocab.columns[m.column]
                shares = (ask.report.overall.get("profile") or {}).get(m.column) or {}
                yes_no = info.kind == "boolean" or bool(shares) and {str(k).lower() for k in shares} <= {"yes", "no"}
                if yes_no and ask.f.tokens[pos].text in ("rate", "rates", "share", "ratio"):
                    continue  # "response rate": the share saying yes
                if ask.f.tokens[pos].stem not in info.core and ask.f.tokens[pos].stem not in info.synonyms:
                    return " ".join(t.text for t in ask.f.tokens[min(m.positions):pos + 1]) \
                        if pos > max(m.positions) else ask.f.tokens[pos].text
    return None


def _unknown_refusal(ask: Ask) -> Intent | None:
    other = _other_column(ask)
    if other:
        return refuse("unknown_column", words=[other])
    if ask.f.unresolved:
        return refuse("unknown_column", words=list(ask.f.unresolved) + ask.f.unknown)
    if ask.f.unknown:
        return refuse("unknown_words", words=ask.f.unknown)
    return None


def _conditions(ask: Ask, extra: list | None = None) -> list:
    conds = list(ask.f.conditions) + list(extra or [])
    seen, out = set(), []
    for c in conds:
        key = (c.column, c.op, str(c.value), c.value2)
        if key not in seen:
            seen.add(key)
            out.append(c.to_dict())
    return out


# ----------------------------------------------------------------------------- the rules
def rule_other_segment(ask: Ask) -> Intent | None:
    """ "the other one": only settled when exactly one segment is left."""
    if not ask.f.other or ask.f.segments or ask.ctx is None:
        return None
    real = [s.id for s in ask.report.real_segments]
    focus = [s for s in ask.ctx_segments if s in real]
    left = [s for s in real if s not in focus]
    if len(left) == 1 and focus:
        ask.f.segments.append(left[0])
        return None
    return Intent("clarify", {"candidates": left or real})


def rule_valuable(ask: Ask) -> Intent | None:
    """ "most valuable segment": by spend, income, size? Ask rather than pick one."""
    if not ask.words & VALUE_WORDS or ask.f.columns:
        return None
    options = [c for c, info in ask.vocab.columns.items()
               if info.role in ("money", "income", "score") and info.kind in ("numeric", "categorical")]
    spend = [c for c in options if ask.report.meaning(c) is not None and ask.report.meaning(c).has_tag("spend")]
    choices = (spend or options)[:6]
    if not choices:
        return refuse("unknown_column", words=sorted(ask.words & VALUE_WORDS))
    return Intent("clarify", {"features": choices})


def rule_no_antecedent(ask: Ask) -> Intent | None:
    """ "which segment is it in?", "what's their income?" with nothing said before: which one?"""
    if ask.ctx is not None or ask.f.segments or ask.f.conditions or ask.f.noise:
        return None
    t = ask.texts
    if ask.f.other:
        return refuse("need_segment")
    if not ask.f.pronoun:
        return None
    plural = {a for a, b in zip(t, t[1:]) if a in ("these", "those") and b in SEGMENT_WORDS | WHOLE_WORDS}
    demonstrative = any(a in ("this", "that") and b in SEGMENT_WORDS | {"one"} for a, b in zip(t, t[1:]))
    if (ask.words & {"it", "they", "them", "their", "its", "those", "these"}) - plural or demonstrative:
        return refuse("need_segment")
    return None


def rule_two_of_many(ask: Ask) -> Intent | None:
    """ "the two segments" / "both segments" when there are more than two: which two?"""
    t = ask.texts
    pairs = set(zip(t, t[1:]))
    if ({("two", "segments"), ("both", "segments"), ("two", "groups"), ("both", "groups")} & pairs
            and len(ask.f.segments) < 2 and len(ask.report.real_segments) > 2
            and not ask.words & {"why", "only", "enough", "too"}):
        return Intent("clarify", {"candidates": [s.id for s in ask.report.real_segments]})
    return None


def rule_person_details(ask: Ask) -> Intent | None:
    """A question about one customer's private life (their car, where they live)."""
    hits = ask.words & PERSON_DETAILS
    if hits and not ask.f.columns and not ask.f.segments and not ask.f.conditions:
        if hits <= CONCEPT_WORDS and (ask.counting() or ask.f.unresolved or ask.words & {"customers", "people"}):
            return None  # "how many customers over 60 have kids" on a table without kids: an unknown column
        return refuse("personal")
    return None


def rule_causal(ask: Ask) -> Intent | None:
    if ask.f.causal and not ask.words & {"drivers", "driver", "driving"}:
        return refuse("causal")
    return None


def rule_help(ask: Ask) -> Intent | None:
    if ask.free & HELP and not ask.f.segments and not ask.f.columns and not ask.f.conditions:
        return Intent("help", {})
    if {"what", "can", "you"} <= ask.words and ask.words & {"do", "answer", "ask"} and not ask.f.columns:
        return Intent("help", {})
    return None


def rule_data_overview(ask: Ask) -> Intent | None:
    if ask.free & DATA_WORDS and not ask.f.segments and not ask.f.conditions and not ask.f.columns \
            and ask.words & (WHICH | {"list", "show", "have", "used", "use", "available"}):
        return Intent("columns", {})
    return None


AGREE_WORDS = frozenset({"match", "matches", "agree", "agrees", "agreement", "align", "aligns", "overlap",
                         "overlaps", "correspond", "corresponds", "similar", "same", "compare", "versus", "vs",
                         "against", "better", "line"})


def rule_label_agreement(ask: Ask) -> Intent | None:
    """ "do our segments match the sales team's segments?": agreement with an existing label column."""
    labels = list(ask.report.profile_columns or [])
    # levels of the label itself are no filter: "the sales team's A-D labels"
    filters = [c for c in ask.f.conditions if not (c.op == "is_level" and c.column in labels)]
    if not labels or not ask.words & AGREE_WORDS or ask.f.segments or filters:
        return None
    named = [m.column for m in ask.f.columns if m.column in labels]
    lead = ask.words & {"sales", "existing", "original", "labels", "label", "team", "their", "given"}
    if named or (lead and len(labels) == 1 and not ask.f.columns):
        return Intent("label_agreement", {"feature": (named or labels)[0]})
    return None


def rule_quality(ask: Ask) -> Intent | None:
    soft = ask.free & QUALITY_SOFT and (ask.words & (WHOLE_WORDS | {"this", "these", "labels", "label"})
                                        or ask.f.segments) and not ask.f.columns
    t = ask.texts
    why_k = ("why" in t or "too" in t or "enough" in t) and ask.words & {"segments", "groups", "clusters"} \
        and not ask.f.columns and not ask.f.segments
    if why_k:  # "why only two segments?", "is 10 segments too many?"
        return Intent("quality", {"segments": [], "k": True})
    if not (ask.free & QUALITY or soft) or ask.f.columns and not ask.words & {"trust", "confident", "reliable"}:
        return None
    return Intent("quality", {"segments": ask.segments()})


def rule_actions(ask: Ask) -> Intent | None:
    if not ask.free & ACTIONS:
        return None
    if ask.free & {"campaign", "campaigns"} and ask.f.columns and not ask.free & (ACTIONS - {"campaign", "campaigns"}):
        return None
    return Intent("suggest_actions", {"segments": ask.segments()})


def rule_unassigned(ask: Ask) -> Intent | None:
    if ask.f.noise and not ask.f.columns and not ask.f.conditions:
        return Intent("unassigned", {})
    return None


def rule_count_segments(ask: Ask) -> Intent | None:
    plural = ask.words & {"segments", "groups", "clusters", "personas", "segs", "tribes", "buckets"}
    if ask.counting() and plural and not ask.f.segments and not ask.f.columns and not ask.f.conditions \
            and not ask.words & PEOPLE - {"one", "ones"}:
        return Intent("count_segments", {})
    return None


def rule_segment_sizes(ask: Ask) -> Intent | None:
    each = ask.words & {"persegment", "foreach", "allsegments"}
    if each and not ask.f.columns and not ask.f.conditions and (ask.counting() or ask.words & SIZE_WORDS
                                                               or ask.words & SHARE_WORDS or ask.words & PEOPLE):
        return Intent("segment_sizes", {"shares": bool(ask.words & SHARE_WORDS)})
    return None


def rule_per_segment(ask: Ask) -> Intent | None:
    if not ask.words & {"persegment", "foreach", "allsegments"}:
        return None
    m = ask.measure()
    if m is None:
        return None
    conds = [c for c in _conditions(ask) if not m.get("from_condition")]
    if ask.counting() and conds:
        return None
    return Intent("per_segment", {"feature": m["feature"], "level": m["level"],
                                  "statistic": _stat(ask, m["feature"], m["level"])})


def rule_extreme_size(ask: Ask) -> Intent | None:
    high, low = ask.free & SIZE_EXTREME_HIGH, ask.free & SIZE_EXTREME_LOW
    if not (high or low) or ask.f.columns or ask.f.conditions or ask.f.segments or ask.f.role_word:
        return None
    if not (ask.words & SEGMENT_WORDS or ask.which_segment() or ask.words & {"one"}):
        return None
    if ask.counting() and not ask.words & SEGMENT_WORDS:
        return None
    return Intent("extreme_size", {"which": "smallest" if low and not high else "largest"})


def rule_rank(ask: Ask) -> Intent | None:
    direction = ask.f.direction or (ask.f.role_word[1] if ask.f.role_word else None)
    if direction is None and ask.words & RANK_VERBS and ask.words & (SEGMENT_WORDS | {"persegment", "allsegments"}):
        direction = "highest"  # "rank the segments by age"
    if direction is None or len(ask.f.segments) >= 2:
        return None
    bare = [w for w in ask.texts if w not in ("the", "a", "what", "whats", "is")][:1]  # "lowest income?"
    about_segments = ask.which_segment() or (not ask.f.segments and ask.words & SEGMENT_WORDS) or (
        bare and (bare[0] in RANK_HIGH or bare[0] in RANK_LOW) and not set(ask.texts[:1]) & {"what", "whats"})
    singular = ask.words & SINGULAR_PEOPLE and not ask.words & SEGMENT_WORDS
    if not about_segments or singular or ask.f.segments:
        return None
    m = ask.measure()
    if m is not None and m["level"] is None and _kind(ask, m["feature"]) in ("categorical", "profile") \
            and ask.words & MODE_WORDS and not ask.which_segment():
        return None  # "the most common profession there": the segment's mix, not a ranking
    if m is None:
        if ask.f.role_word and not ask.f.columns:  # "richest segment" on a table without an income column
            return refuse("unknown_column", words=[ask.f.role_word[0]])
        return None
    if ask.f.role_word and ask.column() is None:  # "richest segment", "which segment is oldest"
        direction = ask.f.role_word[1]
    if m["inverted"]:
        direction = "lowest" if direction == "highest" else "highest"
    stat = "median" if "median" in ask.words else "mean"
    by_count = m["level"] is not None and not ask.words & SHARE_WORDS and _kind(ask, m["feature"]) != "boolean" \
        and bool(ask.words & {"most", "fewest", "more", "fewer"})
    return Intent("rank_segments", {"feature": m["feature"], "level": m["level"], "direction": direction,
                                    "statistic": stat, "among": [], "limit": ask.f.limit,
                                    "by": "count" if by_count else "share"})


def rule_larger_of(ask: Ask) -> Intent | None:
    """ "which one is bigger?", "which of them earns more?", "are segment 3 older than segment 4?"."""
    free = ask.unnamed
    comparative = free & {"bigger", "larger", "smaller", "higher", "lower", "more", "less", "older",
                          "younger", "richer", "better", "earns", "spends"}
    recent = list(ask.ctx_args.get("_recent") or []) if ask.follow else []
    segs = ask.f.segments if len(ask.f.segments) >= 2 else (
        ask.ctx_segments if ask.follow and len(ask.ctx_segments) >= 2 else recent)
    if not comparative or len(segs) < 2 or ask.f.conditions or ask.f.unresolved:
        return None
    if not (ask.words & WHICH or ask.words & {"are", "is", "do", "does", "than", "or"}):
        return None
    m = ask.measure()
    if m is None and free & (SIZE_WORDS | {"more", "less"}) and not ask.f.columns:
        return Intent("larger_of", {"segments": segs[:2], "feature": None, "level": None,
                                    "smaller": bool(free & {"smaller", "less", "fewer"})})
    if m is None and ask.follow and ask.ctx_args.get("feature"):
        m = {"feature": ask.ctx_args["feature"], "level": ask.ctx_args.get("level"), "inverted": False}
    if m is None:
        return None
    lower = bool(free & {"lower", "less", "younger", "smaller", "fewer"})
    if m["inverted"]:
        lower = not lower
    return Intent("larger_of", {"segments": segs[:2], "feature": m["feature"], "level": m["level"],
                                "smaller": lower, "statistic": "median" if ask.f.stat == "median" else "mean"})


def rule_count(ask: Ask) -> Intent | None:
    if not ask.counting() and not (ask.f.conditions and ask.words & PEOPLE and not ask.f.columns
                                   and not ask.words & SHARE_WORDS and not ask.f.stat):
        return None
    if ask.f.join == "mixed":
        return refuse("mixed_join")
    segs = ask.segments()
    conds = _conditions(ask)
    m = ask.column()
    t = ask.texts
    of_people = any(a in ("howmany", "count", "number") and (b in PEOPLE or c in PEOPLE)
                    for a, b, c in zip(t, t[1:] + [""], t[2:] + ["", ""]))
    if m is not None and not conds and of_people and m.level is None and not ask.f.unresolved \
            and _kind(ask, m.column) in ("numeric", "datetime") and not ask.words & {"average", "avg", "mean"}:
        # "how many customers bought recently": counting customers needs a line to draw
        return refuse("need_threshold", feature=m.column)
    if m is not None and not conds and _kind(ask, m.column) in ("numeric", "datetime") and not ask.f.unresolved:
        # "how many kids do they have on average" / "how many purchases does segment 2 make": a statistic
        return Intent("feature_statistic", {"segment": segs[0] if segs else None, "feature": m.column,
                                            "level": None, "statistic": _stat(ask, m.column, None)})
    if m is not None and (m.level is not None or _kind(ask, m.column) == "boolean"):
        extra = level_condition(m, ask.vocab)  # "how many use the app": the yes of a yes/no column
        conds = _conditions(ask, [extra] if extra else [])
    if ask.f.unresolved:
        return refuse("unknown_column", words=list(ask.f.unresolved))
    before = _counted_before(ask)
    if before:  # "and how many of those are in segment 2?", "of those, how many also ..."
        new = {c["column"] for c in conds}
        conds = [c for c in before if c["column"] not in new] + conds
        segs = segs or ask.ctx_segments
    if not conds:
        if segs and segs != [-1]:
            return Intent("segment_size", {"segments": segs[:1]})
        if ask.ctx is not None and ask.ctx.operation == "count_customers" and ask.follow and not ask.f.segments:
            return None
        return Intent("count_customers", {"segment": None, "conditions": [], "join": "and"})
    return Intent("count_customers", {"segment": segs[0] if segs else None, "conditions": conds,
                                      "join": ask.f.join})


def _counted_before(ask: Ask) -> list:
    """The conditions of the last count when this question counts among those customers again."""
    if ask.ctx is None or ask.ctx.operation != "count_customers" or not ask.ctx_args.get("conditions"):
        return []
    t = ask.texts
    # "and how many have complained?" counts afresh in the same segment; "of those" / "also" narrow the last count
    if not ("also" in t or any(a == "of" and b in ("those", "these", "them") for a, b in zip(t, t[1:]))):
        return []
    return list(ask.ctx_args["conditions"])


def rule_level_size(ask: Ask) -> Intent | None:
    """ "how big is segment A" (a level of an existing label): how many customers have it."""
    if not (ask.free & SIZE_WORDS or ask.counting()) or ask.f.segments or ask.f.columns:
        return None
    conds = [c for c in ask.f.conditions if ask.vocab.columns.get(c.column) is not None
             and ask.vocab.columns[c.column].kind == "profile"]
    if conds and len(conds) == len(ask.f.conditions):
        return Intent("count_customers", {"segment": None, "conditions": [c.to_dict() for c in conds],
                                          "join": "and"})
    return None


def rule_share_of(ask: Ask) -> Intent | None:
    """ "what % of segment 2 are married", "response rate of segment 1", "what % of X have kids"."""
    if not ask.words & SHARE_WORDS or len(ask.f.segments) >= 2:  # two segments: a comparison
        return None
    segs = ask.segments()
    conds = list(ask.f.conditions)
    m = ask.column()
    if m is not None and m.level is not None:
        extra = level_condition(m, ask.vocab)
        conds = conds + ([extra] if extra else [])
    elif m is not None and _kind(ask, m.column) == "profile":
        levels = ask.vocab.columns[m.column].levels
        if set(levels) <= {"yes", "no"}:
            return Intent("feature_statistic", {"segment": segs[0] if segs else None, "feature": m.column,
                                                "level": "yes", "statistic": "share"})
    if not conds:
        if segs and not ask.f.columns and (ask.words & PEOPLE or ask.words & {"are", "is", "in"}):
            return Intent("segment_size", {"segments": segs[:1]})
        return None
    same_column = m is not None and len(conds) == 1 and conds[0].column == m.column
    if len(conds) == 1 and conds[0].op in ("is_level", "is_true", "is_false") and (m is None or same_column) or (
            len(conds) == 1 and m is not None and m.level is not None):
        c = conds[0]
        level = c.value if c.op == "is_level" else ("yes" if c.op == "is_true" else "no")
        return Intent("feature_statistic", {"segment": segs[0] if segs else None, "feature": c.column,
                                            "level": level, "statistic": "share"})
    return Intent("count_customers", {"segment": segs[0] if segs else None,
                                      "conditions": [c.to_dict() for c in conds], "join": ask.f.join,
                                      "as_share": True})


def rule_compare(ask: Ask) -> Intent | None:
    compare_words = ask.free & COMPARE
    if not compare_words and len(ask.f.segments) < 2:
        return None
    segs = ask.segments()
    if not segs:
        return None
    if len(segs) == 1 and ask.words & {"makes", "special", "unique", "stand", "stands", "apart", "sets"} \
            and not ask.f.columns:
        return Intent("describe_segment", {"segments": segs[:1]})  # "what makes segment 3 different?"
    m = ask.measure() if ask.f.columns or ask.f.role_word else None
    before = ask.ctx_segments if ask.ctx is not None and ask.f.pronoun and ask.ctx_args.get("feature") else []
    if m is None and len(segs) == 1 and len(before) == 1 and before != segs:  # "compare that with segment 4"
        segs = before + segs
        m = {"feature": ask.ctx_args["feature"], "level": ask.ctx_args.get("level")}
    args = {"segments": segs[:2], "everyone": len(segs) < 2}
    levels = [c for c in ask.f.conditions if c.op in ("is_level", "is_true", "is_false")]
    if m is None and len(levels) == 1 and len(ask.f.conditions) == 1:  # "female share: segment 3 vs 4"
        c = levels[0]
        m = {"feature": c.column, "level": c.value if c.op == "is_level" else ("yes" if c.op == "is_true" else "no")}
    if m is not None:
        args.update(feature=m["feature"], level=m["level"])
    return Intent("compare_segments", args)


def rule_statistic(ask: Ask) -> Intent | None:
    m = ask.measure()
    if m is None:
        return None
    conds = [c for c in ask.f.conditions if not m.get("from_condition")]
    if conds:
        return None
    segs = ask.segments()
    if ask.f.role_word and ask.column() is None:  # "oldest customer", "youngest shopper"
        if not (ask.words & SINGULAR_PEOPLE or ask.words & {"howold", "age"}):
            return None
        stat = "max" if ask.f.role_word[1] == "highest" else "min"
        if m["inverted"]:
            stat = "min" if stat == "max" else "max"
        return Intent("feature_statistic", {"segment": segs[0] if segs else None, "feature": m["feature"],
                                            "level": None, "statistic": stat})
    stat = _stat(ask, m["feature"], m["level"])
    if m["inverted"] and stat in ("min", "max"):  # the oldest customer has the earliest birth year
        stat = "min" if stat == "max" else "max"
    args = {"segment": segs[0] if segs else None, "feature": m["feature"], "level": m["level"], "statistic": stat}
    if m["inverted"] and ask.vocab.columns[m["feature"]].role == "birth_year":
        args["as_age"] = True  # "average age" on a birth-year column: the answer says the age too
    return Intent("feature_statistic", args)


def rule_size_or_describe(ask: Ask) -> Intent | None:
    segs = ask.segments()
    if not segs or ask.f.columns or ask.f.conditions:
        return None
    if ask.free & SIZE_WORDS or ask.words & SHARE_WORDS or ask.counting() or ask.words & {"howbig"}:
        return Intent("segment_size", {"segments": segs[:1], "shares": bool(ask.words & SHARE_WORDS)})
    asked_about = ask.free & DESCRIBE - {"about"} or (ask.texts[:1] != ["what"] and "about" in ask.free
                                                       and ask.texts[:2] != ["how", "about"])
    if ask.follow and ask.ctx is not None and ask.ctx.operation in INHERIT and not asked_about:
        return _inherit(ask, segs)
    return Intent("describe_segment", {"segments": segs[:1]})


def rule_share_of_count(ask: Ask) -> Intent | None:
    """ "and what share is that?" after a count: the same customers as a share."""
    if ask.ctx is None or ask.ctx.operation != "count_customers" or not ask.follow:
        return None
    if not ask.words & SHARE_WORDS or ask.f.conditions or ask.f.columns or ask.counting() \
            or ask.f.segments and ask.f.segments != [ask.ctx_args.get("segment")]:
        return None
    args = {k: v for k, v in ask.ctx_args.items() if not k.startswith("_")}
    return Intent("count_customers", {**args, "as_share": True})


def rule_rank_follow_up(ask: Ask) -> Intent | None:
    """ "which is the lowest?" / "which one is the youngest?" after a column per segment or a ranking."""
    if ask.ctx is None or ask.ctx.operation not in ("per_segment", "rank_segments") or not ask.ctx_args.get("feature"):
        return None
    feature = ask.ctx_args["feature"]
    if any(m.column != feature for m in ask.f.columns) or ask.f.segments or ask.f.conditions \
            or not (ask.words & WHICH or ask.f.pronoun):
        return None
    direction = ask.f.direction
    if ask.f.role_word:  # "the youngest": only about the same column
        if ask.vocab.columns[feature].role != ask.f.role_word[0]:
            return None
        direction = ask.f.role_word[1]
    if direction is None:
        return None
    args = ask.ctx_args
    return Intent("rank_segments", {"feature": args["feature"], "level": args.get("level"), "direction": direction,
                                    "statistic": "median" if args.get("statistic") == "median" else "mean",
                                    "among": [], "limit": None, "by": "share"})


def rule_follow_up(ask: Ask) -> Intent | None:
    """Only a column, a statistic or a segment changed: the rest comes from the last answer."""
    if ask.ctx is None or not ask.follow:
        return None
    args = {k: v for k, v in ask.ctx_args.items() if not k.startswith("_")}
    op = ask.ctx.operation
    new = list(ask.f.conditions)
    m = ask.column()
    if m is not None and m.level is not None:
        extra = level_condition(m, ask.vocab)
        new += [extra] if extra else []
    if op == "count_customers" and new:
        conds = [Condition(**c) for c in args.get("conditions", [])]
        if new and conds and {c.column for c in new} == {c.column for c in conds}:
            conds = new  # "and women?" replaces "men"
        else:
            conds += new
        return Intent("count_customers", {**args, "conditions": [c.to_dict() for c in conds]})
    if op in ("feature_statistic", "rank_segments", "per_segment") and ask.f.stat and not ask.f.columns:
        stat = _stat(ask, args["feature"], args.get("level"))
        if op == "rank_segments" and ask.f.direction:
            return Intent(op, {**args, "direction": ask.f.direction})
        return Intent(op, {**args, "statistic": stat})
    if op in ("rank_segments",) and ask.f.direction and not ask.f.columns:
        return Intent(op, {**args, "direction": ask.f.direction})
    return None


def _inherit(ask: Ask, segs: list) -> Intent:
    """Repeat the previous operation for newly named segment(s)."""
    args = {k: v for k, v in ask.ctx_args.items() if not k.startswith("_")}
    op = ask.ctx.operation
    if op in ("rank_segments", "larger_of"):
        return Intent("feature_statistic", {"segment": segs[0], "feature": args.get("feature"),
                                            "level": args.get("level"), "statistic": args.get("statistic", "mean")}) \
            if args.get("feature") else Intent("segment_size", {"segments": segs[:1]})
    if op in ("feature_statistic", "count_customers"):
        return Intent(op, {**args, "segment": segs[0]})
    if op == "compare_segments":
        previous = list(args.get("segments") or [])
        pair = segs[:2] if len(segs) >= 2 else ([previous[0], segs[0]] if previous and previous[0] != segs[0]
                                                else segs[:1])
        return Intent(op, {**args, "segments": pair, "everyone": len(pair) == 1})
    if op == "quality":
        return Intent(op, {"segments": segs[:1]})
    return Intent(op, {**args, "segments": segs[:1]})


def rule_column_follow_up(ask: Ask) -> Intent | None:
    """ "what about their income?": the last segment, another column."""
    if ask.ctx is None or not ask.f.columns or ask.f.segments:
        return None
    if not (ask.f.pronoun or ask.follow):
        return None
    segs = ask.ctx_segments
    if not segs:
        return None
    m = ask.measure()
    return Intent("feature_statistic", {"segment": segs[0], "feature": m["feature"], "level": m["level"],
                                        "statistic": _stat(ask, m["feature"], m["level"])})


def rule_overview(ask: Ask) -> Intent | None:
    every = ask.words & {"persegment", "foreach", "allsegments"}
    if ask.free & OVERVIEW or (ask.words & SEGMENT_WORDS and not ask.f.columns and not ask.f.conditions) \
            or (ask.free & DESCRIBE or every) and not ask.f.columns and not ask.f.conditions:
        return Intent("overview", {})
    return None


#: Tried in order; the first rule that returns an intent decides. (name, rule, unknown words allowed)
RULES: tuple = (
    ("person_details", rule_person_details, True),
    ("causal", rule_causal, True),
    ("no_antecedent", rule_no_antecedent, True),
    ("other_segment", rule_other_segment, True),
    ("two_of_many", rule_two_of_many, True),
    ("valuable", rule_valuable, True),
    ("help", rule_help, False),
    ("data_overview", rule_data_overview, True),
    ("label_agreement", rule_label_agreement, True),
    ("quality", rule_quality, True),
    ("actions", rule_actions, True),
    ("unassigned", rule_unassigned, False),
    ("share_of_count", rule_share_of_count, False),
    ("rank_follow_up", rule_rank_follow_up, False),
    ("count_segments", rule_count_segments, False),
    ("segment_sizes", rule_segment_sizes, False),
    ("per_segment", rule_per_segment, False),
    ("larger_of", rule_larger_of, False),
    ("extreme_size", rule_extreme_size, False),
    ("rank", rule_rank, False),
    ("level_size", rule_level_size, False),
    ("share_of", rule_share_of, False),
    ("count", rule_count, False),
    ("follow_up", rule_follow_up, False),
    ("column_follow_up", rule_column_follow_up, False),
    ("compare", rule_compare, False),
    ("statistic", rule_statistic, False),
    ("size_or_describe", rule_size_or_describe, False),
    ("overview", rule_overview, False),
)


def decide(f: Facts, ctx: Intent | None, vocab: Vocabulary, report) -> Intent:
    """The intent of a question: the first rule of :data:`RULES` that fits, checked for loose ends."""
    ask = Ask(f, ctx, vocab, report)
    if f.bad_segments and not (f.bad_segments == [-1] and f.noise):
        return refuse("no_such_segment", segments=f.bad_segments)
    if f.ambiguous:
        return Intent("clarify", {"candidates": f.ambiguous[0]})
    if f.ambiguous_columns:
        return Intent("clarify", {"features": f.ambiguous_columns[0]})
    for name, rule, tolerant in RULES:
        intent = rule(ask)
        if intent is None:
            continue
        if intent.operation in ("refuse", "clarify") or tolerant:
            return intent
        loose = _unknown_refusal(ask)
        if loose is not None:
            return loose
        if f.column_tie and "feature" in intent.args and intent.args.get("feature") == f.columns[0].column:
            return Intent("clarify", {"features": [f.columns[0].column] + f.column_tie})
        return intent
    return _unknown_refusal(ask) or refuse("unknown_words", words=[])


__all__ = ["decide", "RULES", "Ask"]
