"""Persona names from column meanings and effect sizes, every word checked against the numbers.

A word may enter a segment's name only when the segment really differs on that column: a
standardised effect size of at least :data:`NAME_EFFECT` against everyone else AND a gap
the card's own numbers show (:func:`real_gap`); a category word only for a clear majority
("Men" for a segment that is 90% men, never for 55%). The words come from each column's
meaning (:mod:`segmenter.meanings`: "Big Spenders" for spend, "Affluent" for income, "Wine
Lovers" for spend on wines, "Lapsed" for days since the last purchase), so they fit the
user's table and follow the user's corrections. A name is at most two describing words and
one noun ("Affluent Wine Lovers"); words of one column family never meet ("Frequent
Occasional"). Names are unique in substance: when two segments would share their words, the
next real difference of each joins its name. Every word's evidence is kept in
``Segment.name_traits``. Names are plain text: column names and levels come from the table.
"""
from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from dataclasses import dataclass

from segmenter.lexicon import LEVEL_NAME_WORDS, NOUN_ADJECTIVES
from segmenter.meanings import CURRENT_YEAR, ColumnMeaning, meanings_from_dict, ordinal_order
from segmenter.report import MAX_NAME_LENGTH, NOISE_NAME, SegmentationReport

#: Smallest |Cohen's d| (segment against everyone else) for a numeric name word.
NAME_EFFECT = 0.5
#: ... and the smallest gap between the segment's mean and the rest's, as a share of the overall
#: mean's size (or of the overall spread when the mean is near zero).
NAME_GAP = 0.1
#: Two segments whose names would match may each add a word that holds at this weaker effect
#: (still in the right direction with a real gap); such words are marked ``tiebreak``.
TIEBREAK_EFFECT = 0.25
#: A category word needs this share of the segment and this standardised difference.
NAME_LEVEL_SHARE = 0.7
NAME_LEVEL_EFFECT = 0.5
#: Age words: "Senior" from this mean age up, "Young" up to YOUNG_AGE; else "Older"/"Younger".
SENIOR_AGE, YOUNG_AGE = 60, 30
#: Words saying when (recency, tenure, age) come first: "Lapsed Big Spenders".
LEADING_WORDS = frozenset({"Lapsed", "Recent", "Long-Standing", "New", "Senior", "Young", "Older", "Younger"})
MAX_ADJECTIVES = 2
DEFAULT_NOUN = "Customers"
TYPICAL_NAME = "Mainstream Customers"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_CHANNEL_LEVEL_WORDS = {"store": "In-Store Shoppers", "shop": "In-Store Shoppers", "web": "Online Shoppers",
                        "online": "Online Shoppers", "app": "App Shoppers", "mobile": "App Shoppers",
                        "catalog": "Catalog Shoppers", "phone": "Phone Shoppers"}


def clean_text(text: object, limit: int = MAX_NAME_LENGTH) -> str:
    """Text without control/format characters, whitespace collapsed, cut to ``limit`` characters."""
    text = unicodedata.normalize("NFC", str(text))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
                   for ch in _CONTROL.sub(" ", text))
    return " ".join(text.split())[:limit].strip()


@dataclass(frozen=True)
class NameTrait:
    """One candidate name word and its evidence."""

    feature: str
    direction: str  # "higher" / "lower" (numeric), "level" (a category's majority)
    word: str
    noun: bool
    strength: float  # |effect size| (numeric) or standardised share difference (level)
    level: str | None = None
    family: str = ""  # words of one family never meet in a name ("Big Spenders" / "Low-Spend")
    tiebreak: bool = False  # allowed at TIEBREAK_EFFECT only, to tell two names apart
    generic: bool = False  # "High Credit Limit": the column's label, when its meaning has no name word

    def to_dict(self) -> dict:
        out = {"feature": self.feature, "direction": self.direction, "word": self.word,
               "effect": round(self.strength, 3)}
        if self.level is not None:
            out["level"] = self.level
        if self.tiebreak:
            out["tiebreak"] = True
        return out


def _family(meaning: ColumnMeaning) -> str:
    """Columns sharing their pair of name words (every spend column: "Big Spenders"/"Low-Spend")
    form one family; kids, teenagers and household size form one too."""
    if meaning.role == "household":
        return "household"
    return "|".join(str((meaning.names.get(d) or ("",))[0]) for d in ("higher", "lower"))


def real_gap(stats: dict, kind: str) -> bool:
    """Whether a segment's mean differs from the rest's by more than rounding and noise."""
    mean, rest, overall = stats.get("mean"), stats.get("rest_mean"), stats.get("overall_mean")
    if mean is None or rest is None or overall is None:
        return False
    gap = abs(mean - rest)
    if kind == "boolean":
        return gap >= NAME_GAP
    scale = abs(overall) if abs(overall) > 1e-9 else (stats.get("std") or 0.0)
    return scale > 0 and gap >= NAME_GAP * scale


