"""Number and text formatting shared by persona cards, actions and plots.

Every number a marketer reads is formatted here, from a value taken from the report:
templates never compute or round. Units are guessed from column-name tokens only
(no currency is assumed), and text that comes from the table is escaped for the
output it lands in (Markdown here; HTML by Jinja's autoescape; Plotly by
:func:`plotly_text`).
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
    if magnitude >= 10 or magnitude == 0:
        return 0
    if magnitude >= 1:
        return 1
    return 2


def fmt_number(value: float | None, decimals: int | None = None) -> str:
    """A plain number: 0 decimals from 10 up, 1 below 10, 2 below 1; thousands separated."""
    if value is None or not math.isfinite(value):
        return "n/a"
    places = _decimals(value) if decimals is None else decimals
    text = f"{value:,.{places}f}"
    return "0" if text in ("-0", "-0.0", "-0.00") else text


def fmt_count(value: int | float) -> str:
    """A count of customers or items: ``1,234``."""
    return f"{int(round(value)):,}"


def fmt_pct(share: float | None) -> str:
    """A share in 0..1 as a percentage: 0.234 -> ``"23%"``; tiny non-zero shares keep a decimal."""
    if share is None or not math.isfinite(share):
        return "n/a"
    pct = share * 100
    if 0 < abs(pct) < 1:
        return f"{pct:.1f}%"
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
    kind = report.feature_types.get(feature, "numeric")
    label = feature_label(feature, kind)
    if kind == "categorical":
        shares = segment.categorical.get(feature) or {}
        overall = (report.overall.get("categorical") or {}).get(feature) or {}
        lifts = segment.categorical_lift.get(feature) or {}
        if level is None or level not in shares:
            candidates = [lv for lv in shares if shares[lv] >= 0.05 and lv in lifts] or list(lifts)
            if not candidates:
                return None
            level = max(candidates, key=lambda lv: (lifts[lv], lv))
        seg_share, all_share = shares.get(level), overall.get(level)
        if seg_share is None or all_share is None:
            return None
        direction = "higher" if seg_share >= all_share else "lower"
        return TraitRow("categorical", label, str(level), direction, fmt_pct(seg_share),
                        fmt_pct(all_share), "", _shown_ratio(seg_share, all_share), source)
    stats = segment.numeric.get(feature)
    if not stats or stats.get("mean") is None or stats.get("overall_mean") is None:
        return None
    mean, overall_mean = stats["mean"], stats["overall_mean"]
    direction = "higher" if mean >= overall_mean else "lower"
    ratio = _shown_ratio(mean, overall_mean)
    if kind == "boolean":
        return TraitRow("boolean", label, "", direction, fmt_pct(mean), fmt_pct(overall_mean),
                        "", ratio, source)
    overall_stats = (report.overall.get("numeric") or {}).get(feature)
    if kind == "numeric" and is_share_like(feature, overall_stats):
        return TraitRow("percent", label, "", direction, fmt_pct(mean), fmt_pct(overall_mean),
                        "", ratio, source)
    return TraitRow("numeric", label, "", direction, fmt_number(mean), fmt_number(overall_mean),
                    unit_of(feature, kind), ratio, source)


def trait_text(trait: TraitRow) -> str:
    """A trait as one plain sentence fragment (raw text: escape it for the output format)."""
    if trait.kind == "categorical":
        return f"{trait.label} '{trait.level}': {trait.value} vs {trait.overall} overall"
    if trait.kind == "boolean":
        return f"{trait.label}: {trait.value} vs {trait.overall} overall"
    unit = f" {trait.unit}" if trait.kind == "numeric" and trait.unit else ""
    return f"{trait.label}: {trait.value} vs {trait.overall}{unit} on average"

__all__ = ["tokens", "has_phrase", "humanize", "fmt_number", "fmt_count", "fmt_pct", "fmt_ratio",
           "fmt_score", "ratio_of", "is_share_like", "unit_of", "feature_label", "is_demographic",
           "md_escape", "inert_links", "plotly_text", "TraitRow", "trait_row", "trait_text"]
