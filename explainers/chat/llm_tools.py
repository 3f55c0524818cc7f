"""Tool definitions offered to an LLM (one per grounded operation) and their execution.

Tool definitions hold no table text: columns and segments are free-text arguments that
are resolved here against the report with the same matching as the grounded parser, so
an unknown column is an error, never a guess. Results go back as JSON data.
"""
from __future__ import annotations

import json

from .filters import OPS, Condition
from .intent import Intent
from .parser import refusal_reason
from .results import OperationError, Result

SEGMENT = {"type": "string", "description": "segment number (e.g. \"2\") or segment name as the user wrote it"}
COLUMN = {"type": "string", "description": "column name or plain words for it, as the user wrote it"}
LEVEL = {"type": "string", "description": "a value of a categorical column (e.g. a channel or region name)"}


def _tool(name: str, description: str, properties: dict | None = None, required: tuple = ()) -> dict:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties or {}, "required": list(required),
                       "additionalProperties": False}}}


TOOLS: tuple = (
    _tool("overview", "All segments with their sizes and main traits."),
    _tool("count_segments", "How many segments there are."),
    _tool("unassigned", "How many customers fit no segment (Unassigned) and what that means."),
    _tool("segment_size", "Number and share of customers in one segment.", {"segment": SEGMENT}, ("segment",)),
    _tool("extreme_size", "The largest or smallest segment.",
          {"which": {"type": "string", "enum": ["largest", "smallest"]}}, ("which",)),
    _tool("describe_segment", "Size and main drivers/traits of one segment.", {"segment": SEGMENT}, ("segment",)),
    _tool("compare_segments", "Compare a segment with another segment, or with everyone when other_segment "
          "is omitted; optionally on one column.",
          {"segment": SEGMENT, "other_segment": SEGMENT, "column": COLUMN}, ("segment",)),
    _tool("rank_segments", "Which segment has the highest or lowest value of a column (mean or median; "
          "share of a level for categorical columns).",
          {"column": COLUMN, "direction": {"type": "string", "enum": ["highest", "lowest"]},
           "statistic": {"type": "string", "enum": ["mean", "median"]}, "level": LEVEL},
          ("column", "direction")),
    _tool("feature_statistic", "One statistic of a column in a segment (or for all customers when segment is "
          "omitted).",
          {"column": COLUMN, "segment": SEGMENT, "level": LEVEL,
           "statistic": {"type": "string", "enum": ["mean", "median", "min", "max", "quartiles", "range", "std",
                                                    "total", "share", "distribution"]}},
          ("column",)),
    _tool("count_customers", "Count customers meeting conditions, optionally within one segment.",
          {"segment": SEGMENT, "conditions": {"type": "array", "items": {
              "type": "object", "properties": {"column": COLUMN, "op": {"type": "string", "enum": list(OPS)},
                                               "value": {"type": ["number", "string", "null"]},
                                               "value2": {"type": ["number", "null"]}},
              "required": ["column", "op"]}}}),
    _tool("customer_segment", "Which segment one customer (by id) is in, and why.",
          {"customer_id": {"type": "string"}}, ("customer_id",)),
    _tool("quality", "How good and reliable the segmentation and its explanations are."),
    _tool("suggest_actions", "Rule-based marketing actions for one segment (or all when omitted).",
          {"segment": SEGMENT}),
)
TOOL_NAMES = frozenset(t["function"]["name"] for t in TOOLS)


class ToolError(Exception):
    """A tool call that cannot be executed as given (sent back to the LLM as an error)."""


def _segment(engine, value) -> int:
    seg_id = engine.parser.resolve_segment(value)
    if seg_id is None:
        raise ToolError("unknown segment; use a segment number or call overview")
    return seg_id


def _column(engine, value) -> str:
    """The column a tool argument names; never one the parser refuses to talk about (personal
    details such as a zip code or a date of birth), whether the words or the column say it."""
    words = str(value)[:200]
    column = engine.parser.resolve_feature(words)
    named = [words] + ([str(column), engine.vocab.label(column)] if column is not None else [])
    if any(refusal_reason(text) in ("personal", "instructions") for text in named):
        raise ToolError("this column holds personal details, which are never shared; answer without it")
    if column is None:
        raise ToolError("no such column in this table; do not guess another column")
    return column


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ToolError("condition values must be numbers")
    try:
        return float(value)
    except ValueError as exc:
        raise ToolError("condition values must be numbers") from exc


