"""A scripted OpenAI-compatible server for the LLM-mode tests, over real HTTP.

A small FastAPI app on 127.0.0.1 (a free port, uvicorn in a background thread) serving
POST /v1/chat/completions, plain and streamed (SSE). Each test scripts the replies it
needs, in order; the fake records every request body it received, so tests can assert on
what reached "the model" (e.g. that no PII did).

It can also behave like the local servers of research/local-llm-servers.md: refuse
`response_format: json_schema` (400, as llama.cpp builds without grammar support do, or
500 as llama-cpp-python does) and refuse messages whose content is null.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse


@dataclass
class Reply:
    """One scripted answer. `content` may be any text, including broken JSON."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None  # [{"name": ..., "arguments": {...}}]
    status: int = 200
    error: str = "scripted failure"
    delay_s: float = 0.0  # before answering (or before the first streamed chunk)
    chunks: list[str] | None = None  # streamed pieces; default: content in 3-char pieces
    chunk_delay_s: float = 0.0  # between streamed pieces (a stall after the first)
    usage: tuple[int, int] = (21, 9)
    raw_body: str | None = None  # a 200 whose body is not JSON at all
    finish: str | None = None  # finish_reason to report ("length": cut at the cap)


@dataclass
class FakeLLM:
    url: str = ""  # base_url for ChatOpenAI, ".../v1"
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Local-server behaviours, off by default.
    refuse_json_schema: int | None = None  # HTTP status to refuse response_format json_schema
    refuse_tools: bool = False  # 400 for any request carrying `tools`
    refuse_null_content: bool = True  # llama-cpp-python rejects content: null
    stream_usage: bool = True  # False: like llama-cpp-python, no usage in streams, ever
    tokenizer: bool = False  # serve llama-cpp-python's /extras/tokenize/count (words)
    closing: bool = False  # set at shutdown: scripted delays end early
    abandoned: int = 0  # streams the client closed before their end
    # Answers requests nothing was scripted for (e.g. a whole conversation): body -> Reply.
    responder: Callable[[dict[str, Any]], Reply] | None = None

    async def pause(self, seconds: float) -> None:
        """A scripted delay that ends early when the server stops (no stuck shutdown)."""
        end = time.monotonic() + seconds
        while not self.closing and time.monotonic() < end:
            await asyncio.sleep(min(0.02, max(0.0, end - time.monotonic())))

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def reset(self) -> None:
        self.replies.clear()
        self.requests.clear()
        self.refuse_json_schema = None
        self.refuse_tools = False
        self.refuse_null_content = True
        self.stream_usage = True
        self.tokenizer = False
        self.abandoned = 0
        self.responder = None

    def received(self) -> str:
        """Everything the fake was sent, as one string to search."""
        return json.dumps(self.requests, ensure_ascii=False)

    def response_formats(self) -> list[str | None]:
        return [(r.get("response_format") or {}).get("type") for r in self.requests]


async def no_sleep(_: float) -> None:
    """Backoff without waiting, for tests of retries."""


def _completion(reply: Reply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    finish = reply.finish or "stop"
    if reply.tool_calls:
        finish = "tool_calls"
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])},
            }
            for i, call in enumerate(reply.tool_calls)
        ]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": reply.usage[0],
            "completion_tokens": reply.usage[1],
            "total_tokens": sum(reply.usage),
        },
    }


async def _sse(
    fake: FakeLLM, reply: Reply, model: str, include_usage: bool
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n".encode()

    finished = False
    try:
        async for piece in _sse_pieces(fake, reply, model, include_usage, chunk):
            yield piece
        finished = True
    finally:
        if not finished:  # the client went away mid-stream (a deadline, a cancelled turn)
            fake.abandoned += 1


async def _sse_pieces(
    fake: FakeLLM,
    reply: Reply,
    model: str,
    include_usage: bool,
    chunk: Callable[..., bytes],
) -> AsyncIterator[bytes]:
    await fake.pause(reply.delay_s)
    text = reply.content or ""
    pieces = (
        reply.chunks
        if reply.chunks is not None
        else [text[i : i + 3] for i in range(0, len(text), 3)]
    )
    yield chunk({"role": "assistant", "content": ""})
    for index, piece in enumerate(pieces):
        if reply.chunk_delay_s and index:
            await fake.pause(reply.chunk_delay_s)
        yield chunk({"content": piece})
    for index, call in enumerate(reply.tool_calls or []):
        # As OpenAI streams a call: id and name first, then the arguments in pieces.
        arguments = json.dumps(call["arguments"])
        head = {"index": index, "id": f"call_{index}", "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": call["name"], "arguments": ""}}]})
        for start in range(0, len(arguments), 8):
            piece = {"index": index, "function": {"arguments": arguments[start : start + 8]}}
            yield chunk({"tool_calls": [piece]})
    yield chunk({}, reply.finish or ("tool_calls" if reply.tool_calls else "stop"))
    if include_usage:
        usage = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [],
            "usage": {
                "prompt_tokens": reply.usage[0],
                "completion_tokens": reply.usage[1],
                "total_tokens": sum(reply.usage),
            },
        }
        yield f"data: {json.dumps(usage)}\n\n".encode()
    yield b"data: [DONE]\n\n"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "fake_error", "code": status}}, status
    )


