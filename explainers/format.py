"""Number and text formatting shared by persona cards, actions, explanations and plots.

Every number a marketer reads is formatted here, from a value taken from the report:
templates never compute or round. Labels and units come from each column's meaning
(:mod:`segmenter.meanings`: "spend on wines", "$61k" for a k$ column, "23%" for a share,
"1966" for a birth year, "days"); without one, from the column name's words, and no
currency is assumed. Text that comes from the table is escaped for the output it lands in
(Markdown here; HTML by Jinja's autoescape; Plotly by :func:`plotly_text`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: Column-name tokens that mean money; shown as plain numbers (no currency is assumed).
MONEY_TOKENS = frozenset({"spend", "spent", "amount", "value", "price", "income", "revenue", "bill",
                          "cost", "salary", "balance", "payment", "payments", "sales", "monetary",
                          "clv", "ltv", "aov"})
#: Column-name tokens that describe a share or rate (shown as percentages when in 0..1).
SHARE_TOKENS = frozenset({"share", "rate", "ratio", "fraction", "proportion", "pct", "percent"})
#: Column-name tokens that describe a count per year.
PER_YEAR_TOKENS = frozenset({"orders"})
#: Columns whose values are ages or durations in years.
YEAR_TOKENS = frozenset({"age", "tenure", "years"})
#: Demographic-looking column tokens, used to pick the "who they are" mix on a card.
DEMOGRAPHIC_TOKENS = frozenset({"gender", "sex", "region", "country", "city", "state", "area",
                                "location", "age", "band", "group", "generation", "marital",
                                "education", "occupation", "income", "household", "language",
                                "postcode", "zip", "province", "segment", "status"})

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#!|~])")
_SCHEME = re.compile(r"(?<=[A-Za-z0-9]):(?=//)")  # https://, ftp://, javascript://
_WWW = re.compile(r"(?i)(?<![A-Za-z0-9])(www)\.")
_AT = re.compile(r"(?<=[\w.+-])@(?=[\w-])")  # name@host


def tokens(name: str) -> list[str]:
    """Lower-case word tokens of a column name: ``"daysSinceLastOrder"`` -> days, since, last, order."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    return [t for t in re.split(r"[^0-9A-Za-z]+", spaced.lower()) if t]


def has_phrase(name: str, phrase: str) -> bool:
    """Whether the tokens of ``phrase`` (e.g. ``"days_since"``) appear in order in ``name``."""
    words = "_" + "_".join(tokens(name)) + "_"
    return "_" + "_".join(tokens(phrase)) + "_" in words


MAX_ACRONYM = 3  # letters of an all-capitals word kept as an acronym


def is_acronym(word: str) -> bool:
    """``CLV``, ``TRX``: short capitals stay as they are; ``CASH`` is a word in capitals."""
    return word.isupper() and 1 < len(word) <= MAX_ACRONYM


def humanize(name: str) -> str:
    """A column name in plain words: ``"orders_per_year"``, ``"OrdersPerYear"`` -> ``"orders per year"``.

    Short capitals stay (``CLV``, ``TRX``: acronyms); longer ones are a shouted word
    (``CASH_ADVANCE`` -> ``"cash advance"``). Only case and separators change; the text
    stays data and must still be escaped on output.
    """
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    words = re.sub(r"[_\s]+", " ", spaced).strip().split(" ")
    text = " ".join(w if is_acronym(w) else w.lower() for w in words)
    return text or str(name)


def _decimals(value: float) -> int:
    magnitude = abs(value)
    if magnitude >= 10 or magnitude == 0 or value == round(value):
        return 0
    if magnitude >= 1:
        return 1
    if magnitude >= 0.005:
        return 2
    return 1 - math.floor(math.log10(magnitude))  # tiny values: two significant figures


