"""ChatEngine: questions about one segmentation, answered from its statistics.

Without an LLM every answer is parsed (:mod:`.parser`), computed (:mod:`.operations`) and
rendered from templates (:mod:`.render`); with one (:mod:`.llm`), the LLM only chooses
operations and phrases their results, and its text is shown only when every sentence's
claims are in those results (:mod:`.claims`). Conversation state lives in :class:`Conversation`
objects (one per chat session), never at module level.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .actions_text import record_text_numbers
from .answer import Answer
from .numbers import NumberBook
from .intent import Intent
from .operations import OperationError, Operations, Result
from .parser import Parser, refusal_reason
from .render import Renderer
from .vocabulary import Vocabulary

OPERATIONS = ("overview", "count_segments", "unassigned", "segment_size", "segment_sizes", "extreme_size",
              "describe_segment", "compare_segments", "rank_segments", "per_segment", "larger_of",
              "feature_statistic", "count_customers", "customer_segment", "quality", "suggest_actions", "columns",
              "label_agreement")
#: Refusals the LLM is never asked to second-guess.
SAFETY_REASONS = frozenset({"instructions", "personal", "future", "causal"})
ID_LEAD = frozenset({"customer", "client", "id", "cust", "customerid", "customer_id"})
#: Words that make a bare number an id ("why is 6182 in ..."), when it is one of the table's ids.
ID_QUESTION = frozenset({"why", "which", "what", "where", "belong", "belongs", "segment", "group", "cluster"})
_COMPARING = frozenset({"than", "over", "under", "above", "below", "least", "most", "more", "less", "between",
                        "to", "and", "exactly", "equals", "aged", "before", "after"})
MAX_HISTORY = 10
#: Longest question the chat reads (characters). A longer one is refused before any parsing;
#: the app's question box states it.
MAX_QUESTION_CHARS = 2000
_RAW_CHUNK = re.compile(r"[A-Za-z0-9_\-.]+")
_EDGE = "_-."
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def question_too_long(n_chars: int) -> str:
    """The plain refusal of a question over :data:`MAX_QUESTION_CHARS` (the app shows it too)."""
    return (f"Your question is {n_chars:,} characters long; the chat reads questions of up to "
            f"{MAX_QUESTION_CHARS:,} characters. Shorten it and ask again.")


def raw_tokens(question: str) -> list[str]:
    """Id-like words as typed: letters, digits and ``_ - .`` inside, a letter or digit at each end.
    One pass (runs of those characters, trimmed), so a long run costs its length, not its square."""
    out = []
    for chunk in _RAW_CHUNK.findall(question):
        token = chunk.strip(_EDGE)
        if token:
            out.append(token)
    return out


def _coded(token: str) -> bool:
    """Starts with a letter and holds a digit ("C100042", "cust-42"): looks like a customer id."""
    return token[0] in _ASCII_LETTERS and any(ch.isdigit() for ch in token)


@dataclass(eq=False)
class Conversation:
    """One chat session: remembers the last question's operation for follow-ups."""

    engine: "ChatEngine"
    context: Intent | None = None
    questions: list = field(default_factory=list)

    def ask(self, question: str, use_llm: bool = True) -> Answer:
        """Answer ``question``; "and for segment 3?" reuses what the last answer was about.
        A question over :data:`MAX_QUESTION_CHARS` gets a plain refusal, unparsed and unremembered."""
        question = str(question)
        if len(question) > MAX_QUESTION_CHARS:
            return self.engine.too_long(len(question))
        answer, intent = self.engine._respond(question, self.context, list(self.questions), use_llm)
        if intent is not None and answer.answered:
            self.context = intent  # carries "_focus": the segments the answer was about
        self.questions.append(str(question))
        return answer


def _user_questions(history) -> list[str]:
    """User turns from a history: strings, (user, bot) pairs or {"role", "content"} messages."""
    out = []
    for item in history or []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and item.get("role") == "user" and isinstance(item.get("content"), str):
            out.append(item["content"])
        elif isinstance(item, (list, tuple)) and item and isinstance(item[0], str):
            out.append(item[0])
    return out[-MAX_HISTORY:]