def _condition(engine, raw) -> dict:
    if not isinstance(raw, dict):
        raise ToolError("each condition is an object")
    column = _column(engine, raw.get("column", ""))
    op = raw.get("op")
    if op not in OPS:
        raise ToolError(f"op must be one of {', '.join(OPS)}")
    if op in ("is_level", "not_level"):
        level = engine.parser.resolve_level(column, raw.get("value", ""))
        if level is None:
            raise ToolError("unknown value for this column")
        return Condition(column, op, level).to_dict()
    if op in ("is_true", "is_false"):
        return Condition(column, op).to_dict()
    value2 = _number(raw.get("value2")) if op == "between" else None
    return Condition(column, op, _number(raw.get("value")), value2).to_dict()


def to_intent(engine, name: str, args: dict) -> Intent:
    """Validate one tool call and turn it into a grounded :class:`Intent`."""
    if name not in TOOL_NAMES:
        raise ToolError("unknown tool")
    if not isinstance(args, dict):
        raise ToolError("arguments must be a JSON object")
    seg = args.get("segment")
    if name in ("overview", "count_segments", "unassigned", "quality"):
        return Intent(name, {})
    if name == "extreme_size":
        return Intent(name, {"which": "smallest" if args.get("which") == "smallest" else "largest"})
    if name in ("segment_size", "describe_segment"):
        return Intent(name, {"segments": [_segment(engine, seg)]})
    if name == "suggest_actions":
        return Intent(name, {"segments": [_segment(engine, seg)] if seg not in (None, "") else []})
    if name == "customer_segment":
        return Intent(name, {"customer_id": str(args.get("customer_id", ""))[:100]})
    if name == "compare_segments":
        segs = [_segment(engine, seg)]
        if args.get("other_segment") not in (None, ""):
            segs.append(_segment(engine, args["other_segment"]))
        out = {"segments": segs, "everyone": len(segs) == 1}
        if args.get("column"):
            out["feature"] = _column(engine, args["column"])
            out["level"] = None
        return Intent(name, out)
    if name == "count_customers":
        conditions = args.get("conditions") or []
        if not isinstance(conditions, list) or len(conditions) > 6:
            raise ToolError("conditions must be a list of at most 6 conditions")
        return Intent(name, {"segment": _segment(engine, seg) if seg not in (None, "") else None,
                             "conditions": [_condition(engine, c) for c in conditions]})
    column = _column(engine, args.get("column", ""))
    level = None
    if args.get("level") not in (None, ""):
        level = engine.parser.resolve_level(column, args["level"])
        if level is None:
            raise ToolError("unknown value for this column")
    if name == "rank_segments":
        return Intent(name, {"feature": column, "level": level,
                             "direction": "lowest" if args.get("direction") == "lowest" else "highest",
                             "statistic": "median" if args.get("statistic") == "median" else "mean",
                             "among": [], "limit": None})
    stat = args.get("statistic") or "mean"
    return Intent("feature_statistic", {"segment": _segment(engine, seg) if seg not in (None, "") else None,
                                        "feature": column, "level": level, "statistic": str(stat)})


def run_tool(engine, name: str, raw_arguments) -> tuple[str, Intent | None, Result | None]:
    """Execute one tool call: (JSON content for the tool message, intent, result or None)."""
    try:
        args = json.loads(raw_arguments) if isinstance(raw_arguments, str) else raw_arguments
        intent = to_intent(engine, name, args if args is not None else {})
        result = engine.compute(intent)
    except (ToolError, OperationError, json.JSONDecodeError, TypeError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, OperationError) else str(exc)
        return json.dumps({"error": reason[:200]}), None, None
    payload = {"result": engine.render(result),
               "numbers": [{"shown": n["display"], "source": n["source"]} for n in result.numbers if n["display"]]}
    return json.dumps(payload, ensure_ascii=False), intent, result


__all__ = ["TOOLS", "TOOL_NAMES", "ToolError", "to_intent", "run_tool"]
