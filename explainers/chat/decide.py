"""Pick the operation from what a question mentions (see :mod:`explainers.chat.parser`).

A chain of plain rules, most specific first. Follow-ups reuse the previous intent: a
question that names only a segment repeats the last operation for it; one that names only
a column asks the last segment about it; "and the median?" changes the statistic.
"""
from __future__ import annotations

from .filters import Condition, parse_flags
from .parser import Intent, counting_question
from .words import (
    ACTIONS,
    COMPARE,
    DIRECTIONAL,
    EVERYONE_WORDS,
    FOLLOW_STARTS,
    HELP,
    OVERVIEW,
    PRONOUNS,
    QUALITY,
    QUALITY_SOFT,
    RANK_HIGH,
    RANK_LOW,
    SEGMENT_WORDS,
    SIZE_EXTREME_HIGH,
    SIZE_EXTREME_LOW,
    SIZE_WORDS,
    STATISTICS,
    WHICH,
)

STAT_PRIORITY = ("median", "quartiles", "range", "std", "total", "share", "min", "max", "mean")
SHARE_WORDS = frozenset({"share", "percent", "percentage", "proportion", "fraction", "%", "pct"})
WHOLE_WORDS = frozenset({"segmentation", "segments", "clusters", "clustering", "explanation", "explanations",
                         "model", "results", "groups", "analysis", "personas", "drivers"})
DESCRIBE_DIFFERENT = frozenset({"makes", "special", "unique", "stand", "stands", "apart", "sets"})
INHERIT = ("feature_statistic", "segment_size", "describe_segment", "suggest_actions", "count_customers",
           "compare_segments", "rank_segments")


def _statistic(free: list, feature_kind: str, level: str | None) -> str:
    found = {STATISTICS[w] for w in free if w in STATISTICS}
    if feature_kind == "categorical":
        return "share" if level is not None else "distribution"
    if feature_kind == "boolean":
        return "share"
    found.discard("share")
    for name in STAT_PRIORITY:
        if name in found:
            return name
    return "mean"


def _flag_from_feature(p, f) -> list:
    """A yes/no column or a level found as "the feature" is a counting condition."""
    m = f.feature
    if m is None:
        return []
    kind = p.vocab.features[m.feature].kind
    negated = any(f.tokens[k].text in ("not", "non", "no", "without", "never")
                  for k in range(max(0, min(m.positions) - 3), min(m.positions)))
    if m.level is not None:
        return [Condition(m.feature, "not_level" if negated else "is_level", m.level)]
    if kind == "boolean" and m.coverage >= 0.5:
        return [Condition(m.feature, "is_false" if negated else "is_true")]
    return []


def _conditions(p, f, extra: list | None = None) -> list:
    conds = list(f.conditions) + _flag_from_feature(p, f) + list(extra or [])
    flags = parse_flags(f.tokens, p.vocab, f.used | (set(f.feature.positions) if f.feature else set()))
    f.used |= flags.used
    seen = {(c.column, c.op, c.value) for c in conds}
    conds += [c for c in flags.conditions if (c.column, c.op, c.value) not in seen]
    return [c.to_dict() for c in conds]