def _age_word(meaning: ColumnMeaning, stats: dict, direction: str, word: str) -> str:
    mean = stats.get("mean")
    if mean is None:
        return word
    age = CURRENT_YEAR - mean if meaning.role == "birth_year" else mean
    if word == "Older" and age >= SENIOR_AGE:
        return "Senior"
    if word == "Younger" and age <= YOUNG_AGE:
        return "Young"
    return word


def _numeric_traits(report, segment, meanings: dict, threshold: float = NAME_EFFECT) -> list[NameTrait]:
    out = []
    for feature in report.features:
        kind = report.feature_types.get(feature)
        stats = segment.numeric.get(feature)
        meaning = meanings.get(feature)
        if kind not in ("numeric", "boolean", "datetime") or not stats or meaning is None:
            continue
        effect = stats.get("effect_size")
        if effect is None or abs(effect) < threshold or not real_gap(stats, kind):
            continue
        direction = "higher" if effect > 0 else "lower"
        pick = meaning.names.get(direction)
        if not pick:  # a clear difference without a name word: said plainly, used only as a last resort
            words = meaning.label.split()
            if meaning.role in ("id", "personal", "outcome") or not 0 < len(words) <= 3:
                continue
            out.append(NameTrait(feature, direction, f"{'High' if direction == 'higher' else 'Low'} "
                                 f"{' '.join(w[:1].upper() + w[1:] for w in words)}", False, abs(effect),
                                 family=feature, generic=True))
            continue
        word, part = pick[0], pick[1]
        if meaning.role in ("age", "birth_year"):
            word = _age_word(meaning, stats, direction, word)
        out.append(NameTrait(feature, direction, clean_text(word, 40), part == "noun", abs(effect),
                             family=_family(meaning), tiebreak=abs(effect) < NAME_EFFECT))
    return out


def _level_word(meaning: ColumnMeaning | None, level: str) -> tuple[str, bool] | None:
    """(word, is_noun) a category level may give a name, or None (unknown levels never name)."""
    low = str(level).strip().lower()
    if meaning is not None and meaning.role == "channel" and low in _CHANNEL_LEVEL_WORDS:
        return _CHANNEL_LEVEL_WORDS[low], True
    if meaning is None or meaning.role not in ("demographic", "channel"):
        return None
    word = LEVEL_NAME_WORDS.get(low)
    if word is None:
        return None
    return word, word.endswith("s") or word in ("Men", "Women")


def _level_traits(report, segment, meanings: dict) -> list[NameTrait]:
    overall = report.overall.get("categorical") or {}
    effects = {(d["feature"], d.get("level")): d["effect_size"] for d in segment.distinguishing
               if d.get("level") is not None}
    out = []
    for feature in report.features:
        if report.feature_types.get(feature) != "categorical":
            continue
        shares = segment.categorical.get(feature) or {}
        if not shares:
            continue
        meaning = meanings.get(feature)
        level = max(shares, key=lambda lv: (shares[lv], lv))
        share, base = shares[level], (overall.get(feature) or {}).get(level, 0.0)
        spread = math.sqrt(max(base * (1 - base), 1e-12))
        effect = effects.get((feature, level), (share - base) / spread)
        order = ordinal_order(shares)
        if order is not None and meaning is not None and meaning.names:  # a scale in words: Low / High
            direction = "higher" if str(level).lower() == order[-1] else (
                "lower" if str(level).lower() == order[0] else None)
            pick = meaning.names.get(direction) if direction else None
            if pick and share >= NAME_LEVEL_SHARE and effect >= NAME_LEVEL_EFFECT:
                out.append(NameTrait(feature, direction, pick[0], pick[1] == "noun", effect, level, _family(meaning)))
            continue
        found = _level_word(meaning, level)
        if found and share >= NAME_LEVEL_SHARE and effect >= NAME_LEVEL_EFFECT:
            out.append(NameTrait(feature, "level", found[0], found[1], effect, str(level), feature))
    return out


