"""Question -> operation + arguments, without an LLM.

The parser first refuses what it must never answer (instructions to change how it works,
personal details, predictions, questions about cause), then finds a customer id, then reads
the question's mentions (:mod:`explainers.chat.mentions`: segments, columns, levels,
conditions, statistics) and lets the ordered rules of :mod:`explainers.chat.rules` pick the
operation. Words it cannot account for make it refuse: an unknown column must never be
answered with a different one. Every step is linear in the question's length.
"""
from __future__ import annotations

import re
from typing import Callable

from segmenter.lexicon import CONCEPT_WORDS

from .intent import Intent, refuse
from .mentions import read_facts
from .phrases import PhraseSet
from .rules import decide
from .tokens import NUMBER_WORDS, ORDINALS, Token, correct, stem, tokenize, words_of
from .vocabulary import Vocabulary
from .words import FILLERS, OPERATION_WORDS, PEOPLE

#: Prompt injection, personal details and predictions, as word patterns (see :mod:`.phrases`):
#: matched over the question's tokens in one pass, whatever its length.
INJECTION = PhraseSet([
    "ignore ... instruction|instructions|previous|above|prompt|rules|everything", "disregard",
    "system prompt", "systemprompt", "your|the|initial|hidden prompt|instructions|rules|guidelines", "jailbreak*",
    "developer mode", "pretend", "you are now", "act as", "repeat ... above",
    "forget ... instructions|rules|everything", "prompt", "override", "reveal"])
PERSONAL = frozenset({"email", "emails", "phone", "phones", "telephone", "address", "addresses", "postcode",
                      "zipcode", "zip", "ssn", "passport", "password", "passwords", "birthday", "dob", "iban",
                      "contact", "contacts", "surname", "firstname", "lastname", "identity", "mobile"})
PERSONAL_PHRASES = PhraseSet([
    "credit card number*", "date of birth", "social security", "home address|addresses|phone|number|town|city",
    "where does|do|did ... live", "name|names of (the) customer|customers|client|clients|people|person",
    "customer|customers|client|clients|their|his|her|full|first|last|people name|names", "who is customer",
    "customer* ... name|names|named|called", "what is|s ... name", "card|cards|account|accounts number|numbers",
    "name|names of ... customer|customers|buyers|buyer|spenders|shoppers|members|users|people|clients|households"])
FUTURE = PhraseSet([
    "predict|prediction|predictions|predicted|forecast|forecasts|forecasting|future|tomorrow|projection|"
    "projections|projected|will", "going to", "next year|month|quarter|week|season", "churn probability",
    # "more likely to be married" is a share today; "likely to churn" is a forecast
    "likely|unlikely to churn|leave|buy|purchase|respond|cancel|renew|return|stay|spend|switch|upgrade|default|"
    "accept|convert|come|order|visit|pay|quit|lapse|lapsed|die|move"])
CAUSAL = PhraseSet([
    "cause|causes|caused|causing|causal", "lead|leads|led to", "result|results in", "because of", "due to",
    "effect|effects|impact|impacts of", "does|do|did ... make|makes ... spend|buy|earn|pay",
    "if we ... will|would", "influence|influences",
    "would|could|will ... make|makes|get|gets ... spend|buy|earn|pay|more|less",
    "would|could ... increase|raise|boost|lift|drive|improve|reduce|lower"])

def refusal_reason(question: str) -> str | None:
    """"instructions", "personal", "future" or "causal" when the question is out of bounds, else None."""
    return refusal_of_words(words_of(question))


def refusal_of_words(words: list[str]) -> str | None:
    """:func:`refusal_reason` of tokens already split (lower case, as :func:`tokenize` gives them)."""
    if INJECTION.find(words):
        return "instructions"
    if not PERSONAL.isdisjoint(words) or PERSONAL_PHRASES.find(words):
        return "personal"
    if FUTURE.find(words):
        return "future"
    if CAUSAL.find(words):
        return "causal"
    return None


#: Words after which a number word is a number ("at least one", "more than two", "exactly three").
_BEFORE_NUMBER = frozenset({"least", "most", "than", "exactly", "over", "under", "above", "below"})


