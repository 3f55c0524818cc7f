"""Run the blind2 chat question sets in this folder with tests/chat_eval/harness.py.

(A copy of tests/chat_eval/heldout/run_heldout.py pointed at this folder, ids "b2-<stem>-NNN".)

Usage (from the repository root)::

    python tests/chat_eval/blind2/run_blind2.py [--table STEM] [--dry-run] [--verbose]
                                                  [--json OUT] [--markdown OUT]

harness.py is not modified. This wrapper only:

* reads ``<stem>.json`` from this folder instead of tests/chat_eval/ (``harness.load_set``);
* honours an optional ``"requires": [[SEGMENT_REF, NAME_PART], ...]`` on an entry: questions
  that name a segment by *part* of its name literally ("the meat lovers") are skipped when the
  referenced segment's current name no longer contains that part (so a changed segmentation
  makes them skipped, never silently wrong);
* times every ``conversation.ask`` call (wall clock) to report latency percentiles.

Scoring, gold values and the placeholder language are exactly harness.py's.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import harness  # noqa: E402  (tests/chat_eval/harness.py)

LATENCIES: list = []  # (stem, question, seconds) in ask order


def load_blind2(stem: str) -> dict:
    data = json.loads((HERE / f"{stem}.json").read_text(encoding="utf-8"))
    harness.validate_set(data)
    for entry in data["questions"]:
        if not entry["id"].startswith(f"b2-{stem}-"):
            raise ValueError(f"{entry['id']}: blind2 ids must start with b2-{stem}-")
    return data


def _norm(text: str) -> str:
    return re.sub(r"[\s\-_]+", " ", text.lower()).strip()


_original_plan = harness._plan


def plan_with_requires(entry: dict, st):
    for ref, part in entry.get("requires", []):
        sid = st.resolve(ref)
        name = st.names()[sid]
        if _norm(part) not in _norm(name):
            raise harness.Unresolvable(f"{ref} is now named {name!r}, not '...{part}...'")
    return _original_plan(entry, st)


class _TimedConversation:
    def __init__(self, conv, stem):
        self._conv, self._stem = conv, stem

    def ask(self, text):
        t0 = time.perf_counter()
        try:
            return self._conv.ask(text)
        finally:
            LATENCIES.append((self._stem, text, time.perf_counter() - t0))

    def __getattr__(self, name):
        return getattr(self._conv, name)


class _TimedEngine:
    stem = None

    def __init__(self, engine):
        self._engine = engine

    def conversation(self, *args, **kwargs):
        return _TimedConversation(self._engine.conversation(*args, **kwargs), _TimedEngine.stem)

    def __getattr__(self, name):
        return getattr(self._engine, name)


_original_make_engine = harness.make_engine


def timed_make_engine(analysis, report):
    return _TimedEngine(_original_make_engine(analysis, report))


harness.load_set = load_blind2
harness._plan = plan_with_requires
harness.make_engine = timed_make_engine


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def markdown(results: list, latencies: list) -> str:
    out = ["| table | questions | scored | correct | refused | wrong | skipped | accuracy |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    tot = {"questions": 0, "n_scored": 0, "correct": 0, "refused": 0, "wrong": 0, "skipped": 0}
    for r in results:
        out.append(f"| {r['table']} | {r['questions']} | {r['n_scored']} | {r['correct']} | {r['refused']} | "
                   f"{r['wrong']} | {r['skipped']} | {r['accuracy']:.1%} |")
        for key in tot:
            tot[key] += r[key]
    if len(results) > 1:
        acc = tot["correct"] / tot["n_scored"] if tot["n_scored"] else float("nan")
        out.append(f"| **all** | {tot['questions']} | {tot['n_scored']} | {tot['correct']} | {tot['refused']} | "
                   f"{tot['wrong']} | {tot['skipped']} | **{acc:.1%}** |")
    out.append("")
    cats = sorted({c for r in results for c in r["per_category"]})
    out.append("Per category (correct/scored; R = refused, W = wrong, S = skipped):")
    out.append("")
    out.append("| category | " + " | ".join(r["table"] for r in results) + " | all |")
    out.append("|---|" + "---|" * (len(results) + 1))
    for cat in cats:
        cells, agg = [], {"correct": 0, "refused": 0, "wrong": 0, "skipped": 0, "total": 0}
        for r in results:
            c = r["per_category"].get(cat)
            if not c:
                cells.append("-")
                continue
            for key in agg:
                agg[key] += c[key]
            n = c["total"] - c["skipped"]
            cells.append(f"{c['correct']}/{n} R{c['refused']} W{c['wrong']}" + (f" S{c['skipped']}" if c["skipped"] else ""))
        n = agg["total"] - agg["skipped"]
        acc = f" ({agg['correct'] / n:.0%})" if n else ""
        cells.append(f"{agg['correct']}/{n}{acc} R{agg['refused']} W{agg['wrong']}"
                     + (f" S{agg['skipped']}" if agg["skipped"] else ""))
        out.append(f"| {cat} | " + " | ".join(cells) + " |")
    secs = [s for _, _, s in latencies]
    if secs:
        out.append("")
        out.append(f"Latency per ask (wall clock, {len(secs)} asks, no LLM): p50 {percentile(secs, 50) * 1000:.1f} ms, "
                   f"p95 {percentile(secs, 95) * 1000:.1f} ms, max {max(secs) * 1000:.1f} ms, "
                   f"mean {statistics.mean(secs) * 1000:.1f} ms.")
        for r in results:
            ts = [s for stem, _, s in latencies if stem == r["table"]]
            if ts:
                out.append(f"- {r['table']}: p50 {percentile(ts, 50) * 1000:.1f} ms, "
                           f"p95 {percentile(ts, 95) * 1000:.1f} ms, max {max(ts) * 1000:.1f} ms "
                           f"(analysis {r['seconds']['analysis']:.1f} s, chat total {r['seconds']['chat']:.1f} s)")
    for status, title in (("wrong", "WRONG answers"), ("refused", "Refusals of answerable questions"),
                          ("skipped", "Skipped")):
        rows = [(r["table"], f) for r in results for f in r["failures"] if f["status"] == status]
        out.append("")
        out.append(f"### {title} ({len(rows)})")
        for table, f in rows:
            out.append("")
            out.append(f"- **{f['id']}** ({f['category']}) `{f['question']}`")
            out.append(f"  - expected: `{json.dumps(f['spec'])}` gold `{json.dumps(f['gold'])}`")
            out.append(f"  - said: {json.dumps(f['answer'][:300])}")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="blind2 chat evaluation")
    parser.add_argument("--table", choices=harness.STEMS, action="append")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--json", type=Path, help="write the full results here")
    parser.add_argument("--markdown", type=Path, help="write the summary tables and failure lists here")
    parser.add_argument("--data-dir", type=Path, default=harness.DATA_DIR)
    args = parser.parse_args(argv)
    results = []
    for stem in args.table or harness.STEMS:
        _TimedEngine.stem = stem
        res = harness.evaluate(stem, verbose=args.verbose, dry_run=args.dry_run, data_dir=args.data_dir)
        if not args.dry_run:
            asked = [r for r in res["results"] if r["status"] != "skipped"]
            mine = [x for x in LATENCIES if x[0] == stem]
            for r, (_, text, secs) in zip(asked, mine):
                assert r["question"] == text, (r["question"], text)
                r["seconds"] = round(secs, 6)
        results.append(res)
        print(harness.format_result(res), flush=True)
        if args.dry_run:
            for r in res["results"]:
                print(f"  {r['id']:34} {r['status']:7} {r['question']!r} -> {json.dumps(r['gold'])}")
    if not args.dry_run:
        secs = [s for _, _, s in LATENCIES]
        print(f"== latency per ask: n={len(secs)} p50 {percentile(secs, 50) * 1000:.1f} ms "
              f"p95 {percentile(secs, 95) * 1000:.1f} ms max {max(secs) * 1000:.1f} ms")
        if args.markdown:
            args.markdown.write_text(markdown(results, LATENCIES), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(harness._jsonable(results), indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
