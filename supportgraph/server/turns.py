"""A customer message over HTTP: the checks before its turn, the turn as JSON or as SSE, and
what every turn leaves behind (the metrics and one `turn` log line, written in `turn_done`
for both answers). The routes take the turn's admission slot (admission.py) first."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import HTTPException, Request

from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.agent import InvalidMessage, MessageTooLong, SupportAgent
from supportgraph.server.admission import TurnSlot
from supportgraph.server.dependencies import metrics_of
from supportgraph.server.errors import refused
from supportgraph.server.observability import log_event


def message_id_of(request: Request, in_body: str | None) -> str | None:
    """The client's id for a message: the Idempotency-Key header or client_message_id."""
    header = request.headers.get("idempotency-key")
    if header is not None and not 0 < len(header) <= 200:
        raise HTTPException(422, "Idempotency-Key must be 1-200 characters")
    if header and in_body and header != in_body:
        raise HTTPException(422, "Idempotency-Key and client_message_id differ")
    return header or in_body


def check_length(agent: SupportAgent, text: str) -> None:
    """413 before any turn starts (and before an SSE stream opens) for a message over
    SupportAgent's length limit. Its other refusals (an empty message) come from the turn:
    a 422 as JSON, an `error` event in SSE."""
    try:
        agent.validate(text)
    except MessageTooLong as exc:
        raise refused(exc) from exc
    except InvalidMessage:
        pass


def turn_done(request: Request, record: TurnRecord) -> None:
    """Count the turn and write its `turn` log line (ids and numbers only, never texts)."""
    metrics_of(request).observe(record)
    log_event(
        "turn",
        request_id=request.state.request_id,
        thread=record.thread_id,
        turn=record.turn,
        intent=record.intent,
        escalation=record.escalation.action,
        ms=record.latency_ms,
    )


async def send_turn(
    agent: SupportAgent, thread_id: str, text: str, request: Request, message_id: str | None
) -> TurnRecord:
    """The turn answered as JSON: its TurnRecord, or 413/422 for a message it refuses."""
    try:
        record = await agent.send(thread_id, text, client_message_id=message_id)
    except InvalidMessage as exc:
        raise refused(exc) from exc
    turn_done(request, record)
    return record


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream_turn(
    agent: SupportAgent,
    thread_id: str,
    text: str,
    request: Request,
    message_id: str | None,
    slot: TurnSlot,
) -> AsyncIterator[str]:
    """The turn as SSE (see `turn_events`), started now in a task that holds the admission
    `slot` until the turn ends; the answer's body reads what the task writes. The turn
    completes, and keeps its slot, even if the client goes away or never reads a byte."""
    chunks: asyncio.Queue[str | None] = asyncio.Queue()

    async def run() -> None:
        try:
            async for chunk in turn_events(agent, thread_id, text, request, message_id):
                chunks.put_nowait(chunk)
        finally:
            chunks.put_nowait(None)

    async def body() -> AsyncIterator[str]:
        while (chunk := await chunks.get()) is not None:
            yield chunk

    slot.start(run())
    return body()


async def turn_events(
    agent: SupportAgent,
    thread_id: str,
    text: str,
    request: Request,
    message_id: str | None = None,
) -> AsyncIterator[str]:
    """The turn's SSE events: `node` (names and timings, not state), `token`/`reset` in LLM
    mode (the reply as it is written), then one `turn` (the TurnRecord) or one `error`."""
    try:
        # The turn is counted and logged when it commits, even if the client has gone.
        turns = agent.stream(
            thread_id, text, client_message_id=message_id, on_turn=lambda r: turn_done(request, r)
        )
        async for event in turns:
            if event.kind == "node":
                yield sse("node", {"name": event.data["name"], "ms": event.data["ms"]})
            elif event.kind in ("token", "reset"):
                yield sse(event.kind, event.data)
            elif event.kind == "turn":
                yield sse("turn", event.data.model_dump(mode="json"))
    except InvalidMessage as exc:
        yield sse("error", {"code": "invalid_message", "message": str(exc)})
    except Exception as exc:  # reported in the stream, never a broken connection
        yield sse("error", {"code": "internal", "message": type(exc).__name__})