def fmt_number(value: float | None, decimals: int | None = None) -> str:
    """A number for reading, the one rule for every number we show (cards, charts, explanations).

    Whole numbers without decimals; otherwise 0 decimals from 10 up, 1 below 10, 2 below 1, and
    two significant figures for tiny values (0.00012); thousands separated; "n/a" when missing.
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    value = float(value)
    tiny = decimals is None and 0 < abs(value) < 0.005
    if decimals is None:
        decimals = _decimals(value)
        rounded = round(value, decimals)
        if not tiny and _decimals(rounded) < decimals:  # 9.96 -> "10", not "10.0"
            decimals = _decimals(rounded)
    text = f"{value:,.{decimals}f}"
    if tiny:
        text = text.rstrip("0")  # "0.004", not "0.0040"
    return "0" if text.lstrip("-").strip("0.") == "" else text


def fmt_count(value: int | float) -> str:
    """A count of customers or items: ``1,234``."""
    return f"{int(round(value)):,}"


def fmt_pct(share: float | None) -> str:
    """A share in 0..1 as a percentage, the one rule for every share we show (cards, chat,
    explanations, charts): 0.234 -> ``"23%"``; below 10% one decimal (0.033 -> ``"3.3%"``); below
    0.1% two significant figures; 0 -> ``"0%"``."""
    if share is None or not math.isfinite(share):
        return "n/a"
    pct = share * 100
    if pct == 0:
        return "0%"
    if abs(pct) < 0.1:
        return f"{pct:.2g}%"
    if abs(pct) < 9.95:
        text = f"{pct:.1f}"
        return (text[:-2] if text.endswith(".0") else text) + "%"
    return f"{pct:.0f}%"


def fmt_ratio(ratio: float | None) -> str:
    """A multiple: 2.43 -> ``"2.4x"``; from 10 up without decimals."""
    if ratio is None or not math.isfinite(ratio):
        return ""
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def fmt_score(value: float | None) -> str:
    """A score such as silhouette, stability or importance, with two decimals."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.2f}"


def ratio_of(a: float | None, b: float | None) -> float | None:
    """``a / b`` when both are positive, else None (ratios of signed values mislead)."""
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or a <= 0 or b <= 0:
        return None
    return a / b


def is_share_like(name: str, stats: dict | None) -> bool:
    """A numeric column whose values all lie in 0..1 (shown as percentages)."""
    if not stats:
        return False
    lo, hi = stats.get("min"), stats.get("max")
    if lo is None or hi is None:
        return False
    in_unit = 0 <= lo and hi <= 1
    return in_unit and (bool(SHARE_TOKENS & set(tokens(name))) or hi - lo > 0)


def unit_of(name: str, kind: str = "numeric") -> str:
    """The unit words shown after a value of column ``name`` (may be empty).

    ``days_since_*`` and datetime columns (stored as days before the reference date) give
    "days"; ``*_per_year``/``orders`` "a year"; ``*_per_month`` "a month"; ages "years".
    Money columns give no unit: no currency is assumed.
    """
    words = set(tokens(name))
    if kind == "datetime" or has_phrase(name, "days_since") or "days" in words:
        return "days"
    if has_phrase(name, "per_year") or has_phrase(name, "per_annum"):
        return "a year"
    if has_phrase(name, "per_month") or "monthly" in words:
        return "a month"
    if has_phrase(name, "per_week") or "weekly" in words:
        return "a week"
    if words & PER_YEAR_TOKENS and not words & MONEY_TOKENS:
        return "a year"
    if words & YEAR_TOKENS:
        return "years"
    return ""


def feature_label(name: str, kind: str = "numeric") -> str:
    """Plain-words label of a feature; datetime columns read as "days since <name>"."""
    label = humanize(name)
    if kind == "datetime" and not has_phrase(name, "days_since"):
        return f"days since {label}"
    return label


def is_demographic(name: str) -> bool:
    return bool(DEMOGRAPHIC_TOKENS & set(tokens(name)))


# ----------------------------------------------------------------- meanings
#: A mean below this share of the other one is "almost none": no ratio on a base near zero.
NEAR_ZERO = 0.05
_TIME_UNITS = ("days", "weeks", "months", "years")
_CURRENCY = {"$": "$", "€": "€", "£": "£", "k$": "$", "k€": "€", "k£": "£"}


def meaning_of(report, feature: str):
    """The column's meaning from the report (None for reports or columns without one)."""
    finder = getattr(report, "meaning", None)
    return finder(feature) if finder is not None else None


