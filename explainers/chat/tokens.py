"""Questions as tokens: normalising, numbers with their written form, stems, typo fixing.

Every step is one pass over the text (no backtracking regular expressions), so a long
question costs its length. Numbers keep how they were written ("70k", "$500", "12%") because
what they mean depends on the column they are compared with (a k$ income, a 0-1 share).
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from types import MappingProxyType

NUMBER_WORDS = MappingProxyType({
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20})
ORDINALS = MappingProxyType({
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8,
    "9th": 9, "10th": 10})
#: Phrases glued into one token before matching (the right side is what the parser sees).
PHRASES: tuple[tuple[str, str], ...] = (
    ("sign up", "signup"), ("signed up", "signup"), ("e mail", "email"), ("standard deviation", "std"),
    ("how old", "howold"), ("how many", "howmany"), ("how much", "howmuch"), ("how often", "howoften"),
    ("how long", "howlong"), ("in store", "instore"), ("on line", "online"), ("web site", "website"),
    ("one off", "oneoff"), ("pay in full", "payinfull"), ("paid in full", "payinfull"),
    ("pays in full", "payinfull"), ("paying in full", "payinfull"), ("not in any", "notinany"),
    ("not in a", "notinany"), ("no segment", "notinany"), ("per segment", "persegment"),
    ("by segment", "persegment"), ("each segment", "persegment"), ("every segment", "persegment"),
    ("for each", "foreach"), ("across segments", "persegment"), ("by group", "persegment"),
    ("per group", "persegment"), ("each group", "persegment"), ("by cluster", "persegment"),
    ("per cluster", "persegment"), ("each cluster", "persegment"), ("all segments", "allsegments"),
    ("opt ins", "opt in"), ("opted in", "opt in"), ("opted out", "opt out"),
)
_SUFFIXES = ("ings", "ing", "ers", "er", "ies", "ied", "ed", "es", "ly", "s")
#: numbers ("2,000", "1.5", "70k", "3m"), words in any script, comparison signs, "%", "#", "$".
_TOKEN = re.compile(r"-?\d+(?:\.\d+)?(?:k|m|bn)?(?![^\W\d_])|[^\W\d_][^\W_]*|\d+[^\W\d_][^\W_]*|>=|<=|!=|==|[<>=#%$€£+]")
_MULTIPLIERS = {"": 1.0, "k": 1e3, "m": 1e6, "bn": 1e9}


@dataclass(frozen=True)
class Token:
    """One question token: ``text`` as typed (lower case), ``stem``, ``number`` when numeric.

    For numbers ``suffix`` keeps a written multiplier ("k"), ``currency`` a sign written
    before it ("$") and ``percent`` a "%" or "percent" written after it.
    """

    text: str
    stem: str
    number: float | None = None
    suffix: str = ""
    currency: str = ""
    percent: bool = False


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


def normalise(question: str) -> str:
    """Lower case, plain quotes and dashes, ``n't`` -> `` not``, thousands commas dropped, phrases glued;
    a dash is a space ("e-mail", "30-40") except as the sign of a number ("segment -1")."""
    text = unicodedata.normalize("NFKC", str(question)).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-").replace("\u2014", "-")
    text = re.sub(r"n't\b", " not", text)
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(?<![\w.])-(?=\d)", "\ue000", text)  # a minus sign ("segment -1", "below -50") stays
    text = re.sub(r"[-_/]", " ", text).replace("\ue000", "-")
    text = " ".join(text.split())
    text = _PAY_IN_FULL.sub("payinfull", text)
    for phrase, glued in PHRASES:
        if phrase in text:
            text = re.sub(rf"\b{phrase}\b", glued, text)
    return text


#: "pay their balance in full", "paid the bill in full": one idea, one token.
_PAY_IN_FULL = re.compile(r"\b(?:pay|pays|paid|paying)(?: (?:their|the|its|his|her|my|your|our|off))?"
                          r"(?: (?:balance|bill|card|statement))? in full\b")


def _number(text: str) -> tuple[float, str] | None:
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)(k|m|bn)?", text)
    if not match:
        return None
    return float(match.group(1)) * _MULTIPLIERS[match.group(2) or ""], match.group(2) or ""


def words_of(question: str) -> list[str]:
    """The token texts of :func:`tokenize`, without stems or numbers (for the refusal rules)."""
    return [p for p in _TOKEN.findall(normalise(question)) if p not in ("$", "€", "£")]


def tokenize(question: str) -> list[Token]:
    """Tokens of a question; numbers parsed (``2k`` = 2000) with their sign, suffix and percent."""
    raw = _TOKEN.findall(normalise(question))
    out: list[Token] = []
    for i, piece in enumerate(raw):
        if piece in ("$", "€", "£"):
            continue
        parsed = _number(piece)
        if parsed is None:
            out.append(Token(piece, stem(piece)))
            continue
        value, suffix = parsed
        currency = raw[i - 1] if i > 0 and raw[i - 1] in ("$", "€", "£") else ""
        percent = i + 1 < len(raw) and raw[i + 1] in ("%", "percent", "pct")
        out.append(Token(piece, piece, value, suffix, currency, percent))
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
    unrelated words ("email" vs "male") apart. A dropped letter is a typo ("yung" for young);
    an extra one only towards a word of five letters or more: "wine" is not a typo of "win".
    """
    if word in known or len(word) < 4 or not word.isalpha():
        return word
    cap = 2 if len(word) >= 9 else 1
    for candidate in difflib.get_close_matches(word, known_list, n=5, cutoff=0.7):
        if candidate[0] == word[0] and abs(len(candidate) - len(word)) <= cap \
                and (len(candidate) >= len(word) or len(candidate) >= 5) \
                and _edit_distance(word, candidate, cap) <= cap:
            return candidate
    return word


def int_of(token: Token) -> int | None:
    """A whole number written in digits or words ("3", "three"), else None."""
    if token.number is not None and float(token.number).is_integer() and not token.suffix:
        return int(token.number)
    return NUMBER_WORDS.get(token.text)


__all__ = ["Token", "tokenize", "words_of", "normalise", "stem", "same_word", "correct", "int_of", "NUMBER_WORDS", "ORDINALS"]
