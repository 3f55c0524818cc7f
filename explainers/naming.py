"""Persona names built from each segment's top drivers, in plain words.

"High-Spend Frequent Buyers", "Discount-Driven Low-Basket Buyers", "Young Online Shoppers":
each name takes the segment's two strongest drivers and says them with a small vocabulary
read from the column names' words (spend, order, discount, age, days since, ...). Columns
the vocabulary does not know are humanised ("annual_spend" -> "Annual Spend"). Names are
deterministic, unique, at most 60 characters, plain text: column names and levels come
from the user's table, so control characters are removed and the templates escape the rest.
"""
from __future__ import annotations

import re
import unicodedata

from segmenter.report import MAX_NAME_LENGTH, NOISE_NAME, SegmentationReport

from .format import is_acronym

#: Word rules, first match wins: (column-name tokens, word when higher, word when lower, noun).
#: A token matches a whole word of the column name ("age" does not match "usage"). The noun
#: ("Buyers", "Shoppers") ends the name; a word marked with "!" is itself the noun.
VOCABULARY: tuple[tuple[frozenset, str, str, str], ...] = (
    (frozenset({"days", "recency", "last", "since", "lapsed", "inactive"}), "Lapsed", "Recent", "Customers"),
    (frozenset({"tenure", "signup", "joined", "registration", "seniority"}), "Long-Standing", "New", "Customers"),
    (frozenset({"discount", "discounts", "coupon", "coupons", "promo", "promotion", "deal", "deals", "voucher"}),
     "Discount-Driven", "Full-Price", "Buyers"),
    (frozenset({"return", "returns", "returned", "refund", "refunds"}), "High-Return", "Low-Return", "Buyers"),
    (frozenset({"basket", "aov", "ticket"}), "Big-Basket", "Low-Basket", "Buyers"),
    (frozenset({"spend", "spending", "revenue", "sales", "amount", "bill", "monetary", "clv", "ltv"}),
     "High-Spend", "Low-Spend", "Buyers"),
    (frozenset({"income", "salary", "wage"}), "High-Income", "Low-Income", "Customers"),
    (frozenset({"price", "value"}), "High-Value", "Low-Value", "Buyers"),
    (frozenset({"order", "orders", "purchase", "purchases", "frequency", "visits", "visit", "transactions",
                "trips"}), "Frequent", "Occasional", "Buyers"),
    (frozenset({"age"}), "Senior", "Young", "Customers"),
    (frozenset({"app", "mobile"}), "App-First", "Non-App", "Shoppers"),
    (frozenset({"online", "web", "digital", "ecommerce", "internet"}), "Online", "In-Store", "Shoppers"),
    (frozenset({"loyalty", "member", "membership", "subscriber"}), "!Loyalty Members", "Non-Member", "Customers"),
)
#: Words saying when (age, recency, tenure) come first: "Young Online Shoppers".
LEADING_WORDS = frozenset({"Lapsed", "Recent", "Long-Standing", "New", "Senior", "Young"})
DEFAULT_NOUN = "Customers"
_AVERAGE_ORDER = (frozenset({"avg", "average", "mean"}), frozenset({"order", "basket", "ticket", "transaction"}))
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def clean_text(text: object, limit: int = MAX_NAME_LENGTH) -> str:
    """Text without control/format characters, whitespace collapsed, cut to ``limit`` characters."""
    text = unicodedata.normalize("NFC", str(text))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
                   for ch in _CONTROL.sub(" ", text))
    return " ".join(text.split())[:limit].strip()


def _tokens(column: str) -> list[str]:
    return [t.lower() for t in _WORDS.findall(clean_text(column, 200))]


def humanise(column: str) -> str:
    """A column name as Title Case words: "annual_spend" -> "Annual Spend", "avgOrderValue" ->
    "Avg Order Value", "CASH_ADVANCE" -> "Cash Advance". Acronyms ("CLV") stay upper case;
    other characters are kept as plain text."""
    text = re.sub(r"(?<=[a-z\d])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", clean_text(column, 200))
    words = [w if is_acronym(w) else w[:1].upper() + (w[1:].lower() if w.isupper() else w[1:])
             for w in re.split(r"[\s_\-.]+", text) if w]
    return " ".join(words) or "Unnamed Column"


