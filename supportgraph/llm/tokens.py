"""Token counts for answers that came without usage.

OpenAI sends usage at the end of a stream when asked (`stream_options.include_usage`);
llama-cpp-python and some other local servers send none, so a streamed turn would report
zero tokens. Then the server's own tokenizer counts the prompt and the answer:
llama-cpp-python serves `POST /extras/tokenize/count`, llama.cpp's server `POST /tokenize`.
Which one an endpoint has is found once and remembered; an endpoint with neither gets an
estimate (about four characters per token), never zero.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

CHARS_PER_TOKEN = 4.0  # the usual rule of thumb for BPE tokenizers on English text
COUNT_TIMEOUT_S = 2.0
# Chat templates add a few tokens per message (role markers, separators).
TEMPLATE_TOKENS_PER_MESSAGE = 4


def _root(base_url: str) -> str:
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def estimate(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


async def _llama_cpp_python(client: httpx.AsyncClient, root: str, text: str) -> int:
    response = await client.post(f"{root}/extras/tokenize/count", json={"input": text})
    response.raise_for_status()
    return int(response.json()["count"])


async def _llama_cpp(client: httpx.AsyncClient, root: str, text: str) -> int:
    response = await client.post(f"{root}/tokenize", json={"content": text})
    response.raise_for_status()
    return len(response.json()["tokens"])


Counter = Callable[[httpx.AsyncClient, str, str], Awaitable[int]]
COUNTERS: dict[str, Counter] = {"llama-cpp-python": _llama_cpp_python, "llama.cpp": _llama_cpp}


class TokenCounter:
    """Counts tokens with an endpoint's tokenizer; one per process, shared by its layers."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self._found: dict[str, str | None] = {}  # root -> counter name (None: none works)

    async def count(self, base_url: str, text: str, headers: dict[str, str] | None = None) -> int:
        return (await self.count_texts(base_url, [text], headers))[0]

    async def count_texts(
        self, base_url: str, texts: list[str], headers: dict[str, str] | None = None
    ) -> list[int]:
        """The token count of each text, over one connection; estimates where the endpoint
        has no tokenizer (then no connection is opened at all once that is known)."""
        root = _root(base_url)
        if self._found.get(root, "") is None:
            return [estimate(text) for text in texts]
        async with httpx.AsyncClient(
            timeout=COUNT_TIMEOUT_S, transport=self._transport, headers=headers
        ) as client:
            return [await self._count_one(client, root, text) for text in texts]

    async def _count_one(self, client: httpx.AsyncClient, root: str, text: str) -> int:
        if not text:
            return 0
        known = self._found.get(root, "")
        for name in [known] if known else list(COUNTERS):
            if name is None:
                break
            try:
                counted = await COUNTERS[name](client, root, text)
            except (httpx.HTTPError, KeyError, TypeError, ValueError):
                continue
            self._found[root] = name
            return counted
        self._found[root] = None
        return estimate(text)

    async def count_call(
        self,
        base_url: str,
        prompt: list[Any],
        answer: str,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, int]:
        """(tokens in, tokens out) of one call: the messages' text and the answer's."""
        text = "\n".join(str(getattr(m, "content", m)) for m in prompt)
        tokens_in, tokens_out = await self.count_texts(base_url, [text, answer], headers)
        return tokens_in + TEMPLATE_TOKENS_PER_MESSAGE * len(prompt), tokens_out
