"""Chat about segments: questions answered from the report's statistics.

``ChatEngine(report, customers).ask("how big is segment 2?")`` returns an :class:`Answer`
whose every number is recorded with its source. An optional OpenAI-compatible LLM
(:class:`LLMClient`, configured from ``SEGMENT_LLM_*`` environment variables) may phrase
answers; its text is used only when every sentence's claims are in the results it was given
(:mod:`.claims`).
"""
from .engine import MAX_QUESTION_CHARS, Answer, ChatEngine, Conversation, question_too_long
from .llm import LLMClient

__all__ = ["ChatEngine", "Answer", "Conversation", "LLMClient", "MAX_QUESTION_CHARS", "question_too_long"]