def _lower_words(column: str) -> str:
    return " ".join(w if is_acronym(w) else w.lower() for w in humanise(column).split())


def describe_feature(feature: str, direction: str, level: str | None = None) -> str:
    """A driver in a few plain words: "higher annual spend", "mostly 'store' preferred channel"."""
    if level is not None:
        return f"mostly '{clean_text(level, 40)}' {_lower_words(feature)}"
    return f"{'higher' if direction == 'higher' else 'lower'} {_lower_words(feature)}"


def _level_word(level: str) -> str:
    words = [w[:1].upper() + w[1:] for w in re.split(r"[\s_\-]+", clean_text(level, 24)) if w]
    return "-".join(words) + "-Preferring" if words else ""


def trait(feature: str, direction: str, level: str | None = None) -> tuple[str, str]:
    """(words, noun) saying one driver in a name: ("High-Spend", "Buyers")."""
    if level is not None:
        word = _level_word(level)
        return (word or f"Mostly {humanise(feature)}"), DEFAULT_NOUN
    tokens = set(_tokens(feature))
    higher = direction == "higher"
    if tokens & _AVERAGE_ORDER[0] and tokens & _AVERAGE_ORDER[1]:
        return ("Big-Basket" if higher else "Low-Basket"), "Buyers"
    for keys, high, low, noun in VOCABULARY:
        if tokens & keys:
            return (high if higher else low), noun
    return f"{'High' if higher else 'Low'} {humanise(feature)}", DEFAULT_NOUN


def _compose(traits: list[tuple[str, str]]) -> str:
    """Adjectives (when-words first) and one noun; a "!"-word is the noun itself."""
    nouns = [w[1:] for w, _ in traits if w.startswith("!")]
    words = [w for w, _ in traits if not w.startswith("!")]
    words = sorted(words, key=lambda w: w not in LEADING_WORDS)  # stable: keeps driver order otherwise
    noun = nouns[0] if nouns else next((n for _, n in traits if n != DEFAULT_NOUN), DEFAULT_NOUN)
    adjectives = clean_text(" ".join(words), MAX_NAME_LENGTH - len(noun) - 1)  # long words give way
    return clean_text(f"{adjectives} {noun}")


def _traits(segment, limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` distinct traits from the drivers (else the profile's clear differences)."""
    source = segment.drivers or [d for d in segment.distinguishing if abs(d.get("effect_size") or 0) >= 0.5]
    out: list[tuple[str, str]] = []
    for d in source:
        t = trait(str(d["feature"]), d.get("direction", "higher"), d.get("level"))
        if t[0] not in {w for w, _ in out}:
            out.append(t)
        if len(out) == limit:
            break
    return out


def _with_suffix(name: str, suffix: str) -> str:
    room = MAX_NAME_LENGTH - len(suffix)
    if len(name) > room:
        name = name[:room].rsplit(" ", 1)[0] if " " in name[:room] else name[:room]
    return name + suffix


def name_segments(report: SegmentationReport) -> SegmentationReport:
    """Return a new report whose segments have persona names; Unassigned keeps its name."""
    real = sorted(report.real_segments, key=lambda s: s.id)
    names = {}
    for s in real:
        traits = _traits(s, 2)
        names[s.id] = _compose(traits) if traits else f"Segment {s.id}"

    def clashes() -> set:
        seen: dict = {}
        for sid, name in names.items():
            seen.setdefault(name.lower(), []).append(sid)
        return {sid for ids in seen.values() if len(ids) > 1 for sid in ids} | \
            {sid for sid, name in names.items() if name.lower() == NOISE_NAME.lower()}

    for s in real:
        if s.id in clashes():
            traits = _traits(s, 3)
            if len(traits) == 3:
                names[s.id] = _compose(traits)
    taken: set = {NOISE_NAME.lower()}
    for s in real:  # anything still shared: numbered in segment order
        name, n = names[s.id], 1
        while name.lower() in taken:
            n += 1
            name = _with_suffix(names[s.id], f" ({n})")
        names[s.id] = name or f"Segment {s.id}"
        taken.add(name.lower())
    return report.with_names(names)


__all__ = ["name_segments", "humanise", "describe_feature", "trait", "clean_text", "VOCABULARY"]
