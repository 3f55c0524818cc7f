"""The grounded operations: every answer is computed here from the report (or the customers
table for counting), and every number shown is recorded with its source.

Each operation returns a :class:`Result` holding a template name and its context
(formatted strings only: templates hold the wording, Python the numbers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..format import has_phrase, is_share_like, unit_of
from .filters import Condition, combined_mask
from .numbers import MIN_GROUP, NumberBook
from .vocabulary import Vocabulary

MAX_TRAITS = 4
RATE_PHRASES = ("per_year", "per_annum", "per_month", "per_week", "per_day")
STAT_WORDS = MappingProxyType({"mean": "average", "median": "median", "min": "lowest value", "max": "highest value",
              "std": "standard deviation", "total": "total"})
OP_WORDS = MappingProxyType({">": "more than", ">=": "at least", "<": "less than", "<=": "at most", "==": "exactly",
            "!=": "not equal to", "between": "between"})


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


class Operations:
    """Computations over one report (and optionally its customers table)."""

    def __init__(self, report, customers=None, vocab: Vocabulary | None = None, local_explainer=None):
        self.report = report
        self.customers = customers
        self.vocab = vocab or Vocabulary(report)
        self.local_explainer = local_explainer
        self.index = {s.id: i for i, s in enumerate(report.segments)}

    # -------------------------------------------------------------- helpers
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

    def label(self, feature: str) -> str:
        return self.vocab.label(feature)

    def kind(self, feature: str) -> str:
        return self.report.feature_types.get(feature, "numeric")

    def as_percent(self, feature: str) -> bool:
        kind = self.kind(feature)
        overall = (self.report.overall.get("numeric") or {}).get(feature)
        return kind == "boolean" or (kind == "numeric" and is_share_like(feature, overall))

    def unit(self, feature: str) -> str:
        """Unit words after a value ("days", "years"); none when the label already says it."""
        kind = self.kind(feature)
        if self.as_percent(feature) or kind not in ("numeric", "datetime") \
                or any(has_phrase(feature, p) for p in RATE_PHRASES):
            return ""
        return unit_of(feature, kind)

    def real(self) -> list:
        return self.report.real_segments

    def size_of(self, seg) -> int:
        """Customers in a segment, or in the whole table for ``None``."""
        return int(seg.size) if seg is not None else int(self.report.n_rows)

    def customer_share(self, share: float, seg, source: str, book: NumberBook) -> str:
        """A share of a segment's (or everyone's) customers: a bound when share x size is small
        (:meth:`NumberBook.group_share`)."""
        return book.group_share(share, self.size_of(seg), source)

    def result(self, op: str, args: dict, template: str, context: dict, book: NumberBook,
               segments: list | None = None, feature: str | None = None) -> Result:
        return Result(op, args, template, context, book.items,
                      focus={"segments": segments or [], "feature": feature})

    def trait(self, seg, feature: str, level: str | None, book: NumberBook,
              direction: str | None = None) -> dict | None:
        """A segment's value of one column next to everyone's, formatted and recorded."""
        base = self.path(seg.id)
        if self.kind(feature) == "categorical":
            shares = seg.categorical.get(feature) or {}
            overall = (self.report.overall.get("categorical") or {}).get(feature) or {}
            if level is None and shares:
                lifts = seg.categorical_lift.get(feature) or {}
                level = max(shares, key=lambda lv: (lifts.get(lv, 0) if shares[lv] >= 0.05 else -1, lv))
            if level not in shares or level not in overall:
                return None
            return {"label": self.label(feature), "level": level, "kind": "categorical",
                    "value": self.customer_share(shares[level], seg, f"{base}.categorical.{feature}.{level}", book),
                    "overall": self.customer_share(overall[level], None, f"overall.categorical.{feature}.{level}",
                                                   book),
                    "unit": "", "direction": direction or ("higher" if shares[level] >= overall[level] else "lower")}
        stats = seg.numeric.get(feature) or {}
        if stats.get("mean") is None or stats.get("overall_mean") is None:
            return None
        pct = self.as_percent(feature)
        if self.kind(feature) == "boolean":  # the share of customers with "yes"
            value = self.customer_share(stats["mean"], seg, f"{base}.numeric.{feature}.mean", book)
            overall = self.customer_share(stats["overall_mean"], None, f"{base}.numeric.{feature}.overall_mean", book)
        else:
            value = book.value(stats["mean"], f"{base}.numeric.{feature}.mean", pct)
            overall = book.value(stats["overall_mean"], f"{base}.numeric.{feature}.overall_mean", pct)
        return {"label": self.label(feature), "level": "", "kind": self.kind(feature), "value": value,
                "overall": overall,
                "unit": self.unit(feature),
                "direction": direction or ("higher" if stats["mean"] >= stats["overall_mean"] else "lower")}

    def traits_of(self, seg, book: NumberBook, limit: int = MAX_TRAITS) -> tuple[list, str]:
        """Top traits: SHAP drivers when the report has them, else the profile's clear differences."""
        source = "drivers" if seg.drivers else "differences"
        items = seg.drivers or [d for d in seg.distinguishing if abs(d.get("effect_size") or 0) >= 0.2]
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
        out = []
        if "small" in seg.flags:
            out.append("small")
        if "unstable" in seg.flags:
            out.append("unstable")
        fidelity = self.report.explanation.get("surrogate_fidelity")
        if seg.drivers and fidelity is not None and fidelity < 0.8:
            out.append("low_fidelity")
        return out

    # ----------------------------------------------------------- operations
    def overview(self, args: dict) -> Result:
        book = NumberBook()
        rows = []
        for seg in self.report.segments:
            traits, _ = self.traits_of(seg, NumberBook(), limit=2)
            rows.append({**self.seg_ref(seg, book),
                         "size": book.count(seg.size, f"{self.path(seg.id)}.size"),
                         "share": book.pct(seg.share, f"{self.path(seg.id)}.share"),
                         "traits": [f"{t['label']} '{t['level']}' more common" if t["level"]
                                    else f"{t['direction']} {t['label']}" for t in traits]})
        ctx = {"n_rows": book.count(self.report.n_rows, "n_rows"),
               "n_segments": book.count(len(self.real()), "metrics.n_segments"),
               "algorithm": self.report.algorithm, "segments": rows}
        return self.result("overview", args, "overview.md.j2", ctx, book)

    def count_segments(self, args: dict) -> Result:
        book = NumberBook()
        noise = [s for s in self.report.segments if s.is_noise]
        ctx = {"n_segments": book.count(len(self.real()), "metrics.n_segments"),
               "names": [s.name for s in self.real()],
               "noise": book.count(noise[0].size, f"{self.path(-1)}.size") if noise else ""}
        return self.result("count_segments", args, "count_segments.md.j2", ctx, book)

    def unassigned(self, args: dict) -> Result:
        book = NumberBook()
        noise = next((s for s in self.report.segments if s.is_noise), None)
        ctx = {"algorithm": self.report.algorithm, "has_noise": noise is not None, "size": "", "share": ""}
        if noise is not None:
            ctx.update(size=book.count(noise.size, f"{self.path(-1)}.size"),
                       share=book.pct(noise.share, f"{self.path(-1)}.share"), name=noise.name)
        else:
            ctx.update(size=book.count(0, "segments: no Unassigned group"), name="Unassigned")
        return self.result("unassigned", args, "unassigned.md.j2", ctx, book, segments=[-1] if noise else [])

    def segment_size(self, args: dict) -> Result:
        book = NumberBook()
        seg = self.seg(self._one(args))
        ctx = {"segment": self.seg_ref(seg, book), "size": book.count(seg.size, f"{self.path(seg.id)}.size"),
               "share": book.pct(seg.share, f"{self.path(seg.id)}.share"),
               "n_rows": book.count(self.report.n_rows, "n_rows")}
        return self.result("segment_size", args, "segment_size.md.j2", ctx, book, segments=[seg.id])

    def extreme_size(self, args: dict) -> Result:
        book = NumberBook()
        real = self.real()
        if not real:
            raise OperationError("need_segment")
        pick = max if args.get("which", "largest") == "largest" else min
        seg = pick(real, key=lambda s: (s.size, -s.id))
        ctx = {"which": args.get("which", "largest"), "segment": self.seg_ref(seg, book),
               "size": book.count(seg.size, f"{self.path(seg.id)}.size"),
               "share": book.pct(seg.share, f"{self.path(seg.id)}.share"),
               "n_segments": book.count(len(real), "metrics.n_segments")}
        return self.result("extreme_size", args, "extreme_size.md.j2", ctx, book, segments=[seg.id])

    def describe_segment(self, args: dict) -> Result:
        book = NumberBook()
        seg = self.seg(self._one(args))
        traits, source = self.traits_of(seg, book)
        ctx = {"segment": self.seg_ref(seg, book), "size": book.count(seg.size, f"{self.path(seg.id)}.size"),
               "share": book.pct(seg.share, f"{self.path(seg.id)}.share"), "traits": traits,
               "source": source, "caveats": self.caveats(seg)}
        return self.result("describe_segment", args, "describe.md.j2", ctx, book, segments=[seg.id])

    def compare_segments(self, args: dict) -> Result:
        from .compare import compare

        return compare(self, args)

    def rank_segments(self, args: dict) -> Result:
        from .stats import rank

        return rank(self, args)

    def feature_statistic(self, args: dict) -> Result:
        from .stats import statistic

        return statistic(self, args)

    def count_customers(self, args: dict) -> Result:
        if self.customers is None:
            raise OperationError("no_customers")
        book = NumberBook()
        conditions = [Condition(**c) for c in args.get("conditions") or []]
        frame = self.customers
        seg_id = args.get("segment")
        base_mask = np.ones(len(frame), dtype=bool)
        seg_ref = None
        if seg_id is not None:
            seg = self.seg(seg_id)
            base_mask = frame["__segment__"].to_numpy() == seg.id
            seg_ref = self.seg_ref(seg, book)
        mask = base_mask & combined_mask(frame, conditions)
        where = " and ".join([f"segment == {seg_id}"] if seg_id is not None else []
                             + [self._cond_source(c) for c in conditions]) or "all customers"
        base = int(base_mask.sum())
        count = int(mask.sum())
        phrases = [self._cond_phrase(c, book) for c in conditions]
        exact = not conditions or MIN_GROUP <= count <= base - MIN_GROUP  # no small count on either side
        shown = book.count(count, f"customers: count where {where}") if not conditions else \
            book.group_count(count, base, f"customers: count where {where}")
        ctx = {"segment": seg_ref, "conditions": phrases, "count": shown,
               "base": book.count(base, "customers: count where " + (f"segment == {seg_id}" if seg_id is not None
                                                                     else "all customers")),
               "share": book.pct(count / base, f"customers: share where {where}") if base and conditions and exact
               else ""}
        return self.result("count_customers", args, "count.md.j2", ctx, book,
                           segments=[seg_id] if seg_id is not None else [],
                           feature=conditions[0].column if conditions else None)

    def _cond_source(self, c: Condition) -> str:
        if c.op == "between":
            return f"{c.column} between {c.value} and {c.value2}"
        if c.op in ("is_true", "is_false"):
            return f"{c.column} is {'true' if c.op == 'is_true' else 'false'}"
        if c.op in ("is_level", "not_level"):
            return f"{c.column} {'==' if c.op == 'is_level' else '!='} level"
        return f"{c.column} {c.op} {c.value}"

    def _cond_phrase(self, c: Condition, book: NumberBook) -> dict:
        label = self.label(c.column)
        if c.op in ("is_true", "is_false"):
            return {"kind": "flag", "label": label, "yes": c.op == "is_true", "op": "", "value": "", "value2": ""}
        if c.op in ("is_level", "not_level"):
            return {"kind": "level", "label": label, "yes": c.op == "is_level", "op": "", "value": str(c.value),
                    "value2": ""}
        pct = self.as_percent(c.column)
        value = book.value(float(c.value), "question: threshold", pct)
        value2 = book.value(float(c.value2), "question: threshold", pct) if c.value2 is not None else ""
        return {"kind": "compare", "label": label, "yes": True, "op": OP_WORDS[c.op], "value": value,
                "value2": value2, "unit": self.unit(c.column)}

    def suggest_actions(self, args: dict) -> Result:
        from .actions_text import actions

        return actions(self, args)

    def customer_segment(self, args: dict) -> Result:
        from .customer import customer

        return customer(self, args)

    def quality(self, args: dict) -> Result:
        from .stats import quality

        return quality(self, args)

    @staticmethod
    def _one(args: dict) -> int:
        segs = args.get("segments") or ([args["segment"]] if args.get("segment") is not None else [])
        if not segs:
            raise OperationError("need_segment")
        return int(segs[0])


__all__ = ["Operations", "Result", "OperationError", "STAT_WORDS", "OP_WORDS"]
