"""The subset of the LangGraph Server API that the official `langgraph-sdk` client needs:
assistants, threads and thread state (runs are in langgraph_runs.py).

`get_client(url=..., api_key=...)` works against `supportgraph serve` for
assistants.search/get, threads.create/get/get_state/get_history/update_state, runs.wait and
runs.stream. Threads are the same as on /v1: a client key sees only its own.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from supportgraph.domain.state import ConversationState
from supportgraph.server import langgraph_objects as objects
from supportgraph.server.auth import AGENT_WRITABLE_STATE, Caller
from supportgraph.server.dependencies import agent_of, needs, own_thread, settings_of
from supportgraph.server.langgraph_schemas import (
    AssistantSearch,
    StateValues,
    ThreadCreate,
    ThreadHistory,
    ThreadStateUpdate,
)
from supportgraph.server.schemas import bounded_metadata, error_responses

router = APIRouter(tags=["langgraph-api"])

STATE_FIELDS = frozenset(ConversationState.__annotations__)
NOT_FOUND = "Thread {} not found"  # LangGraph's wording


@router.post("/assistants/search")
async def assistants_search(
    body: AssistantSearch | None = None, who: Caller = needs("client", "agent")
) -> Any:
    graph_id = body.graph_id if body else None
    return [objects.assistant()] if graph_id in (None, objects.ASSISTANT_ID) else []


@router.get("/assistants/{assistant_id}")
async def assistants_get(assistant_id: str, who: Caller = needs("client", "agent")) -> Any:
    if assistant_id != objects.ASSISTANT_ID:
        raise HTTPException(404, f"Assistant {assistant_id} not found")
    return objects.assistant()


@router.post("/threads", responses=error_responses(409))
async def threads_create(
    request: Request, body: ThreadCreate | None = None, who: Caller = needs("client")
) -> Any:
    body = body or ThreadCreate()
    settings = settings_of(request)
    metadata = bounded_metadata(
        body.metadata, settings.max_metadata_keys, settings.max_metadata_bytes
    )
    agent = agent_of(request)
    wanted = body.thread_id
    if wanted is None:
        thread_id = str(uuid.uuid4())
    else:
        thread_id = str(wanted)
        existing = await agent.thread_info(thread_id)
        if who.scope == "client" and (existing is None or existing["owner"] != who.key_id):
            # A client names only threads it already owns. Any other id gets the same
            # answer whether or not it exists: existence is not revealed, and a thread
            # made by the CLI or an admin fork (no owner) cannot be claimed.
            raise HTTPException(
                422, "a client key cannot choose a thread_id: omit it to get a new thread"
            )
        if existing is not None or await agent.thread_exists(thread_id):
            if body.if_exists == "do_nothing" and existing is not None:
                return await objects.thread(agent, thread_id, existing)
            raise HTTPException(409, f"Thread {thread_id} already exists")
    meta = await agent.create_thread(thread_id, who.key_id, metadata)
    return await objects.thread(agent, thread_id, meta)


@router.get("/threads/{thread_id}")
async def threads_get(
    thread_id: str, request: Request, who: Caller = needs("client", "agent")
) -> Any:
    agent = agent_of(request)
    meta = await own_thread(thread_id, who, agent, NOT_FOUND)
    return await objects.thread(agent, thread_id, meta)


@router.get("/threads/{thread_id}/state")
async def threads_state(
    thread_id: str, request: Request, who: Caller = needs("client", "agent")
) -> Any:
    agent = agent_of(request)
    await own_thread(thread_id, who, agent, NOT_FOUND)
    snapshot = await agent.snapshot(thread_id)
    return objects.state(snapshot, thread_id)


@router.post("/threads/{thread_id}/history")
async def threads_history(
    thread_id: str,
    request: Request,
    body: ThreadHistory | None = None,
    who: Caller = needs("client", "agent"),
) -> Any:
    agent = agent_of(request)
    await own_thread(thread_id, who, agent, NOT_FOUND)
    limit = body.limit if body else 10
    return [objects.state(s, thread_id) for s in await agent.snapshots(thread_id, limit)]


@router.post("/threads/{thread_id}/state")
async def threads_update_state(
    thread_id: str,
    request: Request,
    body: ThreadStateUpdate | None = None,
    who: Caller = needs("agent"),
) -> Any:
    agent = agent_of(request)
    await own_thread(thread_id, who, agent, NOT_FOUND)
    body = body or ThreadStateUpdate()
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
        raise HTTPException(422, f"as_node must be one of {', '.join(sorted(agent.node_names()))}")
    try:  # each field of the type the graph expects: a wrong one breaks the next turns
        values = StateValues.model_validate(values).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", "values", *e["loc"])} for e in exc.errors()]
        ) from exc
    new = await agent.update_state(thread_id, values, as_node)
    return {"checkpoint": objects.checkpoint(new, thread_id)}