class ChatEngine:
    """Answer questions about one :class:`~segmenter.report.SegmentationReport`.

    Parameters
    ----------
    report : the segmentation report (single source of truth).
    customers : the validated customers table (``__id__``, ``__segment__`` + features), needed
        for counting with conditions and totals; optional.
    local_explainer : ``customer_id -> LocalExplanation`` (e.g. ``Analysis.explain_customer``).
    llm : an :class:`~explainers.chat.llm.LLMClient` for phrasing; None answers from templates.
    """

    def __init__(self, report, customers=None, local_explainer=None, llm=None) -> None:
        self.report = report
        self.customers = customers
        self.llm = llm
        self.vocab = Vocabulary(report)
        self.ops = Operations(report, customers, self.vocab, local_explainer)
        self.parser = Parser(report, self.vocab, self._find_customer)
        self.renderer = Renderer()
        self._ids: dict | None = None
        self._answer_check = None

    # ------------------------------------------------------------ building
    @classmethod
    def from_analysis(cls, analysis, llm=None, llm_from_env: bool = True) -> "ChatEngine":
        """Engine over an :class:`explainers.analysis.Analysis` (LLM from the environment if set)."""
        if llm is None and llm_from_env:
            from .llm import LLMClient

            llm = LLMClient.from_env()
        explainer = analysis.explain_customer if getattr(analysis, "surrogate", None) is not None else None
        return cls(analysis.report, analysis.customers, explainer, llm)

    @classmethod
    def from_dir(cls, path: str | Path, llm=None, llm_from_env: bool = True) -> "ChatEngine":
        """Engine over a run folder written by ``cli.py run``."""
        from ..analysis import load_run

        return cls.from_analysis(load_run(Path(path)), llm=llm, llm_from_env=llm_from_env)

    def conversation(self) -> Conversation:
        """A new chat session (keep one per user/session)."""
        return Conversation(self)

    # -------------------------------------------------------------- asking
    def ask(self, question: str, history=None) -> Answer:
        """Answer one question; ``history`` (earlier user questions) gives follow-up context."""
        conv = self.conversation()
        for previous in _user_questions(history):
            conv.ask(previous, use_llm=False)
        return conv.ask(question)

    def answer_check(self):
        """The check of LLM answers for this report (:mod:`.claims`), built on first use."""
        if self._answer_check is None:
            from .claims import AnswerCheck

            self._answer_check = AnswerCheck(self)
        return self._answer_check

    def parse(self, question: str, context: Intent | None = None) -> Intent:
        return self.parser.parse(question, context)

    def _respond(self, question: str, context: Intent | None, previous: list,
                 use_llm: bool = True) -> tuple[Answer, Intent | None]:
        """(answer, context for the next question: the intent plus the segments it was about)."""
        intent = self.parser.parse(question, context)
        grounded, focus = self._execute(intent)
        recent = list((context.args.get("_recent") if context is not None else None) or [])
        recent = ([s for s in recent if s not in focus] + list(focus))[-2:]  # the last two segments talked about
        remembered = Intent(intent.operation, {**intent.args, "_focus": focus, "_recent": recent})
        if use_llm and self.llm is not None and self._llm_may_answer(intent):
            phrased, llm_intent = self.llm.answer(self, question, previous, grounded)
            if phrased is not None:
                return phrased, (remembered if grounded.answered else llm_intent)
        return grounded, remembered

    @staticmethod
    def _llm_may_answer(intent: Intent) -> bool:
        """The LLM phrases what the parser understood, and may retry questions it could not parse;
        it never overrides a refusal for safety, a question about a column the table lacks
        ("income"), or a request to say which segment was meant."""
        if intent.operation == "clarify":
            return False
        if intent.operation != "refuse":
            return True
        reason = intent.args.get("reason")
        if reason in SAFETY_REASONS or reason in ("no_such_segment", "customer_not_found"):
            return False
        return not (reason in ("unknown_words", "unknown_column") and intent.args.get("words"))

    # ------------------------------------------------------------ executing
    def compute(self, intent: Intent) -> Result:
        """Run one operation; raises :class:`OperationError` when it cannot be answered."""
        if intent.operation not in OPERATIONS:
            raise OperationError("unknown_operation")
        return getattr(self.ops, intent.operation)(dict(intent.args))

    def render(self, result: Result) -> str:
        return self.renderer.render(result.template, result.context)

    def execute(self, intent: Intent) -> Answer:
        """The grounded answer to a parsed question."""
        return self._execute(intent)[0]

    def _execute(self, intent: Intent) -> tuple[Answer, list]:
        if intent.operation == "refuse":
            return self.refusal(intent.args), []
        if intent.operation == "clarify":
            return self.clarify(intent.args), []
        if intent.operation == "help":
            examples = self.suggested_questions(6)
            book = NumberBook()
            record_text_numbers("\n".join(examples), "example questions", book)
            text = self.renderer.render("help.md.j2", {"examples": examples})
            return Answer(text, "help", {}, book.items, self.suggested_questions(3), True), []
        args = {k: v for k, v in intent.args.items() if not k.startswith("_")}
        try:
            result = self.compute(Intent(intent.operation, args))
        except OperationError as exc:
            return self.refusal({"reason": exc.reason, **exc.details}, operation=intent.operation), []
        answer = Answer(self.render(result), intent.operation, args, list(result.numbers),
                        self.follow_ups(result), True)
        return answer, list(result.focus.get("segments") or [])

    def too_long(self, n_chars: int) -> Answer:
        """The refusal of a question over :data:`MAX_QUESTION_CHARS` characters (nothing parsed)."""
        book = NumberBook()
        book.count(n_chars, "question: length in characters")
        book.count(MAX_QUESTION_CHARS, "chat: longest question")
        examples = self.suggested_questions(3)
        record_text_numbers("\n".join(examples), "example questions", book)
        return Answer(question_too_long(n_chars), "refuse", {"reason": "too_long", "requested": "refuse"},
                      book.items, examples, False)

    def refusal(self, args: dict, operation: str = "refuse") -> Answer:
        book = NumberBook()
        words = [str(w)[:40] for w in args.get("words", []) if w and not any(ch.isdigit() for ch in str(w))]
        ctx = {"reason": args.get("reason", ""), "words": words[:4],
               "asked": [book.ident(s, "question: segment number") for s in args.get("segments", [])],
               "n_segments": book.count(len(self.report.real_segments), "metrics.n_segments"),
               "customer_id": str(args.get("customer_id", ""))[:60], "message": str(args.get("message", "")),
               "label": str(args.get("label", "")), "levels": [str(v) for v in args.get("levels", [])][:12],
               "examples": self.suggested_questions(3)}
        if ctx["reason"] != "no_such_segment":
            book.items.clear()
        if ctx["reason"] == "need_threshold" and args.get("feature") in self.vocab.columns:
            feature = args["feature"]
            median = ((self.report.overall.get("numeric") or {}).get(feature) or {}).get("median")
            ctx["label"] = self.vocab.label(feature)
            ctx["example"] = self.ops.value(book, feature, median, f"overall.numeric.{feature}.median") \
                if median is not None else "a value"
        record_text_numbers(ctx["customer_id"], "question: customer id", book)
        record_text_numbers(ctx["message"], "error message", book)
        record_text_numbers(" ".join(ctx["levels"]), "report: levels", book)
        record_text_numbers("\n".join(ctx["examples"]), "example questions", book)
        text = self.renderer.render("refuse.md.j2", ctx)
        return Answer(text, "refuse", {"reason": ctx["reason"], "requested": operation}, book.items,
                      ctx["examples"], False)

    def clarify(self, args: dict) -> Answer:
        book = NumberBook()
        if args.get("features"):
            options = [{"name": self.vocab.label(f), "id": "", "is_noise": False} for f in args["features"]]
        else:
            options = [self.ops.seg_ref(self.ops.seg(s), book) for s in args.get("candidates", [])]
        text = self.renderer.render("clarify.md.j2", {"options": options})
        return Answer(text, "clarify", dict(args), book.items, self.suggested_questions(3), False)

    # ----------------------------------------------------------- customers
    def _id_index(self) -> dict:
        """Lower-case id -> the id as stored (first row wins), built once: a lookup per question
        word costs a dict access, not a scan of every customer."""
        if self._ids is None:
            source = self.customers["__id__"] if self.customers is not None else self.report.assignments["id"]
            index: dict = {}
            for value in source.astype(str).tolist():
                index.setdefault(value.lower(), value)
            self._ids = index
        return self._ids

    def _lookup(self, token: str) -> str | None:
        return self._id_index().get(token.lower())

    def _find_customer(self, question: str) -> tuple[str | None, str | None]:
        """(customer id found, id-like text not found) in a question."""
        raw = raw_tokens(str(question))
        missing = None
        about_one = bool({w.lower() for w in raw} & ID_QUESTION)
        for k, tok in enumerate(raw):
            lead = k > 0 and raw[k - 1].lower() in ID_LEAD or (
                k > 1 and raw[k - 2].lower() in ID_LEAD and raw[k - 1].lower() in ("no", "number", "nr"))
            bare = (about_one and tok.isdigit() and len(tok) >= 3 and not (k > 0 and raw[k - 1].lower() in _COMPARING)
                    and not (k > 0 and raw[k - 1].lower() in ("segment", "seg", "group", "cluster")))
            if not (_coded(tok) or (lead and any(ch.isdigit() for ch in tok)) or bare):
                continue
            if bare and not lead and not _coded(tok):
                found = self._lookup(tok)
                if found is not None:
                    return found, None
                continue
            found = self._lookup(tok)
            if found is not None:
                return found, None
            if missing is None and (lead or re.search(r"\d{3,}", tok)):
                missing = tok
        return None, missing

    # ---------------------------------------------------------- suggestions
    def _ref(self, seg) -> str:
        """How a suggested question names a segment: its name if the parser reads it back."""
        name = seg.name
        if refusal_reason(name) is None:
            intent = self.parser.parse(f"How big is {name}?")
            if intent.operation == "segment_size" and intent.args.get("segments") == [seg.id]:
                return name
        return f"segment {seg.id}"

    def _features(self, seg=None) -> list:
        segs = [seg] if seg is not None else self.report.real_segments
        out = []
        for s in segs:
            for d in (s.drivers or s.distinguishing):
                f = d["feature"]
                if f not in out and self.report.feature_types.get(f) in ("numeric", "boolean"):
                    out.append(f)
        return out + [f for f in self.report.features
                      if f not in out and self.report.feature_types.get(f) in ("numeric", "boolean")]

    def suggested_questions(self, n: int = 6) -> list[str]:
        """Example questions this engine answers for this report (real names and columns)."""
        real = self.report.real_segments
        feats = self._features()
        label = self.vocab.label
        out = ["Give me an overview of the segments"]
        if real:
            out.append(f"What makes {self._ref(real[0])} different?")
        if feats:
            out.append(f"Which segment has the highest {label(feats[0])}?")
        if len(real) > 1:
            out.append(f"How many customers are in {self._ref(real[1])}?")
            out.append(f"Compare {self._ref(real[0])} and {self._ref(real[1])}")
        out.append("How reliable is this segmentation?")
        if real:
            out.append(f"What should we do for {self._ref(real[-1])}?")
        if len(feats) > 1 and real:
            out.append(f"What is the average {label(feats[1])} in {self._ref(real[0])}?")
        return out[:max(0, n)]

    def follow_ups(self, result: Result) -> list[str]:
        """Three follow-up questions about what the last answer was about."""
        segs = [s for s in result.focus.get("segments") or [] if s != -1 and s in self.ops.index]
        feature = result.focus.get("feature")
        label = self.vocab.label
        out = []
        if segs:
            ref = self._ref(self.ops.seg(segs[0]))
            if feature and self.report.feature_types.get(feature) != "categorical":
                out.append(f"Which segment has the highest {label(feature)}?")
            if result.operation != "describe_segment":
                out.append(f"What makes {ref} different?")
            if result.operation != "suggest_actions":
                out.append(f"What should we do for {ref}?")
            if result.operation != "compare_segments":
                out.append(f"How does {ref} compare with everyone?")
        elif feature and self.report.feature_types.get(feature) != "categorical":
            out.append(f"Which segment has the lowest {label(feature)}?")
        for q in self.suggested_questions(6):
            if len(out) >= 3:
                break
            if q not in out:
                out.append(q)
        return out[:3]


__all__ = ["ChatEngine", "Conversation", "Answer", "OPERATIONS", "MAX_QUESTION_CHARS", "question_too_long"]
