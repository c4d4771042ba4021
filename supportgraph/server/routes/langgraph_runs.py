"""LangGraph Server API runs: runs.wait and runs.stream (stream modes values, updates and
messages-tuple: the reply's tokens in LLM mode; offline templates stream none), and resuming
a handoff with `command={"resume": ...}`.

Runs go through SupportAgent, so per-thread ordering, the transcript and the handoff queue
behave exactly as on /v1. `multitask_strategy`: "enqueue" (default) waits for the thread,
"reject" answers 409 while a run is in progress.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse

from supportgraph.domain.chat_messages import BadChatMessage
from supportgraph.runtime.agent import InvalidMessage, NoPendingHandoff
from supportgraph.server import langgraph_objects as objects
from supportgraph.server.admission import SHED_RESPONSE, admit_turn
from supportgraph.server.auth import Caller
from supportgraph.server.dependencies import agent_of, needs, own_thread
from supportgraph.server.errors import refused
from supportgraph.server.langgraph_schemas import RunCreate, RunInput
from supportgraph.server.routes.langgraph import NOT_FOUND
from supportgraph.server.schemas import error_responses

router = APIRouter(tags=["langgraph-api"])


async def start_run(
    request: Request, thread_id: str, who: Caller, body: RunCreate, on_event: Any = None
) -> Any:
    if body.assistant_id not in (None, objects.ASSISTANT_ID):
        raise HTTPException(404, f"Assistant {body.assistant_id} not found")
    agent = agent_of(request)
    if body.multitask_strategy == "reject" and agent.busy(thread_id):
        raise HTTPException(409, f"Thread {thread_id} is busy with another run")
    command = body.command
    if command is not None and "resume" in command.model_fields_set:
        resume = command.resume
        decision = resume if isinstance(resume, dict) else {"action": "reply", "text": str(resume)}
        if who.scope == "client":
            raise HTTPException(403, "only agent or admin keys resume a handoff")
        try:
            if decision.get("action") == "release":
                return await agent.release(thread_id)
            return await agent.agent_reply(
                thread_id, str(decision.get("text", "")), str(decision.get("agent") or "agent")
            )
        except NoPendingHandoff as exc:
            raise HTTPException(409, str(exc)) from exc
        except InvalidMessage as exc:
            raise refused(exc) from exc
    try:
        text = (body.input or RunInput()).customer_text()
    except BadChatMessage as exc:
        raise HTTPException(422, str(exc)) from exc
    # LangGraph clients may send an Idempotency-Key too: a retried run replays nothing.
    message_id = request.headers.get("idempotency-key") or None
    if message_id is not None and len(message_id) > 200:
        raise HTTPException(422, "Idempotency-Key must be 1-200 characters")
    try:
        return await agent.send(thread_id, text, on_event=on_event, client_message_id=message_id)
    except InvalidMessage as exc:
        raise refused(exc) from exc


@router.post(
    "/threads/{thread_id}/runs/wait", responses={**error_responses(403, 409), **SHED_RESPONSE}
)
async def runs_wait(
    thread_id: str,
    request: Request,
    body: RunCreate | None = None,
    who: Caller = needs("client", "agent"),
) -> Any:
    agent = agent_of(request)
    with admit_turn(request):  # beyond max_turns_in_flight: 503 before the database is read
        await own_thread(thread_id, who, agent, NOT_FOUND)
        run_id = str(uuid.uuid4())
        await start_run(request, thread_id, who, body or RunCreate())
        values = await objects.final_values(agent, thread_id)
    return JSONResponse(values, headers={"Content-Location": f"/threads/{thread_id}/runs/{run_id}"})


@router.post(
    "/threads/{thread_id}/runs/stream",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "SSE: metadata, then values / updates / messages, or error",
        },
        **SHED_RESPONSE,
    },
)
async def runs_stream(
    thread_id: str,
    request: Request,
    body: RunCreate | None = None,
    who: Caller = needs("client", "agent"),
) -> Any:
    agent = agent_of(request)
    create = body or RunCreate()
    modes = create.modes()
    run_id = str(uuid.uuid4())
    queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()

    async def sink(event: str, data: dict[str, Any]) -> None:
        if event == "node" and "updates" in modes:
            await queue.put(("updates", {data["name"]: data["update"]}))
        elif event == "values" and "values" in modes:
            await queue.put(("values", data))
        elif event == "token" and "messages-tuple" in modes:
            chunk = {"type": "AIMessageChunk", "content": data["text"], "id": f"run-{run_id}"}
            await queue.put(("messages", [chunk, {"langgraph_node": "respond"}]))

    async def run() -> None:
        try:
            await start_run(request, thread_id, who, create, sink)
            if "values" in modes:
                await queue.put(("values", await objects.final_values(agent, thread_id)))
        except HTTPException as exc:
            await queue.put(("error", {"error": str(exc.status_code), "message": exc.detail}))
        except Exception as exc:
            await queue.put(("error", {"error": type(exc).__name__, "message": "run failed"}))
        await queue.put(None)

    async def events() -> AsyncIterator[str]:
        yield f"event: metadata\ndata: {json.dumps({'run_id': run_id, 'thread_id': thread_id})}\n\n"
        while (item := await queue.get()) is not None:
            event, data = item
            yield f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"

    # A slot before anything reads the database (beyond max_turns_in_flight: 503, no stream);
    # the run starts now, in a task that holds the slot until it ends, even if the client
    # stops reading.
    with admit_turn(request) as slot:
        await own_thread(thread_id, who, agent, NOT_FOUND)
        slot.start(run())
    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={
            "Content-Location": f"/threads/{thread_id}/runs/{run_id}",
            "Cache-Control": "no-cache",
        },
    )