def build_app(fake: FakeLLM) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        fake.requests.append(body)
        model = body.get("model", "fake")
        if fake.refuse_null_content and any(m.get("content") is None for m in body["messages"]):
            return _error(400, "'content' of a message must be a string, got null")
        if (
            fake.refuse_json_schema
            and (body.get("response_format") or {}).get("type") == "json_schema"
        ):
            return _error(
                fake.refuse_json_schema,
                "response_format: only 'text' and 'json_object' are supported",
            )
        if fake.refuse_tools and body.get("tools"):
            return _error(400, "tools are not supported by this server")
        if fake.replies:
            reply = fake.replies.popleft()
        elif fake.responder is not None:
            reply = fake.responder(body)
        else:
            return _error(500, "the test scripted no reply for this request")
        if reply.status != 200:
            await fake.pause(reply.delay_s)
            return _error(reply.status, reply.error)
        if body.get("stream") and reply.raw_body is not None:
            return Response(reply.raw_body, media_type="text/event-stream")
        if body.get("stream"):
            asked = bool((body.get("stream_options") or {}).get("include_usage"))
            include_usage = asked and fake.stream_usage
            return StreamingResponse(
                _sse(fake, reply, model, include_usage), media_type="text/event-stream"
            )
        await fake.pause(reply.delay_s)
        if reply.raw_body is not None:
            return Response(reply.raw_body, media_type="application/json")
        return JSONResponse(_completion(reply, model))

    @app.post("/extras/tokenize/count")
    async def count(request: Request) -> Response:
        if not fake.tokenizer:
            return _error(404, "Not Found")
        body = await request.json()
        return JSONResponse({"count": len(str(body["input"]).split())})

    return app


@contextmanager
def serve_fake() -> Iterator[FakeLLM]:
    """Run the fake until the block ends; the socket is bound before the thread starts, so
    there is no race for the port."""
    fake = FakeLLM()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    fake.url = f"http://127.0.0.1:{port}/v1"
    config = uvicorn.Config(
        build_app(fake), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake LLM server did not start")
        time.sleep(0.01)
    try:
        yield fake
    finally:
        fake.closing = True
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


# -- a scripted "shop model": plausible answers for whole conversations ---------------------

MODEL_VOICE = "Happy to help! "  # marks replies the model wrote
INTENT_WORDS = (
    ("cancel", "order_modification"),
    ("human", "human_agent"),
    ("where", "order_tracking"),
    ("return", "returns_refunds"),
    ("shipping", "shipping"),
    ("hello", "greeting"),
)


def _text(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    return content if isinstance(content, str) else json.dumps(content)


def request_kind(body: dict[str, Any]) -> str:
    """understanding, phrasing or tools: which of supportgraph's prompts this is."""
    system = _text(body["messages"][0])
    if "Task: read the customer" in system:  # also when asked as a function call
        return "understanding"
    if body.get("tools") or ("tool" in system.lower() and "call" in system.lower()):
        return "tools"
    return "phrasing"


def shop_model(
    body: dict[str, Any], proposals: list[dict[str, Any]] | None = None, voice: str = MODEL_VOICE
) -> Reply:
    """Understanding from a few keywords, replies that reword the template reply (so they
    are grounded), and the given tool-call proposals."""
    kind = request_kind(body)
    user = _text(body["messages"][-1])
    said = next(
        (_text(m) for m in body["messages"] if "Customer message:" in _text(m)), user
    )  # json_mode / prompt methods append their instructions after it
    if kind == "understanding" and body.get("tools"):  # structured output as a function call
        name = body["tools"][0]["function"]["name"]
        message = said.split("Customer message:", 1)[-1].strip().splitlines()[0].lower()
        intent = next((i for word, i in INTENT_WORDS if word in message), "general_inquiry")
        answer = {"intent": intent, "entities": {}, "sentiment": 0.0, "uncertainty": 0.1}
        return Reply(tool_calls=[{"name": name, "arguments": {**answer, "language": "en"}}])
    if kind == "understanding":
        message = said.split("Customer message:", 1)[-1].strip().splitlines()[0].lower()
        intent = next((i for word, i in INTENT_WORDS if word in message), "general_inquiry")
        answer = {"intent": intent, "entities": {}, "sentiment": 0.0, "uncertainty": 0.1}
        return Reply(content=json.dumps({**answer, "language": "en"}))
    if kind == "tools":
        return Reply(content=None if proposals else "", tool_calls=proposals or None)
    prompt = next((_text(m) for m in body["messages"] if "Facts (JSON): " in _text(m)), None)
    if prompt is None:  # e.g. the start-up probe
        return Reply(content="pong")
    facts = json.loads(prompt.split("Facts (JSON): ", 1)[1].split("\n\n", 1)[0])
    return Reply(content=voice + facts["template_reply"])
