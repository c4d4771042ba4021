"""Human handoff for agent keys: the queue, claiming a thread, replying, handing back.

The queue can come with each summary written out in the agent's language
(`GET /v1/handoffs?language=de`, runtime/handoff_view.py); the agent console
(static/agent.html) shows it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.agent import InvalidMessage, NoPendingHandoff
from supportgraph.server.auth import Caller
from supportgraph.server.dependencies import agent_of, needs, own_thread
from supportgraph.server.errors import refused
from supportgraph.server.schemas import AgentMessage, error_responses

router = APIRouter(tags=["handoff"])

LANGUAGE_TAG = r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$"


@router.get("/v1/handoffs")
async def list_handoffs(
    request: Request,
    who: Caller = needs("agent"),
    language: str | None = Query(
        None,
        max_length=35,
        pattern=LANGUAGE_TAG,
        description="The agent's language: each handoff then has `summary_view`, its summary "
        "written out in that language (English when the language has no summary wording).",
        examples=["de"],
    ),
) -> Any:
    return await agent_of(request).handoffs(language)


@router.post("/v1/handoffs/{thread_id}/claim")
async def claim(thread_id: str, request: Request, who: Caller = needs("agent")) -> Any:
    if not await agent_of(request).claim_handoff(thread_id, who.key_id):
        raise HTTPException(404, f"no handoff for thread {thread_id}")
    return {"thread_id": thread_id, "status": "claimed", "claimed_by": who.key_id}


@router.post(
    "/v1/threads/{thread_id}/agent-messages",
    response_model=TurnRecord,
    responses=error_responses(409),
)
async def agent_message(
    thread_id: str, body: AgentMessage, request: Request, who: Caller = needs("agent")
) -> Any:
    agent = agent_of(request)
    await own_thread(thread_id, who, agent)
    try:
        return await agent.agent_reply(thread_id, body.text, body.agent or "agent")
    except NoPendingHandoff as exc:
        raise HTTPException(409, str(exc)) from exc
    except InvalidMessage as exc:
        raise refused(exc) from exc


@router.post(
    "/v1/handoffs/{thread_id}/release",
    response_model=TurnRecord,
    responses=error_responses(409),
)
async def release(thread_id: str, request: Request, who: Caller = needs("agent")) -> Any:
    agent = agent_of(request)
    await own_thread(thread_id, who, agent)
    try:
        return await agent.release(thread_id)
    except NoPendingHandoff as exc:
        raise HTTPException(409, str(exc)) from exc
