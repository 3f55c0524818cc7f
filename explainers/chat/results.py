"""What every grounded operation shares: its result, its error, and reading the report.

:class:`Base` holds the report, the customers table and the vocabulary, and the helpers
each operation module (:mod:`.stats`, :mod:`.compare`, :mod:`.counts`, :mod:`.customer`,
:mod:`.actions_text`) uses to reach a segment, name a column and format a value exactly as
the cards do (:mod:`explainers.format`). Operations import this module, never each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from segmenter.constants import LOW_FIDELITY

from ..format import is_percent, unit_words
from .numbers import NumberBook
from .vocabulary import Vocabulary

MAX_TRAITS = 4
STAT_WORDS = MappingProxyType({"mean": "average", "median": "median", "min": "lowest value",
                               "max": "highest value", "std": "standard deviation", "total": "total"})
OP_WORDS = MappingProxyType({">": "more than", ">=": "at least", "<": "less than", "<=": "at most",
                             "==": "exactly", "!=": "not equal to", "between": "between"})

#: Levels of a yes/no column that mean no ("never married" -> Ever_Married: no).
NO_LEVELS = frozenset({"no", "n", "false", "0", "never", "not"})


def says_no(kind: str, level: object) -> bool:
    """The "no" side of a yes/no column is asked for ("never married")."""
    return kind == "boolean" and str(level or "").lower() in NO_LEVELS


class Safe(str):
    """Markdown we produced ourselves (or a trusted renderer did): not escaped again."""


@dataclass(frozen=True, eq=False)
class Result:
    """One computed answer before rendering."""

    operation: str
    args: dict
    template: str
    context: dict
    numbers: list = field(default_factory=list)
    answered: bool = True
    focus: dict = field(default_factory=dict)  # {"segments": [...], "feature": ...} for follow-up ideas


class OperationError(Exception):
    """An operation cannot be answered as asked (shown as a refusal with this reason)."""

    def __init__(self, reason: str, **details) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class Base:
    """Computations over one report (and optionally its customers table)."""

    def __init__(self, report, customers=None, vocab: Vocabulary | None = None, local_explainer=None):
        self.report = report
        self.customers = customers
        self.vocab = vocab or Vocabulary(report)
        self.local_explainer = local_explainer
        self.index = {s.id: i for i, s in enumerate(report.segments)}

    # ----------------------------------------------------------- segments
    def seg(self, seg_id: int):
        if seg_id not in self.index:
            raise OperationError("no_such_segment", segments=[seg_id])
        return self.report.segments[self.index[seg_id]]

    def path(self, seg_id: int) -> str:
        return f"segments[{self.index[seg_id]}]"

    def seg_ref(self, seg, book: NumberBook) -> dict:
        """Name plus number of a segment for templates ("Unassigned" has no number)."""
        return {"name": seg.name, "id": "" if seg.is_noise else book.ident(seg.id, f"{self.path(seg.id)}.id"),
                "is_noise": seg.is_noise}

    def real(self) -> list:
        return self.report.real_segments

    @staticmethod
    def one(args: dict) -> int:
        segs = args.get("segments") or ([args["segment"]] if args.get("segment") is not None else [])
        if not segs:
            raise OperationError("need_segment")
        return int(segs[0])

    # ------------------------------------------------------------ columns
    def label(self, feature: str) -> str:
        return self.vocab.label(feature)

    def kind(self, feature: str) -> str:
        return self.vocab.columns[feature].kind if feature in self.vocab.columns else "numeric"

    def role(self, feature: str) -> str:
        info = self.vocab.columns.get(feature)
        return info.role if info is not None else ""

    def as_percent(self, feature: str) -> bool:
        return self.kind(feature) != "profile" and is_percent(self.report, feature)

    def unit(self, feature: str) -> str:
        """Unit words after a value ("days", "years"); none when the label or the value says it."""
        if self.kind(feature) not in ("numeric", "datetime"):
            return ""
        return unit_words(self.report, feature)

    def value(self, book: NumberBook, feature: str, value: float, source: str) -> str:
        """A column's value formatted as on the cards ('23%', '$61k', '1966'), recorded."""
        return book.column_value(self.report, feature, value, source)

    def size_of(self, seg) -> int:
        """Customers in a segment, or in the whole table for ``None``."""
        return int(seg.size) if seg is not None else int(self.report.n_rows)

    def customer_share(self, share: float, seg, source: str, book: NumberBook) -> str:
        """A share of a segment's (or everyone's) customers: a bound when share x size is small
        (:meth:`NumberBook.group_share`)."""
        return book.group_share(share, self.size_of(seg), source)

    def shown_mean(self, book: NumberBook, seg, feature: str, value: float, source: str) -> str:
        """A segment's mean of a column; for a yes/no column the share of customers with "yes"
        (a bound when it stands for few customers)."""
        if self.kind(feature) == "boolean":
            return self.customer_share(value, seg, source, book)
        return self.value(book, feature, value, source)

    def shares_of(self, seg, feature: str) -> dict:
        """Level shares of a categorical or label/outcome column in one segment (or everyone)."""
        kind = self.kind(feature)
        if seg is None:
            return (self.report.overall.get("categorical" if kind == "categorical" else "profile") or {}).get(
                feature) or {}
        return (seg.categorical if kind == "categorical" else seg.profile).get(feature) or {}

    def level_source(self, seg, feature: str, level: str) -> str:
        kind = "categorical" if self.kind(feature) == "categorical" else "profile"
        base = f"{self.path(seg.id)}.{kind}" if seg is not None else f"overall.{kind}"
        return f"{base}.{feature}.{level}"

    # -------------------------------------------------------------- shared
    def result(self, op: str, args: dict, template: str, context: dict, book: NumberBook,
               segments: list | None = None, feature: str | None = None) -> Result:
        return Result(op, args, template, context, book.items,
                      focus={"segments": segments or [], "feature": feature})

    def trait(self, seg, feature: str, level: str | None, book: NumberBook,
              direction: str | None = None) -> dict | None:
        """A segment's value of one column next to everyone's, formatted and recorded."""
        base = self.path(seg.id)
        if self.kind(feature) in ("categorical", "profile"):
            shares = self.shares_of(seg, feature)
            overall = self.shares_of(None, feature)
            if level is None and shares:
                lifts = {lv: shares[lv] / overall[lv] for lv in shares if overall.get(lv)}
                level = max(shares, key=lambda lv: (lifts.get(lv, 0) if shares[lv] >= 0.05 else -1, lv))
            if level not in shares or level not in overall:
                return None
            return {"label": self.label(feature), "level": level, "kind": "categorical",
                    "value": self.customer_share(shares[level], seg, self.level_source(seg, feature, level), book),
                    "overall": self.customer_share(overall[level], None, self.level_source(None, feature, level),
                                                   book),
                    "unit": "", "direction": direction or ("higher" if shares[level] >= overall[level] else "lower")}
        stats = seg.numeric.get(feature) or {}
        if stats.get("mean") is None or stats.get("overall_mean") is None:
            return None
        return {"label": self.label(feature), "level": "", "kind": self.kind(feature),
                "value": self.shown_mean(book, seg, feature, stats["mean"], f"{base}.numeric.{feature}.mean"),
                "overall": self.shown_mean(book, None, feature, stats["overall_mean"],
                                           f"{base}.numeric.{feature}.overall_mean"),
                "unit": self.unit(feature),
                "direction": direction or ("higher" if stats["mean"] >= stats["overall_mean"] else "lower")}

    def traits_of(self, seg, book: NumberBook, limit: int = MAX_TRAITS) -> tuple[list, str]:
        """Top traits: SHAP drivers when the report has them, else the profile's clear differences."""
        source = "drivers" if seg.drivers else "differences"
        items = seg.drivers or [d for d in seg.distinguishing if abs(d.get("effect_size") or 0) >= 0.3]
        rows, seen = [], set()
        for d in items:
            if d["feature"] in seen:
                continue
            row = self.trait(seg, d["feature"], d.get("level"), book)
            if row:
                rows.append(row)
                seen.add(d["feature"])
            if len(rows) == limit:
                break
        return rows, source

    def caveats(self, seg) -> list:
        out = [flag for flag in ("small", "unstable") if flag in seg.flags]
        fidelity = (self.report.explanation or {}).get("surrogate_fidelity")
        if seg.drivers and fidelity is not None and fidelity < LOW_FIDELITY:
            out.append("low_fidelity")
        return out


__all__ = ["Base", "Result", "OperationError", "Safe", "STAT_WORDS", "OP_WORDS", "MAX_TRAITS", "NO_LEVELS",
           "says_no"]
