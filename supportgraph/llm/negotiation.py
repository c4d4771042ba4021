"""Structured-output and tool-call negotiation: which way of asking works on which endpoint.

Servers differ (research/local-llm-servers.md): llama-cpp-python refuses json_schema with
HTTP 500, llama.cpp's server ignores a forced tool_choice, some refuse `tools` entirely.
So each endpoint is asked the preferred way first, falls back in a fixed order, and the
way that worked is remembered; a way the server refused is not tried again.
"""

from __future__ import annotations

from collections.abc import Sequence

from supportgraph.llm.settings import StructuredMethod

# Cheapest enforced method first. json_mode carries the schema, which llama-cpp-python (it
# refuses json_schema) enforces as a grammar; function calling puts the schema into the
# prompt (about 700 tokens instead of 300 there) and compiles a grammar per request, so it
# comes after.
STRUCTURED_METHODS: tuple[StructuredMethod, ...] = (
    "json_schema",
    "json_mode",
    "function_calling",
    "prompt",
)
TOOL_METHODS = ("native", "prompt")
# Words in a server's error that say "I don't support this request feature", as opposed to
# "I am broken": llama-cpp-python answers an unsupported response_format with HTTP 500.
FEATURE_WORDS = ("response_format", "json_schema", "json_object", "tool", "function")


class MethodMemory:
    """Which way of asking each endpoint works, shared by all layers of a process."""

    def __init__(self) -> None:
        self._worked: dict[str, str] = {}
        self._refused: dict[str, set[str]] = {}

    def order(self, key: str, candidates: Sequence[str]) -> list[str]:
        refused = self._refused.get(key, set())
        remembered = self._worked.get(key)
        rest = [m for m in candidates if m not in refused and m != remembered]
        return [remembered, *rest] if remembered in candidates and remembered else rest

    def worked(self, key: str, method: str) -> None:
        self._worked[key] = method

    def refused(self, key: str, method: str) -> None:
        self._refused.setdefault(key, set()).add(method)
        if self._worked.get(key) == method:
            del self._worked[key]

    def known(self, key: str) -> str | None:
        return self._worked.get(key)


def refuses_feature(exc: BaseException) -> bool:
    import openai

    if not isinstance(exc, openai.APIStatusError):
        return False
    if exc.status_code in (400, 422):
        return True
    return exc.status_code >= 500 and any(w in str(exc).lower() for w in FEATURE_WORDS)
