"""A customer message over HTTP: the checks before its turn, the turn as JSON or as SSE, and
what every turn leaves behind (the metrics and one `turn` log line, written in `turn_done`
for both answers)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import HTTPException, Request

from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.agent import InvalidMessage, SupportAgent
from supportgraph.server.dependencies import metrics_of, settings_of
from supportgraph.server.observability import log_event


def message_id_of(request: Request, in_body: str | None) -> str | None:
    """The client's id for a message: the Idempotency-Key header or client_message_id."""
    header = request.headers.get("idempotency-key")
    if header is not None and not 0 < len(header) <= 200:
        raise HTTPException(422, "Idempotency-Key must be 1-200 characters")
    if header and in_body and header != in_body:
        raise HTTPException(422, "Idempotency-Key and client_message_id differ")
    return header or in_body


def check_length(request: Request, text: str) -> None:
    """413 for a message over the limit, before any turn starts."""
    limit = settings_of(request).max_message_chars
    if len(text) > limit:
        raise HTTPException(413, f"message longer than {limit} characters")


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
    """The turn answered as JSON: its TurnRecord, or 422 for a message it cannot process."""
    try:
        record = await agent.send(thread_id, text, client_message_id=message_id)
    except InvalidMessage as exc:
        raise HTTPException(422, str(exc)) from exc
    turn_done(request, record)
    return record


async def stream_turn(
    agent: SupportAgent,
    thread_id: str,
    text: str,
    request: Request,
    message_id: str | None = None,
) -> AsyncIterator[str]:
    """The turn as SSE: `node` events (names and timings), `token`/`reset` in LLM mode, then
    one `turn` (the TurnRecord) or one `error`."""
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def sink(event: str, data: dict[str, Any]) -> None:
        if event == "node":  # progress only: names and timings, not state
            await queue.put((event, {"name": data["name"], "ms": data["ms"]}))
        elif event in ("token", "reset"):  # LLM mode: the reply as it is written
            await queue.put((event, data))

    async def run() -> None:
        try:
            record = await agent.send(thread_id, text, on_event=sink, client_message_id=message_id)
            turn_done(request, record)
            await queue.put(("turn", record.model_dump(mode="json")))
        except InvalidMessage as exc:
            await queue.put(("error", {"code": "invalid_message", "message": str(exc)}))
        except Exception as exc:  # reported in the stream, never a broken connection
            await queue.put(("error", {"code": "internal", "message": type(exc).__name__}))

    task = asyncio.create_task(run())
    try:
        while True:
            event, data = await queue.get()
            yield f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
            if event in ("turn", "error"):
                break
    finally:
        await task  # the turn completes even if the client went away
