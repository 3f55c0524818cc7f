"""The grounded operations: every answer is computed from the report (or the customers table
for counting), and every number shown is recorded with its source.

Each operation returns a :class:`~explainers.chat.results.Result` holding a template name and
its context (formatted strings only: templates hold the wording, Python the numbers). The
operations live in small modules (sizes here; :mod:`.stats`, :mod:`.compare`, :mod:`.counts`,
:mod:`.customer`, :mod:`.actions_text`); :class:`Operations` names them in one place.
"""
from __future__ import annotations

from .actions_text import actions as _actions
from .compare import compare as _compare, larger_of as _larger_of
from .counts import count as _count
from .customer import customer as _customer
from .stats import agreement as _agreement, columns as _columns, per_segment as _per_segment
from .stats import quality as _quality, rank as _rank, statistic as _statistic
from .numbers import NumberBook
from .results import OP_WORDS, STAT_WORDS, Base, OperationError, Result


class Operations(Base):
    """Every operation the chat can run, by name (see ``engine.OPERATIONS``)."""

    # ------------------------------------------------------------- segments
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
        seg = self.seg(self.one(args))
        ctx = {"segment": self.seg_ref(seg, book), "size": book.count(seg.size, f"{self.path(seg.id)}.size"),
               "share": book.pct(seg.share, f"{self.path(seg.id)}.share"),
               "n_rows": book.count(self.report.n_rows, "n_rows")}
        return self.result("segment_size", args, "segment_size.md.j2", ctx, book, segments=[seg.id])

    def segment_sizes(self, args: dict) -> Result:
        """Every segment's size and share (the Unassigned group included)."""
        book = NumberBook()
        rows = [{**self.seg_ref(s, book), "size": book.count(s.size, f"{self.path(s.id)}.size"),
                 "share": book.pct(s.share, f"{self.path(s.id)}.share")} for s in self.report.segments]
        ctx = {"rows": rows, "n_rows": book.count(self.report.n_rows, "n_rows"),
               "n_segments": book.count(len(self.real()), "metrics.n_segments")}
        return self.result("segment_sizes", args, "segment_sizes.md.j2", ctx, book,
                           segments=[s.id for s in self.real()])

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
        seg = self.seg(self.one(args))
        traits, source = self.traits_of(seg, book)
        name_words = [t["word"] for t in seg.name_traits if t.get("word") and t["word"] in seg.name]
        ctx = {"segment": self.seg_ref(seg, book), "size": book.count(seg.size, f"{self.path(seg.id)}.size"),
               "share": book.pct(seg.share, f"{self.path(seg.id)}.share"), "traits": traits,
               "source": source, "caveats": self.caveats(seg), "aliases": list(seg.aliases),
               "name_words": name_words}
        return self.result("describe_segment", args, "describe.md.j2", ctx, book, segments=[seg.id])

    # ------------------------------------------------------- other modules
    def compare_segments(self, args: dict) -> Result:
        return _compare(self, args)

    def larger_of(self, args: dict) -> Result:
        return _larger_of(self, args)

    def rank_segments(self, args: dict) -> Result:
        return _rank(self, args)

    def per_segment(self, args: dict) -> Result:
        return _per_segment(self, args)

    def feature_statistic(self, args: dict) -> Result:
        return _statistic(self, args)

    def quality(self, args: dict) -> Result:
        return _quality(self, args)

    def columns(self, args: dict) -> Result:
        return _columns(self, args)

    def label_agreement(self, args: dict) -> Result:
        return _agreement(self, args)

    def count_customers(self, args: dict) -> Result:
        return _count(self, args)

    def suggest_actions(self, args: dict) -> Result:
        return _actions(self, args)

    def customer_segment(self, args: dict) -> Result:
        return _customer(self, args)


__all__ = ["Operations", "Result", "OperationError", "STAT_WORDS", "OP_WORDS"]