def name_candidates(report, segment, meanings: dict | None = None, tiebreak: bool = False) -> list[NameTrait]:
    """Every word the numbers allow for ``segment``, strongest first (one per column); with
    ``tiebreak``, also numeric words at :data:`TIEBREAK_EFFECT` (after the others)."""
    meanings = meanings if meanings is not None else meanings_from_dict(report.meanings)
    traits = _numeric_traits(report, segment, meanings) + _level_traits(report, segment, meanings)
    if tiebreak:
        weak = [t for t in _numeric_traits(report, segment, meanings, TIEBREAK_EFFECT) if t.tiebreak]
        traits += sorted(weak, key=lambda t: (-t.strength, t.feature))
    # strongest first; in the household family "Parents of ..." before "Kid-Free" (say who they are)
    traits.sort(key=lambda t: (t.generic, t.tiebreak, -t.strength if not t.tiebreak else 0, t.feature))
    traits.sort(key=lambda t: t.family == "household" and t.direction == "lower")
    seen, out = set(), []
    for t in traits:
        if t.word not in seen:
            seen.add(t.word)
            out.append(t)
    return out


def _compose(traits: list[NameTrait]) -> str:
    nouns = [t for t in traits if t.noun]
    adjectives = [t.word for t in traits if not t.noun]
    adjectives.sort(key=lambda w: w not in LEADING_WORDS)  # stable: keeps strength order otherwise
    noun = nouns[0].word if nouns else DEFAULT_NOUN
    return clean_text(" ".join(adjectives + [noun]))


def _pick(candidates: list[NameTrait], extra: int = 0) -> list[NameTrait]:
    """The strongest words that fit one name: one noun, up to two describing words (plus ``extra``)."""
    chosen: list[NameTrait] = []
    families: set = set()
    for t in candidates:
        if t.family in families:
            continue
        if t.noun and any(c.noun for c in chosen) and t.word in NOUN_ADJECTIVES:
            t = dataclasses.replace(t, word=NOUN_ADJECTIVES[t.word], noun=False)
        n_adj = sum(not c.noun for c in chosen)
        if (t.noun and any(c.noun for c in chosen)) or (not t.noun and n_adj >= MAX_ADJECTIVES + extra):
            continue
        if len(_compose(chosen + [t])) >= MAX_NAME_LENGTH:
            continue
        chosen.append(t)
        families.add(t.family)
        if len(chosen) >= 3 + extra:
            break
    return chosen


def _key(name: str) -> frozenset:
    """Names that differ only in word order share a key."""
    return frozenset(name.lower().split())


def _with_suffix(name: str, suffix: str) -> str:
    room = MAX_NAME_LENGTH - len(suffix)
    if len(name) > room:
        name = name[:room].rsplit(" ", 1)[0] if " " in name[:room] else name[:room]
    return name + suffix


def name_segments(report: SegmentationReport) -> SegmentationReport:
    """Return a new report whose segments have persona names; Unassigned keeps its name.

    Each real segment gets :func:`name_candidates`' strongest words; segments whose names
    would match (or differ only in word order) each add their next real difference until
    the names part; a segment with no clear difference is "Mainstream Customers". The words
    used and their evidence go to ``Segment.name_traits``.
    """
    meanings = meanings_from_dict(report.meanings)
    real = sorted(report.real_segments, key=lambda s: s.id)
    candidates = {s.id: name_candidates(report, s, meanings) for s in real}
    picked = {sid: _pick([t for t in c if not t.generic]) or _pick(c)[:1] for sid, c in candidates.items()}
    names = {sid: _compose(p) if p else TYPICAL_NAME for sid, p in picked.items()}
    for extra in (1, 2, 3):
        if extra == 3:  # still clashing: weaker (but real, same-direction) differences may tell them apart
            candidates = {s.id: name_candidates(report, s, meanings, tiebreak=True) for s in real}
        groups: dict = {}
        for sid, name in names.items():
            groups.setdefault(_key(name), []).append(sid)
        clashing = [ids for ids in groups.values() if len(ids) > 1]
        if not clashing:
            break
        for ids in clashing:
            for sid in ids:
                others = {w for o in ids if o != sid for w in names[o].lower().split()}
                fresh = [t for t in candidates[sid] if t not in picked[sid] and t.word.lower() not in others]
                if fresh:
                    picked[sid] = _pick(picked[sid] + fresh[:1], extra)
                    names[sid] = _compose(picked[sid])
    taken: set = {_key(NOISE_NAME)}
    for s in real:  # anything still shared in substance: numbered in segment order
        name, n = names[s.id], 1
        while _key(name) in taken:
            n += 1
            name = _with_suffix(names[s.id], f" ({n})")
        names[s.id] = name
        taken.add(_key(name))
    renamed = report.with_names(names)
    updates = {sid: {"name_traits": [t.to_dict() for t in picked[sid]]} for sid in picked}
    return renamed.with_segment_updates(updates)


__all__ = ["name_segments", "name_candidates", "real_gap", "clean_text", "NameTrait", "NAME_EFFECT",
           "NAME_LEVEL_SHARE", "TYPICAL_NAME"]