def decide(p, f, ctx: Intent | None) -> Intent:  # noqa: C901 - a flat list of rules reads best
    toks = f.tokens
    texts = [t.text for t in toks]
    words = set(texts)
    free = [t.text for i, t in enumerate(toks) if i not in f.used]
    free_set = set(free)
    segs = list(f.segments)
    ctx_args = ctx.args if ctx is not None else {}
    ctx_segs = list(ctx_args.get("segments") or ([ctx_args["segment"]] if ctx_args.get("segment") is not None
                                                  else ctx_args.get("_focus") or []))
    follow = ctx is not None and (
        (texts[0] in FOLLOW_STARTS and (texts[0] not in ("what", "how") or (len(texts) > 1 and texts[1] == "about")))
        or len(texts) <= 3 or "same" in words)
    pronoun = bool(words & PRONOUNS)
    use_ctx = follow or pronoun
    kind = p.vocab.features[f.feature.feature].kind if f.feature else None
    high = bool(free_set & RANK_HIGH) or any(DIRECTIONAL.get(w) == "highest" for w in texts)
    low = bool(free_set & RANK_LOW) or any(DIRECTIONAL.get(w) == "lowest" for w in texts)
    direction = "lowest" if low and not high else ("highest" if high else None)
    which_q = bool(free_set & WHICH) or bool(words & {"rank", "ranking", "sort", "sorted", "ranked"}) \
        or f.limit is not None or any(a in ("what", "which") and b in SEGMENT_WORDS
                                      for a, b in zip(texts, texts[1:], strict=False))
    is_count = counting_question(texts)
    feature_args = {}
    if f.feature:
        feature_args = {"feature": f.feature.feature, "level": f.feature.level}

    if free_set & HELP and not segs and not f.feature and not f.conditions:
        return Intent("help", {})
    if {"what", "can", "you"} <= words and (words & {"do", "answer", "ask"}) and not segs and not f.feature:
        return Intent("help", {})
    if words & QUALITY or (free_set & QUALITY_SOFT and words & WHOLE_WORDS and not f.feature and not segs):
        return Intent("quality", {})
    if free_set & ACTIONS:
        target = segs or (ctx_segs if use_ctx else [])
        return Intent("suggest_actions", {"segments": target})
    if segs == [-1] and not f.feature and not f.conditions and not is_count or (
            -1 in f.bad_segments and not f.feature and not f.conditions):
        f.bad_segments = [b for b in f.bad_segments if b != -1]
        return Intent("unassigned", {})
    if segs == [-1] and is_count and not f.feature and not f.conditions:
        return Intent("unassigned", {})

    if is_count:
        if free_set & (SIZE_EXTREME_HIGH | SIZE_EXTREME_LOW) and words & SEGMENT_WORDS and not segs \
                and not f.feature and not f.conditions:
            return Intent("extreme_size", {"which": "smallest" if free_set & SIZE_EXTREME_LOW else "largest"})
        if words & (SEGMENT_WORDS - {"segment", "group", "cluster", "persona", "seg", "grp", "bucket", "tribe"}) \
                and not segs and not f.feature and not f.conditions:
            return Intent("count_segments", {})
        if f.feature and kind in ("numeric", "datetime") and not f.conditions:
            seg = segs[0] if segs else (ctx_segs[0] if ctx_segs and use_ctx else None)
            return Intent("feature_statistic", {"segment": seg, **feature_args,
                                                "statistic": _statistic(free, kind, None)})
        conds = _conditions(p, f)
        seg = segs[0] if segs else (ctx_segs[0] if ctx_segs and pronoun else None)
        if conds:
            return Intent("count_customers", {"segment": seg, "conditions": conds})
        if segs:
            return Intent("segment_size", {"segments": segs[:1]})
        if seg is not None:
            return Intent("segment_size", {"segments": [seg]})
        return Intent("count_customers", {"segment": None, "conditions": []})

    if ctx is not None and ctx.operation == "count_customers" and follow and \
            (f.conditions or _flag_from_feature(p, f) or (segs and not f.feature)):
        previous = [Condition(**c) for c in ctx_args.get("conditions", [])]
        conds = _conditions(p, f, previous) if (f.conditions or _flag_from_feature(p, f)) \
            else [c.to_dict() for c in previous]
        if f.feature and (kind == "boolean" or f.feature.level):
            f.used |= set(f.feature.positions)
        seg = segs[0] if segs else ctx_args.get("segment")
        return Intent("count_customers", {"segment": seg, "conditions": conds})

    if words & DESCRIBE_DIFFERENT and len(segs) == 1 and not f.feature:
        return Intent("describe_segment", {"segments": segs})
    if (free_set & COMPARE) or (len(segs) >= 2 and not direction):
        if not segs and ctx_segs and use_ctx:
            segs = ctx_segs[:1]
        elif len(segs) == 1 and pronoun and ctx_segs and ctx_segs[0] != segs[0]:
            segs = [ctx_segs[0], segs[0]]  # "compare them with X"
        if not segs:
            if f.feature:
                return Intent("rank_segments", {**feature_args, "direction": "highest", "statistic": "mean",
                                                "among": [], "limit": None})
            return Intent("overview", {})
        everyone = len(segs) == 1 or bool(words & EVERYONE_WORDS and len(segs) == 1)
        return Intent("compare_segments", {"segments": segs[:2], "everyone": everyone, **feature_args})

    if direction or words & {"rank", "ranking", "sort", "sorted", "ranked"}:
        if f.feature and (which_q or not segs or len(segs) >= 2):
            stat = "median" if "median" in free_set else "mean"
            return Intent("rank_segments", {**feature_args, "direction": direction or "highest", "statistic": stat,
                                            "among": segs if len(segs) >= 2 else [], "limit": f.limit})
        if not f.feature:
            size_high, size_low = free_set & SIZE_EXTREME_HIGH, free_set & SIZE_EXTREME_LOW
            if (size_high or size_low) and not segs and (which_q or words & SEGMENT_WORDS) \
                    and not p.leftovers(f):
                return Intent("extreme_size", {"which": "smallest" if size_low and not size_high else "largest"})
            if ctx is not None and ctx.operation == "rank_segments" and (follow or not segs):
                return Intent("rank_segments", {**ctx_args, "direction": direction or ctx_args["direction"]})
            if ctx is not None and ctx.operation == "feature_statistic" and direction and not segs \
                    and ctx_args.get("feature"):
                return Intent("rank_segments", {"feature": ctx_args["feature"], "level": ctx_args.get("level"),
                                                "direction": direction, "statistic": "mean", "among": [],
                                                "limit": None})
            if not segs:
                return Intent("refuse", {"reason": "unknown_words", "words": p.leftovers(f)})

    if f.feature:
        if len(segs) >= 2:
            return Intent("compare_segments", {"segments": segs[:2], "everyone": False, **feature_args})
        seg = segs[0] if segs else (ctx_segs[0] if ctx_segs and use_ctx else None)
        return Intent("feature_statistic", {"segment": seg, **feature_args,
                                            "statistic": _statistic(free, kind, f.feature.level)})
    if f.conditions:
        seg = segs[0] if segs else (ctx_segs[0] if ctx_segs and pronoun else None)
        return Intent("count_customers", {"segment": seg, "conditions": _conditions(p, f)})

    if segs:
        if free_set & SIZE_WORDS or free_set & SHARE_WORDS:
            return Intent("segment_size", {"segments": segs[:1]})
        if follow and ctx is not None and ctx.operation in INHERIT:
            return _inherit(ctx, segs)
        return Intent("describe_segment", {"segments": segs[:1]})

    if follow and ctx is not None and ctx.operation == "feature_statistic" and free_set & set(STATISTICS):
        stat = _statistic(free, p.vocab.features[ctx_args["feature"]].kind, ctx_args.get("level"))
        return Intent("feature_statistic", {**ctx_args, "statistic": stat})
    if use_ctx and ctx_segs and (free_set & SIZE_WORDS or free_set & SHARE_WORDS):
        return Intent("segment_size", {"segments": ctx_segs[:1]})
    if use_ctx and ctx_segs and words & {"describe", "tell", "more", "who", "profile", "drivers", "traits"}:
        return Intent("describe_segment", {"segments": ctx_segs[:1]})
    if free_set & OVERVIEW or words & SEGMENT_WORDS or words & {"describe", "tell", "explain"}:
        return Intent("overview", {})
    return Intent("refuse", {"reason": "unknown_words", "words": p.leftovers(f)})


def _inherit(ctx: Intent, segs: list) -> Intent:
    """Repeat the previous operation for newly named segment(s)."""
    args = {k: v for k, v in ctx.args.items() if not k.startswith("_")}
    op = ctx.operation
    if op == "rank_segments":
        return Intent("feature_statistic", {"segment": segs[0], "feature": args["feature"],
                                            "level": args.get("level"), "statistic": args.get("statistic", "mean")})
    if op in ("feature_statistic", "count_customers"):
        return Intent(op, {**args, "segment": segs[0]})
    if op == "compare_segments":
        previous = list(args.get("segments") or [])
        if len(segs) >= 2:
            pair = segs[:2]
        elif previous and previous[0] != segs[0]:
            pair = [previous[0], segs[0]]
        else:
            pair = segs[:1]
        return Intent(op, {**args, "segments": pair, "everyone": len(pair) == 1})
    return Intent(op, {**args, "segments": segs[:1]})


__all__ = ["decide"]