class Parser:
    """Parses questions about one report. Holds only read-only lookups."""

    def __init__(self, report, vocab: Vocabulary, find_customer: Callable[[str], tuple] | None = None):
        self.report = report
        self.vocab = vocab
        self.find_customer = find_customer
        self.segment_ids = {s.id for s in report.segments}
        known = vocab.known_words() | FILLERS | OPERATION_WORDS | PEOPLE | set(NUMBER_WORDS) | set(ORDINALS)
        self._known = frozenset(known)
        self._known_list = sorted(w for w in known if len(w) >= 3)

    # --------------------------------------------------------------- tokens
    def tokens(self, question: str) -> list[Token]:
        """Tokens with typos fixed towards words this report or the grammar knows (each word once)."""
        out, fixes = [], {}
        for t in tokenize(question):
            if t.number is not None or t.text in self._known or t.stem in self._known or t.text in CONCEPT_WORDS:
                out.append(t)
                continue
            if t.text not in fixes:
                fixes[t.text] = correct(t.text, self._known, self._known_list)
            fixed = fixes[t.text]
            out.append(t if fixed == t.text else Token(fixed, stem(fixed)))
        # a number word right after a comparison is the number ("at least one kid", "more than two")
        return [Token(t.text, t.stem, float(NUMBER_WORDS[t.text])) if t.number is None and t.text in NUMBER_WORDS
                and k > 0 and out[k - 1].text in _BEFORE_NUMBER else t for k, t in enumerate(out)]

    # ---------------------------------------------------------------- parse
    def parse(self, question: str, context: Intent | None = None) -> Intent:
        words = [t.text for t in tokenize(question)]
        reason = refusal_of_words(words)
        if reason and not (reason == "causal" and (_asks_about_drivers(words) or _asks_what_to_do(words))):
            return refuse(reason)
        if self.find_customer is not None:
            found, missing = self.find_customer(question)
            if found is not None:
                return self._customer(found, question)
            if missing is not None:
                return refuse("customer_not_found", customer_id=missing)
        tokens = self.tokens(question)
        if not tokens:
            return Intent("help", {})
        facts = read_facts(tokens, self.vocab, self.report)
        return decide(facts, context, self.vocab, self.report)

    def _customer(self, customer_id: str, question: str) -> Intent:
        """Which segment one customer is in and why; anything else about them is personal."""
        tokens = [t for t in self.tokens(question) if t.text != str(customer_id).lower()]
        facts = read_facts(tokens, self.vocab, self.report)
        stray = [w for w in facts.unknown if w not in str(customer_id).lower()]
        if facts.columns and not any(s in facts.texts for s in ("why", "segment", "group", "cluster", "belong")):
            return refuse("personal")
        if stray and not facts.segments:
            return refuse("personal")
        return Intent("customer_segment", {"customer_id": customer_id})

    # ------------------------------------------------------ single references
    def resolve_segment(self, text: object) -> int | None:
        """A segment id from "2", "segment 2" or a (partial) name; None when unclear."""
        value = str(text).strip()
        if value.lstrip("-").isdigit():
            seg_id = int(value)
            return seg_id if seg_id in self.segment_ids else None
        for seg in self.report.segments:
            if seg.name.lower() == value.lower() or value.lower() in (a.lower() for a in seg.aliases):
                return seg.id
        facts = read_facts(self.tokens(f"segment {value}" if value.isdigit() else value), self.vocab, self.report)
        if len(facts.segments) == 1 and not facts.ambiguous and not facts.bad_segments:
            return facts.segments[0]
        return None

    def resolve_feature(self, text: object) -> str | None:
        """A column from its exact name or plain words ("annual spend"); None when unclear."""
        value = str(text).strip()
        for column in self.vocab.columns:
            if str(column).lower() == value.lower() or self.vocab.label(column).lower() == value.lower():
                return column
        matches = [m for m in self.vocab.match_columns(self.tokens(value), set()) if not m.generic_only]
        if not matches or (len(matches) > 1 and (matches[1].score, matches[1].coverage) ==
                           (matches[0].score, matches[0].coverage)):
            return None
        return matches[0].column if matches[0].coverage >= 0.5 else None

    def resolve_level(self, feature: str, text: object) -> str | None:
        levels = self.vocab.columns[feature].levels if feature in self.vocab.columns else {}
        value = str(text).strip().lower()
        return next((lv for lv in levels if str(lv).lower() == value), None)


def _asks_what_to_do(words: list) -> bool:
    """ "how do we get segment 2 to buy more wine?": a request for actions, not a causal claim."""
    return words[:3] in (["how", "do", "we"], ["how", "can", "we"], ["what", "should", "we"], ["how", "should", "we"])


def _asks_about_drivers(words: list) -> bool:
    """ "what drives segment 2": the explanation's drivers, not a causal claim."""
    return bool(set(words) & {"drivers", "driver", "drives", "driving"}) and not set(words) & {"cause", "causes"}


def counting_question(texts: list) -> bool:
    """ "how many ...", "count ...", "number of ..." (but not "how many percent")."""
    if {"percent", "percentage", "%", "share", "proportion"} & set(texts):
        return False
    return "howmany" in texts or "count" in texts or any(
        a == "number" and b == "of" for a, b in zip(texts, texts[1:], strict=False))


__all__ = ["Parser", "Intent", "refusal_reason", "refusal_of_words", "counting_question"]
