"""/v1 threads: create, send a customer message (JSON or SSE), read, delete."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.agent import VERIFIED_IDENTITY, IdentityTokenError, IdentityTokensDisabled
from supportgraph.server.admission import SHED_RESPONSE, admit_turn
from supportgraph.server.auth import Caller
from supportgraph.server.dependencies import agent_of, needs, own_thread, settings_of
from supportgraph.server.schemas import (
    Message,
    NewThread,
    ThreadCreated,
    ThreadSummary,
    bounded_metadata,
    error_responses,
)
from supportgraph.server.turns import check_length, message_id_of, send_turn, stream_turn

router = APIRouter(tags=["threads"])


@router.post(
    "/v1/threads",
    response_model=ThreadCreated,
    status_code=201,
    responses=error_responses(400, 401),
)
async def create_thread(body: NewThread, request: Request, who: Caller = needs("client")) -> Any:
    settings = settings_of(request)
    bounded_metadata(body.metadata, settings.max_metadata_keys, settings.max_metadata_bytes)
    thread_id = f"th_{uuid.uuid4().hex[:20]}"
    metadata = {"locale": body.locale, "channel": body.channel, **body.metadata}
    identity = body.identity.model_dump() if body.identity is not None else None
    try:
        info = await agent_of(request).create_thread(thread_id, who.key_id, metadata, identity)
    except IdentityTokensDisabled as exc:
        # The client sent a token this server is not set up to check: its request, not the
        # server, is what cannot be served (a 5xx would page whoever runs the server).
        raise HTTPException(400, str(exc)) from exc
    except IdentityTokenError as exc:  # nothing was created
        raise HTTPException(401, str(exc)) from exc
    return ThreadCreated(
        thread_id=thread_id,
        created_at=info["created_at"],
        metadata=info["metadata"],
        verified_customer=VERIFIED_IDENTITY in info["metadata"],
    )


@router.post(
    "/v1/threads/{thread_id}/messages",
    response_model=TurnRecord,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "TurnRecord, or SSE events node / token / turn / error",
        },
        **SHED_RESPONSE,
    },
)
async def post_message(
    thread_id: str, body: Message, request: Request, who: Caller = needs("client")
) -> Any:
    agent = agent_of(request)
    # A slot before anything reads the database: beyond max_turns_in_flight, a 503 at once.
    with admit_turn(request) as slot:
        await own_thread(thread_id, who, agent)
        check_length(agent, body.text)
        message_id = message_id_of(request, body.client_message_id)
        if "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(
                stream_turn(agent, thread_id, body.text, request, message_id, slot),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache"},
            )
        return await send_turn(agent, thread_id, body.text, request, message_id)


@router.get("/v1/threads/{thread_id}", response_model=ThreadSummary)
async def get_thread(
    thread_id: str, request: Request, who: Caller = needs("client", "agent")
) -> Any:
    agent = agent_of(request)
    await own_thread(thread_id, who, agent)
    values = await agent.state(thread_id)
    return ThreadSummary(
        thread_id=thread_id,
        turns=await agent.turn_count(thread_id),
        language=values.get("reply_language"),
        persona=values.get("persona"),
        verified_customer=bool(values.get("customer_id")),
        awaiting="human_agent"
        if await agent.pending_handoff(thread_id)
        else values.get("awaiting"),
        escalation=values.get("escalation") or {"action": "none"},
        escalation_status=values.get("escalation_status") or "none",
    )


@router.get("/v1/threads/{thread_id}/turns", response_model=list[TurnRecord])
async def get_turns(
    thread_id: str, request: Request, who: Caller = needs("client", "agent")
) -> Any:
    agent = agent_of(request)
    await own_thread(thread_id, who, agent)
    return await agent.history(thread_id)


@router.delete("/v1/threads/{thread_id}", status_code=204)
async def delete_thread(thread_id: str, request: Request, who: Caller = needs("client")) -> None:
    agent = agent_of(request)
    await own_thread(thread_id, who, agent)
    await agent.delete_thread(thread_id)
