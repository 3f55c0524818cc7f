"""What each column of a customer table means, in the words its users speak.

``infer_meaning(name, values)`` reads a column's name (camel case, ``ALL_CAPS``, prefixes
such as ``Mnt``/``Num``, glued words such as ``Kidhome``, unit hints such as ``(k$)`` or
``(1-100)``) and its values (0-1 shares, whole counts, years, dates, phone numbers) and
returns a :class:`ColumnMeaning`: a plain label ("spend on wines"), a role (money, count,
recency, age, ...), a unit, the everyday words and verbs people use for it ("spend",
"bought"; "kids", "children"), how high and low values read, and the words a segment name
may use. Every guess that could be wrong is stated in ``ambiguity``; the user can correct
any field (:func:`apply_overrides`) and every surface (names, cards, actions, chat,
plots) reads the corrected meaning from the report.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import lexicon as lx
from .errors import ColumnError, ParameterError

#: The roles a column can have, with what they mean (shown to users editing meanings).
ROLES = {
    "id": "one key per customer",
    "outcome": "an existing label or outcome (profiled per segment, never used to build segments)",
    "personal": "personal data (never used, never shown)",
    "money": "an amount of money (spent, held or owed)",
    "income": "what customers earn",
    "count": "a number of purchases, visits or other events",
    "frequency": "how often something happens (a share of periods, 0-1 or 0-100)",
    "share": "a proportion or percentage",
    "recency": "time since the last purchase or visit",
    "tenure": "how long someone has been a customer",
    "age": "age in years",
    "birth_year": "year of birth",
    "household": "people in the household (kids, teenagers, family size)",
    "experience": "years of work experience",
    "campaign": "a response to a marketing campaign",
    "complaint": "a complaint",
    "score": "a score or rating on a scale",
    "demographic": "who the customer is (gender, marital status, education, job, place)",
    "channel": "where or how the customer buys",
    "flag": "a yes/no fact about the customer",
    "category": "a category",
    "date": "a date (used as days before the latest date)",
    "measure": "a number",
}
UNITS = ("", "currency", "$", "€", "£", "k$", "k€", "k£", "%", "days", "weeks", "months", "years", "points", "year")
SOURCES = ("inferred", "user", "llm")
MAX_LABEL_CHARS = 60
CURRENT_YEAR = 2026
_HINT = re.compile(r"[(\[]([^()\[\]]{1,20})[)\]]")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[a-z]{2,24}", re.IGNORECASE)
_PHONE = re.compile(r"\+?[\d][\d ()./-]{6,20}\d")
_PERSON_NAME = re.compile(r"[A-Z][a-z'\-]{1,20}(?: [A-Z][a-z'\-]{1,20}){1,3}")
_CODE = re.compile(r"[A-Za-z]{1,6}[-_]?\d{3,12}|\d{3,12}[-_]?[A-Za-z]{1,6}")


@dataclass(frozen=True)
class ValueProfile:
    """What a column's values look like (computed once by the schema inference).

    ``base`` is "number", "bool", "date", "text" or "nested"; numbers give ``lo``/``hi``
    (finite range), ``whole`` (all whole numbers) and ``in_unit`` (share inside 0..1);
    dates give their year range; text gives the lower-cased ``levels`` (up to 30 most
    common) and shares of values that look like e-mails, phone numbers, person names
    or codes (letters and digits in a fixed pattern).
    """

    base: str
    n: int
    n_filled: int
    n_unique: int
    lo: float | None = None
    hi: float | None = None
    whole: bool = False
    in_unit: float = 0.0
    year_lo: int | None = None
    year_hi: int | None = None
    levels: tuple[str, ...] = ()
    email_share: float = 0.0
    phone_share: float = 0.0
    person_share: float = 0.0
    code_share: float = 0.0
    code_lengths: int = 0  # distinct lengths among code-like values (1 = a fixed pattern)


@dataclass(frozen=True)
class ColumnMeaning:
    """One column in the words of the business (JSON-safe; every field can be overridden).

    ``names`` holds the words a segment name may use when a segment is clearly higher or
    lower: ``{"higher": [word, "adj" | "noun"], "lower": [...]}`` (a missing direction
    means "never name a segment after this").
    """

    column: str
    label: str
    role: str
    unit: str = ""
    scale: tuple = ()  # (lo, hi) for shares (0, 1) / (0, 100) and bounded scores (1, 100)
    subject: str = ""  # what it is about: "wines", "web", "deals", "kids"
    tags: tuple = ()  # "spend", "channel:web", "product", "deal", "per:month", "ordinal" ...
    words: tuple = ()  # words people use for it (synonyms, subject words)
    verbs: tuple = ()  # verbs that ask about it ("spend", "bought")
    high: str = ""  # how a higher value reads: "spends more on wines"
    low: str = ""
    names: dict = field(default_factory=dict)
    ambiguity: str = ""  # what could be wrong with this reading, in plain words
    source: str = "inferred"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["scale"], out["tags"], out["words"], out["verbs"] = (list(self.scale), list(self.tags),
                                                                 list(self.words), list(self.verbs))
        out["names"] = {k: list(v) for k, v in self.names.items()}
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "ColumnMeaning":
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        for key in ("scale", "tags", "words", "verbs"):
            d[key] = tuple(d.get(key) or ())
        d["names"] = {k: tuple(v) for k, v in (d.get("names") or {}).items()}
        return cls(**d)

    def has_tag(self, tag: str) -> bool:
        return tag in self.tags

    @property
    def channel(self) -> str:
        return next((t.split(":", 1)[1] for t in self.tags if t.startswith("channel:")), "")

    @property
    def is_percent(self) -> bool:
        """Values read as percentages (shown with %): shares, frequencies, % units."""
        return self.unit == "%" or self.role in ("share", "frequency")


# ----------------------------------------------------------------------------- name words
def _split_glued(word: str) -> list[str]:
    """'kidhome' -> ['kid', 'home'] when the word is two or three lexicon words glued."""
    if len(word) < 6 or word in lx.SPLIT_LEXICON:
        return [word]
    best: dict[int, list[str]] = {0: []}
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 12), end):
            piece = word[start:end]
            if start in best and piece in lx.SPLIT_LEXICON and len(piece) >= 3:
                candidate = best[start] + [piece]
                if end not in best or len(candidate) < len(best[end]):
                    best[end] = candidate
    parts = best.get(len(word))
    return parts if parts and len(parts) <= 3 else [word]


def _camel_split(piece: str) -> list[str]:
    """'MntMeatProducts' -> Mnt Meat Products, 'CASH' stays, 'WebVisits2' -> Web Visits 2; any script."""
    out, start = [], 0
    for i in range(1, len(piece)):
        a, b = piece[i - 1], piece[i]
        nxt = piece[i + 1] if i + 1 < len(piece) else ""
        if (a.islower() and b.isupper()) or (a.isupper() and b.isupper() and nxt.islower()) \
                or (a.isdigit() != b.isdigit() and not (a.isalpha() and i - start == 1)):
            # a one-letter code before its digits stays whole ("v00", "Q3"); "WebVisits2" splits
            out.append(piece[start:i])
            start = i
    out.append(piece[start:])
    return [p for p in out if p]


def name_tokens(name: str) -> tuple[list[str], list[str]]:
    """(lower-case word tokens with abbreviations expanded, unit hints from brackets)."""
    text = str(name)
    hints = [h.strip().lower() for h in _HINT.findall(text)]
    text = _HINT.sub(" ", text)
    raw = [p for piece in re.findall(r"[^\W_]+", text) for p in _camel_split(piece)]
    out: list[str] = []
    for token in raw:
        low = token.lower()
        for part in ([low] if low in lx.ABBREVIATIONS else _split_glued(low)):
            out.append(lx.ABBREVIATIONS.get(part, part))
    return [t for t in out if t], hints


def _has(tokens: list[str], *phrase: str) -> bool:
    n = len(phrase)
    return any(tuple(tokens[i:i + n]) == phrase for i in range(len(tokens) - n + 1))


# ----------------------------------------------------------------------------- roles
def _personal(tokens: list[str], v: ValueProfile) -> str:
    """Why the column is personal data, or ''."""
    words = set(tokens)
    if v.email_share >= 0.5:
        return "its values are e-mail addresses"
    if v.phone_share >= 0.8 and (words & (lx.PERSONAL_WORDS | lx.PERSONAL_IF_VALUES) or v.n_unique >= 0.5 * v.n_filled):
        return "its values look like phone numbers"
    if v.base == "number" and v.whole and v.lo is not None and v.lo >= 1e6 and v.hi < 1e15 \
            and words & {"phone", "telephone", "mobile", "cell", "contact"}:
        return "its values look like phone numbers"
    if v.person_share >= 0.8 and v.n_unique >= 0.5 * v.n_filled:
        return "its values look like people's names"
    if "birthdate" in words or _has(tokens, "date", "birth") or _has(tokens, "birth", "date") \
            or (words & {"birthday"}):
        return "it holds exact birth dates"
    if v.base == "date" and "birth" in words:
        return "it holds exact birth dates"
    if words & {"email", "address", "street", "zipcode", "postcode", "postal", "ssn", "passport", "iban",
                "surname", "firstname", "lastname", "fullname", "password", "ip", "phone", "telephone"}:
        return "its name says it holds personal data"
    if "name" in words and v.base == "text" and v.n_unique >= 0.3 * max(v.n_filled, 1):
        return "its name says it holds people's names"
    if _has(tokens, "zip", "code") or _has(tokens, "post", "code"):
        return "its name says it holds postcodes"
    return ""


def _role(tokens: list[str], v: ValueProfile, kind: str) -> str:
    words = set(tokens)
    if words & lx.OUTCOME_WORDS and (kind in ("categorical", "boolean") or v.n_unique <= 20):
        return "outcome"
    if _has(tokens, "year", "birth") or _has(tokens, "birth", "year") or "birthyear" in words \
            or (words & {"born"} and v.base == "number"):
        return "birth_year"
    if _has(tokens, "since", "last") or _has(tokens, "last", "purchase") or _has(tokens, "last", "order") \
            or _has(tokens, "last", "visit") or _has(tokens, "last", "login"):
        return "recency"
    if kind == "datetime" and words & {"customer", "member", "signup", "joined", "registration", "registered",
                                       "enrolled", "first", "since", "start", "created", "opened", "account"}:
        return "tenure"
    if _has(tokens, "customer", "since") or _has(tokens, "member", "since"):
        return "tenure"
    for role, keys in lx.ROLE_WORDS:
        if words & keys:
            if role == "count" and v.base == "number" and not v.whole and "visits" not in words:
                continue  # "purchases" in money columns; counts are whole numbers
            if role == "money" and "number" in words and v.whole:
                return "count"
            if role == "household" and kind not in ("numeric", "boolean"):
                return "demographic"
            if role in ("demographic", "channel") and kind == "numeric":
                continue
            return role
    if kind == "boolean":
        return "flag"
    if kind == "categorical":
        channel = _channel(tokens)
        return "channel" if channel else "category"
    if kind == "datetime":
        return "date"
    if words & lx.DEAL_WORDS or _channel(tokens):
        return "count" if v.whole else "share" if v.in_unit >= 0.99 else "measure"
    return "measure"


def _channel(tokens: list[str]) -> str:
    words = set(tokens)
    return next((name for name, (keys, _) in lx.CHANNELS.items() if words & keys), "")


# ----------------------------------------------------------------------------- units
def _unit_and_scale(tokens: list[str], hints: list[str], role: str, v: ValueProfile,
                    kind: str = "numeric") -> tuple[str, tuple, str]:
    """(unit, scale, ambiguity) from bracket hints, words and values."""
    words = set(tokens)
    if kind == "datetime":
        return "days", (), ""
    for hint in hints:
        compact = hint.replace(" ", "")
        if compact in ("k$", "$k", "k€", "€k", "k£", "£k", "kusd", "thousands", "000s", "'000"):
            cur = next((c for c in "$€£" if c in compact), "$")
            return f"k{cur}", (), ""
        if compact in ("$", "usd", "€", "eur", "£", "gbp"):
            return {"usd": "$", "eur": "€", "gbp": "£"}.get(compact, compact), (), ""
        if compact in ("%", "pct", "percent"):
            return "%", (0, 100), ""
        scale = re.fullmatch(r"(-?\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)", compact)
        if scale:
            lo, hi = float(scale.group(1)), float(scale.group(2))
            return "points", (_num(lo), _num(hi)), ""
        if compact in ("days", "weeks", "months", "years"):
            return compact, (), ""
    if role in ("share", "frequency"):
        if v.hi is not None and v.hi <= 1.0 + 1e-9 or v.in_unit >= 0.98:
            extra = "" if v.hi is None or v.hi <= 1 else (
                f"a few values are above 1 (up to {v.hi:g}) although it reads as a share of 0-1")
            return "%", (0, 1), extra
        return "%", (0, 100), ""
    if role in ("money", "income"):
        return "currency", (), ""
    if role in ("age", "experience"):
        return "years", (), ""
    if role == "birth_year":
        return "year", (), ""
    for unit in ("days", "weeks", "months", "years"):
        if unit in words or unit[:-1] in words and role in ("recency", "tenure"):
            return unit, (), ""
    if role == "recency":
        return "days", (), "the name does not give a unit: read as days since the last purchase"
    if role == "tenure":
        if v.base == "date":
            return "days", (), ""
        if v.hi is not None and v.hi <= 12:
            return "months", (), (f"the name does not give a unit: values {_num(v.lo)}-{_num(v.hi)} are read as "
                                  "months; set the unit to years if that is wrong")
        return "months", (), "the name does not give a unit: read as months"
    if role == "date":
        return "days", (), ""
    if role == "score" and v.lo is not None and v.hi is not None:
        return "points", (), ""
    return "", (), ""


def _num(x: float | None):
    if x is None:
        return None
    return int(x) if float(x).is_integer() else float(x)


# ----------------------------------------------------------------------------- labels
def _subject(tokens: list[str], role: str) -> str:
    """What the column is about, without the role words: 'wines', 'meat products', 'web'."""
    drop = {"amount", "number", "total", "of", "on", "the", "in", "per", "z"}
    rest = [t for t in tokens if t not in drop and not t.isdigit()]
    if role == "money" and tokens[:1] == ["amount"]:
        return " ".join(rest)
    return ""


def _per(tokens: list[str]) -> str:
    last = tokens[-1] if tokens else ""
    for unit in ("month", "year", "week", "day"):
        if last == unit or _has(tokens, "per", unit):
            return unit
    return ""


def _label(tokens: list[str], role: str, kind: str, subject: str, name: str = "") -> str:
    words = [t for t in tokens if t not in ("z",)]
    if not any(any(ch.isalpha() for ch in w) for w in words):  # "{{ 7*7 }}": no words to say it with
        return " ".join(str(name).split())[:60] or "column"
    if role == "money" and subject:
        return f"spend on {subject}"
    if role == "household":
        who = [t for t in words if t in ("kid", "teen")]
        if who and "home" in words:
            return {"kid": "kids at home", "teen": "teenagers at home"}[who[0]]
    if role == "birth_year":
        return "birth year"
    if role == "recency" and not ({"days", "since"} <= set(words)) and "recency" in words:
        return "days since last purchase"
    if role == "tenure" and kind == "datetime":
        return "days as a customer"
    if role == "campaign" and "accepted" in words and "campaign" in words:
        number = next((t for t in words if t.isdigit()), "")
        return f"accepted campaign {number}".strip()
    if role == "complaint" and len(words) == 1:
        return "complained"
    if kind == "datetime":
        return "days since " + " ".join(w for w in words if w != "date") if len(words) > 1 else "days since date"
    if {"purchases", "instalments"} <= set(words) or {"purchases", "one-off"} <= set(words):
        kind_word = "instalment" if "instalments" in words else "one-off"
        rest = [w for w in words if w not in ("purchases", "instalments", "one-off")]
        words = [kind_word, "purchase" if "frequency" in rest else "purchases"] + rest
    if role == "frequency" or (role == "count" and "transactions" in words):
        words = ["purchase" if w == "purchases" else w for w in words]
    words = ["instalment" if w == "instalments" else w for w in words]
    per = _per(words)
    if role == "count" and words[:1] == ["number"]:
        body = [w for w in words[1:] if w not in ("month", "year", "week", "day", "per")]
        body = ["deal" if w == "deals" and i + 1 < len(body) else w for i, w in enumerate(body)]
        text = " ".join(body) or "count"
        return f"{text} per {per}" if per else text
    if per and words[-1] == per and "per" not in words:
        return " ".join(words[:-1] + ["per", per])
    if role == "share" and words[:1] == ["percent"]:
        return "share of " + " ".join(words[1:]) if len(words) > 1 else "share"
    return " ".join(words) or "column"


# ----------------------------------------------------------------------------- words
def _words(tokens: list[str], role: str, subject: str, channel: str, label: str) -> tuple:
    out: list[str] = [label]
    out += [t for t in tokens if len(t) > 2 and not t.isdigit() and t not in ("amount", "number", "the", "per")]
    for t in tokens + subject.split():
        out += list(lx.SUBJECT_SYNONYMS.get(t, ()))
    if channel:
        out += list(lx.CHANNELS[channel][1])
    if role in ("income", "age"):
        out += list(lx.SUBJECT_SYNONYMS[role])
    if role == "birth_year":
        out += list(lx.SUBJECT_SYNONYMS["age"]) + ["born", "birth", "year of birth"]
    if set(tokens) & lx.DEAL_WORDS:
        out += list(lx.SUBJECT_SYNONYMS["deals"])
    out += list(lx.ROLE_SYNONYMS.get(role, ()))
    if role == "count" and set(tokens) & lx.BUYING_WORDS and not set(tokens) & {"cash", "advance"}:
        out += ["often", "howoften", "frequently", "frequent", "regularly"]  # "orders per year": how often they buy
    if role == "money" and (set(tokens) & {"basket", "aov"} or _has(tokens, "order", "value")):
        out += list(lx.BASKET_WORDS)
    if {"full", "payment"} <= set(tokens):
        out += list(lx.ROLE_SYNONYMS["full_payment"])
    return tuple(dict.fromkeys(w for w in out if w))


def _verbs(role: str, tokens: list[str], tags: tuple) -> tuple:
    if "spend" in tags or "basket" in tags:  # "spends the most per order"
        return lx.SPEND_VERBS
    if set(tokens) & lx.PLACE_WORDS:
        return lx.LIVE_VERBS
    if role == "flag" and set(tokens) & {"user", "users"}:  # "app user": do they use the app
        return ("use", "uses", "used", "using")
    if role in ("count", "frequency") and "buying" in tags:
        return lx.BUY_VERBS
    if role == "income":
        return ("earn", "earns", "earned", "earning", "make", "makes")
    if role == "money" and set(tokens) & {"payments", "payment", "bill", "bills", "charge", "charges", "fee", "fees"}:
        return ("pay", "pays", "paid", "paying", "repay", "repays", "repaid")
    if role in ("campaign", "outcome"):
        return ("accept", "accepted", "accepts", "respond", "responded", "responds", "converted")
    if role == "complaint":
        return ("complain", "complained", "complains")
    if "visits" in tags:
        return ("visit", "visits", "visited", "browse", "browses", "browsed")
    return ()


def _tags(tokens: list[str], role: str, subject: str) -> tuple:
    words = set(tokens)
    tags = []
    channel = _channel(tokens)
    if channel:
        tags.append(f"channel:{channel}")
    if words & lx.DEAL_WORDS:
        tags.append("deal")
    if role == "money" and not (words & lx.NOT_SPENT) and (
            subject or words & {"spend", "spent", "spending", "purchases", "purchase", "sales", "revenue",
                                "monetary", "clv", "ltv", "gmv", "spendings", "amount"}):
        tags.append("spend")
    if role == "money" and subject:
        tags.append("product")
    if role in ("count", "frequency") and words & lx.BUYING_WORDS \
            and not words & {"cash", "advance"}:
        tags.append("buying")
    if "visits" in words:
        tags.append("visits")
    if words & {"cash", "advance"} and role in ("money", "count", "frequency"):
        tags.append("cash_advance")
    if words & {"loyalty", "member", "membership", "vip"}:
        tags.append("loyalty")
    if words & {"returns", "returned", "refund", "refunds", "return"}:
        tags.append("returns")
    if role == "money" and (words & {"basket", "aov"} or _has(tokens, "order", "value")):
        tags.append("basket")
    if words & {"instalments", "instalment"}:
        tags.append("instalment")
    if role == "share" and {"full", "payment"} <= words:
        tags.append("full_payment")
    per = _per(tokens)
    if per:
        tags.append(f"per:{per}")
    return tuple(tags)


def _phrases(role: str, label: str, subject: str, tags: tuple) -> tuple[str, str]:
    """How a higher and a lower value read ('spends more on wines', 'is younger')."""
    if "spend" in tags:
        return (f"spends more on {subject}", f"spends less on {subject}") if subject else \
            ("spends more", "spends less")
    simple = {
        "income": ("earns more", "earns less"), "age": ("is older", "is younger"),
        "birth_year": ("was born later (is younger)", "was born earlier (is older)"),
        "recency": ("last bought longer ago", "bought more recently"),
        "tenure": ("has been a customer longer", "joined more recently"),
        "experience": ("has more work experience", "has less work experience"),
    }
    if role in simple:
        return simple[role]
    if role == "household":
        return f"has more {label}", f"has fewer {label}"
    if role == "count":
        return f"makes more {label}", f"makes fewer {label}"
    if role in ("flag", "campaign", "complaint"):
        return f"more often {label}", f"less often {label}"
    return f"higher {label}", f"lower {label}"


def _title(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


_SINGULAR = {"wines": "Wine", "fruits": "Fruit", "meat products": "Meat", "fish products": "Fish",
             "sweet products": "Sweets", "gold prods": "Gold", "gold products": "Gold", "meat": "Meat",
             "fish": "Fish", "sweets": "Sweets", "gold": "Gold"}
_CHANNEL_NOUNS = {"web": "Online Shoppers", "store": "In-Store Shoppers", "catalog": "Catalog Shoppers",
                  "app": "App Shoppers"}


def _name_words(role: str, tokens: list[str], subject: str, tags: tuple, kind: str, label: str) -> dict:
    """Words a segment name may use for this column, per direction (see ColumnMeaning.names)."""
    words = set(tokens)
    channel = next((t.split(":", 1)[1] for t in tags if t.startswith("channel:")), "")
    if role in ("id", "outcome", "personal", "category", "measure", "date"):
        return {}
    if role in ("money", "count", "frequency") and words & {"one-off"}:
        return {"higher": ("One-Off Buyers", "noun")}
    if role in ("money", "count", "frequency") and words & {"instalments", "instalment"}:
        return {"higher": ("Instalment Buyers", "noun")}
    if "spend" in tags:
        if subject:
            noun = _SINGULAR.get(subject, _title(subject.split()[0]))
            return {"higher": (f"{noun} Lovers", "noun")}
        return {"higher": ("Big Spenders", "noun"), "lower": ("Low-Spend", "adj")}
    if "cash_advance" in tags:
        return {"higher": ("Cash-Advance Users", "noun")}
    if role == "money":
        head = [w for w in tokens if w not in ("amount", "total")][:2]
        if words & {"limit"}:
            return {"higher": ("High-Limit", "adj"), "lower": ("Low-Limit", "adj")}
        if words & {"balance"}:
            return {"higher": ("High-Balance", "adj"), "lower": ("Low-Balance", "adj")}
        if words & {"minimum"}:
            return {}
        if words & {"payments", "payment"}:
            return {"higher": ("Heavy-Paying", "adj")}
        if words & {"value", "basket", "aov"} or _has(tokens, "order", "value"):
            return {"higher": ("Big-Basket", "adj"), "lower": ("Small-Basket", "adj")}
        if len(head) == 1:
            return {"higher": (f"High-{_title(head[0])}", "adj"), "lower": (f"Low-{_title(head[0])}", "adj")}
        return {}
    if role == "income":
        return {"higher": ("Affluent", "adj"), "lower": ("Lower-Income", "adj")}
    if role in ("count", "frequency", "share"):
        if channel and "visits" in tags:
            return {"higher": ("Frequent Web Visitors" if channel == "web" else f"Frequent {_title(channel)} "
                               "Visitors", "noun")}
        if channel:
            return {"higher": (_CHANNEL_NOUNS[channel], "noun"),
                    **({"lower": ("Offline", "adj")} if channel in ("web", "app") and role == "share" else {})}
        if "deal" in tags:
            return {"higher": ("Deal-Seeking", "adj"), "lower": ("Full-Price", "adj")}
        if "returns" in tags:
            return {"higher": ("High-Return", "adj"), "lower": ("Low-Return", "adj")}
        if "buying" in tags or (role == "count" and "visits" in tags):
            return {"higher": ("Frequent", "adj"), "lower": ("Occasional", "adj")}
        if role == "share" and words & {"full", "payment"}:
            return {"higher": ("Pay-in-Full", "adj")}
        return {}
    if role == "recency":
        return {"higher": ("Lapsed", "adj"), "lower": ("Recent", "adj")}
    if role == "tenure":
        return {"higher": ("Long-Standing", "adj"), "lower": ("New", "adj")}
    if role == "age":
        return {"higher": ("Older", "adj"), "lower": ("Younger", "adj")}  # naming sharpens to Senior / Young
    if role == "birth_year":  # born later = younger
        return {"higher": ("Younger", "adj"), "lower": ("Older", "adj")}
    if role == "household":
        if "kid" in words:
            return {"higher": ("Parents of Young Kids", "noun"), "lower": ("Kid-Free", "adj")}
        if "teen" in words:
            return {"higher": ("Parents of Teens", "noun"), "lower": ("Teen-Free", "adj")}
        return {"higher": ("Large-Household", "adj"), "lower": ("Small-Household", "adj")}
    if role == "experience":
        return {"higher": ("Experienced", "adj"), "lower": ("Less-Experienced", "adj")}
    if role == "campaign":
        return {"higher": ("Campaign-Responsive", "adj")}
    if role == "complaint":
        return {"higher": ("Complaint-Prone", "adj")}
    if role == "score":
        if words & {"spending", "spend", "spent"}:
            return {"higher": ("Big Spenders", "noun"), "lower": ("Cautious", "adj")}
        return {"higher": ("High-Scoring", "adj"), "lower": ("Low-Scoring", "adj")}
    if role == "flag" or (role == "demographic" and kind == "boolean"):
        if "loyalty" in tags:
            return {"higher": ("Loyalty Members", "noun"), "lower": ("Non-Member", "adj")}
        if channel == "app":
            return {"higher": ("App-First", "adj"), "lower": ("Non-App", "adj")}
        if words & {"married"}:
            return {"higher": ("Married", "adj"), "lower": ("Unmarried", "adj")}
        if words & {"graduated", "graduate"}:
            return {"higher": ("Graduate", "adj"), "lower": ("Non-Graduate", "adj")}
        if words & {"newsletter", "subscribed", "subscriber", "opt", "optin"}:
            return {"higher": ("Newsletter Subscribers", "noun")}
        return {}
    return {}  # demographic/channel categories are named by their levels (see naming)


# ----------------------------------------------------------------------------- entry points
def infer_meaning(name: str, values: ValueProfile, kind: str = "numeric") -> ColumnMeaning:
    """The meaning of one column from its name and values (``kind`` is the schema's kind)."""
    tokens, hints = name_tokens(name)
    why_personal = _personal(tokens, values)
    if why_personal:
        return ColumnMeaning(column=str(name), label=" ".join(tokens) or str(name), role="personal",
                             ambiguity=f"left out because {why_personal}")
    if kind == "id":
        return ColumnMeaning(column=str(name), label="customer ID", role="id")
    role = _role(tokens, values, kind)
    subject = _subject(tokens, role)
    channel = _channel(tokens)
    if not subject and channel:
        subject = channel
    tags = _tags(tokens, role, subject)
    if role == "score" and kind == "categorical" and _ordinal(values.levels):
        tags += ("ordinal",)
    unit, scale, ambiguity = _unit_and_scale(tokens, hints, role, values, kind)
    label = _label(tokens, role, kind, subject if role == "money" else "", name)
    high, low = _phrases(role, label, subject, tags)
    if role == "category" and not ambiguity and len(tokens) <= 2 and any(t.isdigit() for t in tokens):
        ambiguity = "the name does not say what this column means; give it a label if you know it"
    if role == "measure" and not ambiguity:
        ambiguity = "the name does not say what kind of number this is"
    return ColumnMeaning(
        column=str(name), label=label, role=role, unit=unit, scale=scale, subject=subject, tags=tags,
        words=_words(tokens, role, subject, channel, label), verbs=_verbs(role, tokens, tags), high=high, low=low,
        names={k: tuple(v) for k, v in _name_words(role, tokens, subject, tags, kind, label).items()},
        ambiguity=ambiguity)


def _ordinal(levels: tuple) -> tuple | None:
    low = {str(x).lower() for x in levels}
    return next((order for order in lx.ORDINAL_LEVELS if low and low <= set(order) and len(low) >= 2), None)


def ordinal_order(levels) -> tuple | None:
    """The low-to-high order of levels written as a scale in words ("Low", "Average", "High")."""
    return _ordinal(tuple(levels))


def relate_meanings(meanings: dict) -> dict:
    """What one column means beside the others: a "Response" outcome next to numbered campaign
    columns (AcceptedCmp1..5) is the response to the latest campaign, stated as a reading."""
    numbered = [m for m in meanings.values() if m.role == "campaign" and any(t.isdigit() for t in
                                                                             name_tokens(m.column)[0])]
    if len(numbered) < 2:
        return meanings
    out = dict(meanings)
    for column, m in meanings.items():
        tokens = name_tokens(column)[0]
        if m.role == "outcome" and set(tokens) <= {"response", "responded", "respond"} and m.source == "inferred":
            out[column] = replace(
                m, label="response to the last campaign",
                words=tuple(dict.fromkeys([*m.words, "last campaign", "latest campaign", "recent campaign",
                                           "campaign", "campaigns"])),
                ambiguity="read as the response to the latest campaign, since the earlier campaigns are "
                          "numbered columns")
    return out


# ----------------------------------------------------------------------------- overrides
_EDITABLE = ("label", "role", "unit", "scale", "subject", "words", "verbs", "high", "low", "names")


def apply_overrides(meanings: dict, overrides: dict | None, source: str = "user") -> dict:
    """Meanings with the user's corrections merged in: ``{column: {field: value}}``.

    A correction must name an existing column and fields this layer knows; a role must
    be one of :data:`ROLES` and a unit one of :data:`UNITS`. Words are added to the
    inferred ones; every other field replaces the inferred value.
    """
    if not overrides:
        return dict(meanings)
    if not isinstance(overrides, dict):
        raise ParameterError("Column meanings must be given as {column: {field: value}}, e.g. "
                             "{\"MntWines\": {\"label\": \"wine spend\"}}.")
    out = dict(meanings)
    for column, change in overrides.items():
        if column not in out:
            raise ColumnError(f"The meanings name a column '{column}' that is not in the table; the columns are "
                              f"{', '.join(list(out)[:20])}.")
        if not isinstance(change, dict):
            raise ParameterError(f"The meaning of '{column}' must be a set of fields such as label, role, unit.")
        unknown = sorted(set(change) - set(_EDITABLE))
        if unknown:
            raise ParameterError(f"Unknown field(s) {unknown} in the meaning of '{column}'; the fields are "
                                 f"{', '.join(_EDITABLE)}.")
        if "role" in change and change["role"] not in ROLES:
            raise ParameterError(f"'{change['role']}' is not a role; choose one of {', '.join(ROLES)}.")
        if "unit" in change and change["unit"] not in UNITS:
            raise ParameterError(f"'{change['unit']}' is not a unit; choose one of "
                                 f"{', '.join(u for u in UNITS if u)} (or empty).")
        current = out[column]
        values = {}
        for key, value in change.items():
            if key in ("words", "verbs"):
                value = tuple(dict.fromkeys([*getattr(current, key), *[str(w).lower() for w in value]]))
            elif key == "scale":
                value = tuple(float(x) for x in value)
                if len(value) not in (0, 2):
                    raise ParameterError(f"The scale of '{column}' needs two numbers (lowest, highest).")
            elif key == "names":
                value = {d: tuple(v) for d, v in dict(value).items() if d in ("higher", "lower")}
            else:
                value = str(value)
            if value != getattr(current, key):
                values[key] = value
        if not values:  # the file repeats what was inferred: nothing to correct
            continue
        if "label" in values and "words" not in change:
            values["words"] = tuple(dict.fromkeys([values["label"].lower(), *current.words]))
        updated = replace(current, **values, source=source, ambiguity="")
        if "role" in values:
            relabel = infer_meaning_for_role(updated)
            updated = replace(relabel, **values, source=source, ambiguity="")
        out[column] = updated
    return out


#: The fields a person edits in a table of meanings (the others follow from them or from a file).
ROW_FIELDS = ("label", "role", "unit")


def meaning_rows(meanings: dict, columns: list | None = None) -> list[dict]:
    """One row per column to edit: ``{column, label, role, unit, note}`` (the note says what
    could be wrong with the inferred reading, or who set it)."""
    out = []
    for column in columns if columns is not None else list(meanings):
        m = meanings.get(column)
        if m is None:
            continue
        note = m.ambiguity or ("set by you" if m.source == "user" else "proposed by the LLM" if m.source == "llm"
                               else "")
        out.append({"column": str(column), "label": m.label, "role": m.role, "unit": m.unit, "note": note})
    return out


def overrides_from_rows(meanings: dict, rows: list[dict]) -> dict:
    """The corrections a table of edited rows makes: ``{column: {field: value}}`` for the
    fields of :data:`ROW_FIELDS` that differ from ``meanings`` (checked by :func:`apply_overrides`)."""
    out: dict = {}
    for row in rows:
        column = str(row.get("column", "")).strip()
        if not column:
            continue
        if column not in meanings:
            raise ColumnError(f"The meanings name a column '{column[:60]}' that is not in the table.")
        current = meanings[column]
        change = {}
        for key in ROW_FIELDS:
            if key not in row or row[key] is None:
                continue
            value = " ".join(str(row[key]).split())
            if key == "label" and not value:
                raise ParameterError(f"The label of '{column}' is empty; write what the column means, e.g. "
                                     f"'spend on wines'.")
            if len(value) > MAX_LABEL_CHARS:
                raise ParameterError(f"The {key} of '{column}' is {len(value)} characters long; keep it under "
                                     f"{MAX_LABEL_CHARS}.")
            if value != getattr(current, key):
                change[key] = value
        if change:
            out[column] = change
    apply_overrides(meanings, out)  # every change checked before it is kept
    return out


_NUMBER_ROLES = frozenset({"money", "income", "count", "frequency", "share", "recency", "tenure", "age",
                           "birth_year", "household", "experience", "score", "measure"})
_TEXT_ROLES = frozenset({"demographic", "channel", "category"})


def role_fits(role: str, values: ValueProfile) -> str:
    """'' when the values can have ``role``, else why not in plain words (checks a proposed role:
    an LLM's, or a file's, against what the column holds)."""
    if role not in ROLES:
        return f"'{role}' is not a role"
    number = values.base in ("number", "bool") and values.lo is not None
    if role in _NUMBER_ROLES and values.base == "date" and role in ("tenure", "recency"):
        return ""
    if role in _NUMBER_ROLES and not number:
        return f"a {role.replace('_', ' ')} column holds numbers, and this one holds {values.base} values"
    if role in _TEXT_ROLES and values.base not in ("text", "bool") and values.n_unique > 20:
        return f"a {role} column holds a few categories, and this one has {values.n_unique:,} different numbers"
    lo, hi = values.lo, values.hi
    checks = {"age": (0, 120, "ages from 0 to 120"), "birth_year": (1900, CURRENT_YEAR, f"years 1900-{CURRENT_YEAR}"),
              "household": (0, 30, "from 0 to 30 people"), "experience": (0, 80, "from 0 to 80 years")}
    if role in checks and number:
        low, high, words = checks[role]
        if lo < low or hi > high:
            return f"its values run from {lo:g} to {hi:g}, not {words}"
    if role == "share" and number and (lo < 0 or hi > 100):
        return f"a share runs from 0 to 1 or 0 to 100, and these values run from {lo:g} to {hi:g}"
    if role in ("count", "household") and number and (lo < 0 or not values.whole):
        return "a count holds whole numbers of 0 or more"
    if role in ("flag", "campaign", "complaint") and values.n_unique > 2:
        return f"a yes/no column holds two values, and this one has {values.n_unique:,}"
    return ""


def infer_meaning_for_role(meaning: ColumnMeaning) -> ColumnMeaning:
    """Re-derive the phrasing and name words of a meaning whose role the user changed."""
    tokens, _ = name_tokens(meaning.column)
    tags = _tags(tokens, meaning.role, meaning.subject)
    high, low = _phrases(meaning.role, meaning.label, meaning.subject, tags)
    return replace(meaning, tags=tags, high=high, low=low,
                   names={k: tuple(v) for k, v in _name_words(meaning.role, tokens, meaning.subject, tags,
                                                              "numeric", meaning.label).items()})


def read_overrides(path: str | Path) -> dict:
    """Corrections from a JSON or YAML file: ``{column: {label, role, unit, words, ...}}``."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"No meanings file at '{path}'.")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # either parser's error, worded once
        raise ParameterError(f"'{path.name}' could not be read as "
                             f"{'YAML' if path.suffix.lower() in ('.yaml', '.yml') else 'JSON'}: {exc}") from exc
    if not isinstance(data, dict):
        raise ParameterError(f"'{path.name}' must hold {{column: {{field: value}}}}.")
    return {c: {k: v for k, v in change.items() if k != "note"} if isinstance(change, dict) else change
            for c, change in data.items()}


def write_overrides(meanings: dict, path: str | Path) -> Path:
    """Write the editable fields (label, role, unit, words) of every meaning to a JSON or YAML file
    that :func:`read_overrides` reads back; a column's note goes along as ``note`` (ignored on read)."""
    path = Path(path)
    if path.suffix.lower() not in (".json", ".yaml", ".yml"):
        raise ParameterError(f"'{path.name}': write the meanings to a .json, .yaml or .yml file.")
    data = {c: {"label": m.label, "role": m.role, "unit": m.unit, "words": list(m.words[:8]),
                **({"note": m.ambiguity} if m.ambiguity else {})} for c, m in meanings.items()
            if m.role not in ("personal",)}
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        import yaml

        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def meanings_to_dict(meanings: dict) -> dict:
    return {c: m.to_dict() for c, m in meanings.items()}


def meanings_from_dict(data: dict | None) -> dict:
    return {c: ColumnMeaning.from_dict(d) for c, d in (data or {}).items()}


# ----------------------------------------------------------------------------- value profiles
def text_shares(texts: np.ndarray, counts: np.ndarray) -> dict:
    """Shares of filled cells that look like e-mails, phone numbers, person names, codes."""
    if not len(texts):
        return {}
    take = np.argsort(-counts, kind="stable")[:2000]
    sample, weight = [str(t)[:80] for t in texts[take]], counts[take].astype(float)
    total = weight.sum() or 1.0

    def share(pattern: re.Pattern) -> float:
        return float(sum(w for t, w in zip(sample, weight) if pattern.fullmatch(t)) / total)

    codes = [t for t in sample if _CODE.fullmatch(t)]
    return {"email_share": share(_EMAIL), "phone_share": share(_PHONE), "person_share": share(_PERSON_NAME),
            "code_share": share(_CODE), "code_lengths": len({len(c) for c in codes})}


__all__ = ["ColumnMeaning", "ValueProfile", "ROLES", "UNITS", "ROW_FIELDS", "infer_meaning", "apply_overrides",
           "meaning_rows", "overrides_from_rows", "write_overrides", "role_fits", "relate_meanings",
           "read_overrides", "meanings_to_dict", "meanings_from_dict", "name_tokens", "text_shares",
           "ordinal_order"]
