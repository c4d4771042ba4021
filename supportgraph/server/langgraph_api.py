"""The subset of the LangGraph Server API that the official `langgraph-sdk` client needs.

`get_client(url=..., api_key=...)` works against `supportgraph serve` for
assistants.search/get, threads.create/get/get_state/get_history/update_state, runs.wait and
runs.stream (stream modes values, updates, and messages-tuple: the reply's tokens in LLM
mode; offline templates stream none), and resuming a handoff with `command={"resume": ...}`.
Runs go through SupportAgent, so per-thread ordering, the transcript and the handoff queue
behave exactly as on /v1. `multitask_strategy`: "enqueue" (default) waits for the thread,
"reject" answers 409 while a run is in progress.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from supportgraph.config import Settings
from supportgraph.domain.state import ConversationState
from supportgraph.runtime.agent import InvalidMessage, NoPendingHandoff, SupportAgent
from supportgraph.server.auth import AGENT_WRITABLE_STATE, Caller
from supportgraph.server.langgraph_schemas import (
    AssistantSearch,
    RunCreate,
    StateValues,
    ThreadCreate,
    ThreadHistory,
    ThreadStateUpdate,
)
from supportgraph.server.schemas import bounded_metadata, error_responses

STATE_FIELDS = frozenset(ConversationState.__annotations__)

ASSISTANT_ID = "supportgraph"
CREATED = "2026-11-23T00:00:00+00:00"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _assistant() -> dict[str, Any]:
    return {
        "assistant_id": ASSISTANT_ID,
        "graph_id": ASSISTANT_ID,
        "name": ASSISTANT_ID,
        "description": "supportgraph customer-support graph",
        "config": {},
        "context": {},
        "metadata": {},
        "version": 1,
        "created_at": CREATED,
        "updated_at": CREATED,
    }


def _checkpoint(config: dict[str, Any] | None, thread_id: str) -> dict[str, Any] | None:
    if not config:
        return None
    conf = config.get("configurable", {})
    return {
        "thread_id": thread_id,
        "checkpoint_ns": conf.get("checkpoint_ns", ""),
        "checkpoint_id": conf.get("checkpoint_id"),
        "checkpoint_map": None,
    }


def _state(snapshot: Any, thread_id: str) -> dict[str, Any]:
    interrupts = [{"value": i.value, "id": i.id} for i in snapshot.interrupts]
    return {
        "values": dict(snapshot.values),
        "next": list(snapshot.next),
        "tasks": [
            {
                "id": t.id,
                "name": t.name,
                "error": None,
                "interrupts": [{"value": i.value, "id": i.id} for i in t.interrupts],
                "checkpoint": None,
                "state": None,
                "result": None,
            }
            for t in snapshot.tasks
        ],
        "checkpoint": _checkpoint(snapshot.config, thread_id),
        "parent_checkpoint": _checkpoint(snapshot.parent_config, thread_id),
        "metadata": snapshot.metadata or {},
        "created_at": snapshot.created_at,
        "interrupts": interrupts,
    }


def mount_langgraph_api(app: FastAPI, needs: Callable[..., Any], settings: Settings) -> None:
    def agent_of(request: Request) -> SupportAgent:
        return request.app.state.agent  # type: ignore[no-any-return]

    async def thread_for(request: Request, thread_id: str, who: Caller) -> dict[str, Any]:
        meta = await agent_of(request).transcript.thread_meta(thread_id)
        if meta is None or (who.scope == "client" and meta["owner"] != who.key_id):
            raise HTTPException(404, f"Thread {thread_id} not found")
        return meta

    async def thread_object(
        request: Request, thread_id: str, meta: dict[str, Any]
    ) -> dict[str, Any]:
        agent = agent_of(request)
        snapshot = await agent.graph.aget_state({"configurable": {"thread_id": thread_id}})
        created = dt.datetime.fromtimestamp(meta["created_at"], dt.UTC).isoformat()
        return {
            "thread_id": thread_id,
            "created_at": created,
            "updated_at": _now(),
            "metadata": meta["metadata"],
            "status": "interrupted" if snapshot.interrupts else "idle",
            "values": dict(snapshot.values),
            "config": {},
            "interrupts": {
                t.id: [{"value": i.value, "id": i.id} for i in t.interrupts]
                for t in snapshot.tasks
                if t.interrupts
            },
        }

    @app.post("/assistants/search", tags=["langgraph-api"])
    async def assistants_search(
        body: AssistantSearch | None = None, who: Caller = needs("client", "agent")
    ) -> Any:
        graph_id = body.graph_id if body else None
        return [_assistant()] if graph_id in (None, ASSISTANT_ID) else []

    @app.get("/assistants/{assistant_id}", tags=["langgraph-api"])
    async def assistants_get(assistant_id: str, who: Caller = needs("client", "agent")) -> Any:
        if assistant_id != ASSISTANT_ID:
            raise HTTPException(404, f"Assistant {assistant_id} not found")
        return _assistant()

    @app.post("/threads", tags=["langgraph-api"], responses=error_responses(409))
    async def threads_create(
        request: Request, body: ThreadCreate | None = None, who: Caller = needs("client")
    ) -> Any:
        body = body or ThreadCreate()
        metadata = bounded_metadata(
            body.metadata, settings.max_metadata_keys, settings.max_metadata_bytes
        )
        agent = agent_of(request)
        wanted = body.thread_id
        if wanted is None:
            thread_id = str(uuid.uuid4())
        else:
            thread_id = str(wanted)
            existing = await agent.transcript.thread_meta(thread_id)
            if who.scope == "client" and (existing is None or existing["owner"] != who.key_id):
                # A client names only threads it already owns. Any other id gets the same
                # answer whether or not it exists: existence is not revealed, and a thread
                # made by the CLI or an admin fork (no owner) cannot be claimed.
                raise HTTPException(
                    422, "a client key cannot choose a thread_id: omit it to get a new thread"
                )
            if existing is not None or await agent.thread_exists(thread_id):
                if body.if_exists == "do_nothing" and existing is not None:
                    return await thread_object(request, thread_id, existing)
                raise HTTPException(409, f"Thread {thread_id} already exists")
        await agent.transcript.create_thread(thread_id, who.key_id, metadata)
        meta = await agent.transcript.thread_meta(thread_id)
        assert meta is not None
        return await thread_object(request, thread_id, meta)

    @app.get("/threads/{thread_id}", tags=["langgraph-api"])
    async def threads_get(
        thread_id: str, request: Request, who: Caller = needs("client", "agent")
    ) -> Any:
        return await thread_object(request, thread_id, await thread_for(request, thread_id, who))

    @app.get("/threads/{thread_id}/state", tags=["langgraph-api"])
    async def threads_state(
        thread_id: str, request: Request, who: Caller = needs("client", "agent")
    ) -> Any:
        await thread_for(request, thread_id, who)
        snapshot = await agent_of(request).graph.aget_state(
            {"configurable": {"thread_id": thread_id}}
        )
        return _state(snapshot, thread_id)

    @app.post("/threads/{thread_id}/history", tags=["langgraph-api"])
    async def threads_history(
        thread_id: str,
        request: Request,
        body: ThreadHistory | None = None,
        who: Caller = needs("client", "agent"),
    ) -> Any:
        await thread_for(request, thread_id, who)
        limit = body.limit if body else 10
        states = []
        async for snapshot in agent_of(request).graph.aget_state_history(
            {"configurable": {"thread_id": thread_id}}, limit=limit
        ):
            states.append(_state(snapshot, thread_id))
        return states

    @app.post("/threads/{thread_id}/state", tags=["langgraph-api"])
    async def threads_update_state(
        thread_id: str,
        request: Request,
        body: ThreadStateUpdate | None = None,
        who: Caller = needs("agent"),
    ) -> Any:
        await thread_for(request, thread_id, who)
        body = body or ThreadStateUpdate()
        agent = agent_of(request)
        values = body.values or {}
        as_node = body.as_node
        if not isinstance(values, dict):
            raise HTTPException(422, "values must be an object of state fields")
        unknown = sorted(set(values) - STATE_FIELDS)
        if unknown:
            raise HTTPException(422, f"unknown state fields: {', '.join(unknown)}")
        if who.scope != "admin":
            refused = sorted(set(values) - AGENT_WRITABLE_STATE)
            if refused:
                raise HTTPException(
                    403,
                    f"an {who.scope} key may not write {', '.join(refused)}; "
                    f"writable: {', '.join(sorted(AGENT_WRITABLE_STATE))}",
                )
        if as_node is not None and as_node not in agent.node_names():
            raise HTTPException(
                422, f"as_node must be one of {', '.join(sorted(agent.node_names()))}"
            )
        try:  # each field of the type the graph expects: a wrong one breaks the next turns
            values = StateValues.model_validate(values).model_dump(exclude_unset=True)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", "values", *e["loc"])} for e in exc.errors()]
            ) from exc
        new = await agent.update_state(thread_id, values, as_node)
        return {"checkpoint": _checkpoint(new, thread_id)}

    async def start_run(
        request: Request, thread_id: str, who: Caller, body: RunCreate, on_event: Any = None
    ) -> Any:
        if body.assistant_id not in (None, ASSISTANT_ID):
            raise HTTPException(404, f"Assistant {body.assistant_id} not found")
        agent = agent_of(request)
        if body.multitask_strategy == "reject" and agent.locks.busy(thread_id):
            raise HTTPException(409, f"Thread {thread_id} is busy with another run")
        command = body.command
        if command is not None and "resume" in command.model_fields_set:
            resume = command.resume
            decision = (
                resume if isinstance(resume, dict) else {"action": "reply", "text": str(resume)}
            )
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
                raise HTTPException(422, str(exc)) from exc
        text = body.input.text if body.input else None
        if not isinstance(text, str):
            raise HTTPException(422, 'input must be {"text": "<customer message>"}')
        # LangGraph clients may send an Idempotency-Key too: a retried run replays nothing.
        message_id = request.headers.get("idempotency-key") or None
        if message_id is not None and len(message_id) > 200:
            raise HTTPException(422, "Idempotency-Key must be 1-200 characters")
        try:
            return await agent.send(
                thread_id, text, on_event=on_event, client_message_id=message_id
            )
        except InvalidMessage as exc:
            raise HTTPException(422, str(exc)) from exc

    async def final_values(request: Request, thread_id: str) -> dict[str, Any]:
        snapshot = await agent_of(request).graph.aget_state(
            {"configurable": {"thread_id": thread_id}}
        )
        values = dict(snapshot.values)
        if snapshot.interrupts:
            values["__interrupt__"] = [{"value": i.value, "id": i.id} for i in snapshot.interrupts]
        return values

    @app.post(
        "/threads/{thread_id}/runs/wait",
        tags=["langgraph-api"],
        responses=error_responses(403, 409),
    )
    async def runs_wait(
        thread_id: str,
        request: Request,
        body: RunCreate | None = None,
        who: Caller = needs("client", "agent"),
    ) -> Any:
        await thread_for(request, thread_id, who)
        run_id = str(uuid.uuid4())
        await start_run(request, thread_id, who, body or RunCreate())
        return JSONResponse(
            await final_values(request, thread_id),
            headers={"Content-Location": f"/threads/{thread_id}/runs/{run_id}"},
        )

    @app.post(
        "/threads/{thread_id}/runs/stream",
        tags=["langgraph-api"],
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "SSE: metadata, then values / updates / messages, or error",
            }
        },
    )
    async def runs_stream(
        thread_id: str,
        request: Request,
        body: RunCreate | None = None,
        who: Caller = needs("client", "agent"),
    ) -> Any:
        await thread_for(request, thread_id, who)
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
                    await queue.put(("values", await final_values(request, thread_id)))
            except HTTPException as exc:
                await queue.put(("error", {"error": str(exc.status_code), "message": exc.detail}))
            except Exception as exc:
                await queue.put(("error", {"error": type(exc).__name__, "message": "run failed"}))
            await queue.put(None)

        async def events() -> AsyncIterator[str]:
            yield f"event: metadata\ndata: {json.dumps({'run_id': run_id, 'thread_id': thread_id})}\n\n"
            task = asyncio.create_task(run())
            while (item := await queue.get()) is not None:
                event, data = item
                yield f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
            await task

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={
                "Content-Location": f"/threads/{thread_id}/runs/{run_id}",
                "Cache-Control": "no-cache",
            },
        )