def label(report, feature: str) -> str:
    """How a column is called everywhere: its meaning's label, else its name in plain words."""
    meaning = meaning_of(report, feature)
    if meaning is not None and meaning.label:
        return meaning.label
    return feature_label(feature, report.feature_types.get(feature, "numeric"))


def is_percent(report, feature: str) -> bool:
    """Values shown as percentages: yes/no shares, share and frequency roles, % units."""
    kind = report.feature_types.get(feature, "numeric")
    if kind == "boolean":
        return True
    meaning = meaning_of(report, feature)
    if meaning is not None:
        return kind == "numeric" and meaning.is_percent
    return kind == "numeric" and is_share_like(feature, (report.overall.get("numeric") or {}).get(feature))


def _percent_of(report, feature: str, value: float) -> str:
    meaning = meaning_of(report, feature)
    if meaning is not None and tuple(meaning.scale) == (0, 100):
        return f"{fmt_number(value)}%"
    return fmt_pct(value)


def value_text(report, feature: str, value: float | None) -> str:
    """One value of a column as a marketer reads it: '23%', '$61k', '1966', '4,213'."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if is_percent(report, feature):
        return _percent_of(report, feature, value)
    meaning = meaning_of(report, feature)
    if meaning is not None and (meaning.role == "birth_year" or meaning.unit == "year"):
        return f"{value:.0f}"
    if meaning is not None and meaning.unit in _CURRENCY:
        sign, text = ("-" if value < 0 else ""), fmt_number(abs(value))
        return f"{sign}{_CURRENCY[meaning.unit]}{text}{'k' if meaning.unit.startswith('k') else ''}"
    return fmt_number(value)


def unit_words(report, feature: str) -> str:
    """The unit said after a value ('days', 'years'), '' when the value or label says it already."""
    if is_percent(report, feature):
        return ""
    meaning = meaning_of(report, feature)
    if meaning is None:
        return unit_of(feature, report.feature_types.get(feature, "numeric"))
    if meaning.unit in _TIME_UNITS and meaning.unit not in meaning.label.split():
        return meaning.unit
    return ""


def is_about_people(report, feature: str) -> bool:
    """Who the customers are (gender, marital status, household): the "who they are" mix of a card."""
    meaning = meaning_of(report, feature)
    if meaning is not None:
        return meaning.role in ("demographic", "household")
    return is_demographic(feature)


def inert_links(escaped: str) -> str:
    """Already-escaped Markdown text with nothing a renderer would link on its own.

    Markdown renderers with GFM autolinks (Gradio's Markdown and Chatbot among them) turn bare
    ``https://...``, ``www....`` and ``name@host`` into links. A backslash escape before the
    ``:`` of ``://``, the ``.`` of ``www.`` and the ``@`` renders as nothing, so the text reads
    the same but is no longer a link.
    """
    escaped = _SCHEME.sub(r"\\:", escaped)
    escaped = _WWW.sub(r"\1\\.", escaped)
    return _AT.sub(r"\\@", escaped)


def md_escape(text: object) -> str:
    """Make table text inert in Markdown: HTML tags, links (also bare web and e-mail addresses),
    emphasis and table pipes.

    ``<``/``>``/``&`` become entities; Markdown punctuation gets a backslash; line
    breaks become spaces so a value cannot start a heading, list or table row.
    """
    value = " ".join(str(text).split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return inert_links(_MD_SPECIAL.sub(r"\\\1", value))


def plotly_text(text: object) -> str:
    """Escape text for Plotly labels and hover text, which render a subset of HTML."""
    value = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("\n", " ")



# ----------------------------------------------------------------- traits
@dataclass(frozen=True)
class TraitRow:
    """One way a segment differs from everybody, with the numbers behind it (all formatted).

    ``kind`` picks the wording: "numeric" (value, overall, unit), "percent" (a 0..1 column
    shown as percentages), "boolean" (share of yes) or "categorical" (share of ``level``).
    ``ratio`` is segment / overall when higher and overall / segment when lower
    (empty when the ratio is not meaningful: signed values or nearly equal).
    """

    kind: str
    label: str
    level: str
    direction: str
    value: str
    overall: str
    unit: str
    ratio: str
    source: str  # "driver" (SHAP) or "difference" (effect size)


#: Ratios closer to 1 than this are not shown ("1.0x" says nothing).
MIN_SHOWN_RATIO = 1.1


def _shown_ratio(segment_value: float | None, overall_value: float | None) -> str:
    up = ratio_of(segment_value, overall_value)
    if up is None:
        return ""
    ratio = up if up >= 1 else 1 / up
    return fmt_ratio(ratio) if ratio >= MIN_SHOWN_RATIO else ""


def trait_row(report, segment, feature: str, level: str | None = None,
              source: str = "difference") -> TraitRow | None:
    """Describe how ``segment`` differs on ``feature`` (and ``level`` for categoricals).

    Reads only the report's statistics. Returns None when the report holds no numbers
    for the feature in this segment.
    """
    kind = report.feature_types.get(feature) or ("profile" if feature in (report.profile_columns or []) else "numeric")
    name = label(report, feature)
    if kind in ("categorical", "profile"):
        shares = (segment.categorical if kind == "categorical" else segment.profile).get(feature) or {}
        overall = (report.overall.get(kind if kind == "categorical" else "profile") or {}).get(feature) or {}
        lifts = segment.categorical_lift.get(feature) or {} if kind == "categorical" else {
            lv: shares[lv] / overall[lv] for lv in shares if overall.get(lv)}
        if level is None or level not in shares:
            candidates = [lv for lv in shares if shares[lv] >= 0.05 and lv in lifts] or list(lifts)
            if not candidates:
                return None
            level = max(candidates, key=lambda lv: (lifts[lv], lv))
        seg_share, all_share = shares.get(level), overall.get(level)
        if seg_share is None or all_share is None:
            return None
        direction = "higher" if seg_share >= all_share else "lower"
        return TraitRow("categorical", name, str(level), direction, fmt_pct(seg_share),
                        fmt_pct(all_share), "", _shown_ratio(seg_share, all_share), source)
    stats = segment.numeric.get(feature)
    if not stats or stats.get("mean") is None or stats.get("overall_mean") is None:
        return None
    mean, overall_mean = stats["mean"], stats["overall_mean"]
    direction = "higher" if mean >= overall_mean else "lower"
    ratio = _shown_ratio(mean, overall_mean)
    shown = value_text(report, feature, mean)
    if min(abs(mean), abs(overall_mean)) < NEAR_ZERO * max(abs(mean), abs(overall_mean)):
        ratio = ""  # a ratio on a base near zero ("105877x lower") says nothing
        if abs(mean) < abs(overall_mean) and not is_percent(report, feature):
            shown = "almost none"
    if kind == "boolean":
        return TraitRow("boolean", name, "", direction, fmt_pct(mean), fmt_pct(overall_mean), "", ratio, source)
    if is_percent(report, feature):
        return TraitRow("percent", name, "", direction, shown, value_text(report, feature, overall_mean),
                        "", ratio, source)
    return TraitRow("numeric", name, "", direction, shown, value_text(report, feature, overall_mean),
                    unit_words(report, feature), ratio, source)


def trait_text(trait: TraitRow) -> str:
    """A trait as one plain sentence fragment (raw text: escape it for the output format)."""
    if trait.kind == "categorical":
        return f"{trait.label} '{trait.level}': {trait.value} vs {trait.overall} overall"
    if trait.kind == "boolean":
        return f"{trait.label}: {trait.value} vs {trait.overall} overall"
    unit = f" {trait.unit}" if trait.kind == "numeric" and trait.unit else ""
    return f"{trait.label}: {trait.value} vs {trait.overall}{unit} on average"

__all__ = ["tokens", "has_phrase", "humanize", "fmt_number", "fmt_count", "fmt_pct", "fmt_ratio", "label", "value_text",
           "unit_words", "is_percent", "meaning_of", "is_about_people", "NEAR_ZERO",
           "fmt_score", "ratio_of", "is_share_like", "unit_of", "feature_label", "is_demographic",
           "md_escape", "inert_links", "plotly_text", "TraitRow", "trait_row", "trait_text"]
