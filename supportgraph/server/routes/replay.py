"""Replay for admins: a thread's timeline, the list of threads, fork at a turn, re-run.
Personal data is redacted unless `show_pii=true`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from supportgraph.replay.timeline import redact
from supportgraph.runtime.agent import InvalidMessage, ReplayError
from supportgraph.server.auth import Caller
from supportgraph.server.dependencies import agent_of, needs
from supportgraph.server.errors import refused
from supportgraph.server.schemas import ForkRequest

router = APIRouter(tags=["replay"])


@router.get("/v1/threads/{thread_id}/timeline")
async def timeline(
    thread_id: str, request: Request, show_pii: bool = False, who: Caller = needs("admin")
) -> Any:
    data = await agent_of(request).timeline(thread_id)
    if data is None:
        raise HTTPException(404, f"thread {thread_id} not found")
    return data if show_pii else redact(data)


@router.get("/v1/replay/threads")
async def replay_threads(request: Request, limit: int = 100, who: Caller = needs("admin")) -> Any:
    return await agent_of(request).threads(max(1, min(limit, 1000)))


@router.post("/v1/threads/{thread_id}/fork")
async def fork(
    thread_id: str,
    body: ForkRequest,
    request: Request,
    show_pii: bool = False,
    who: Caller = needs("admin"),
) -> Any:
    agent = agent_of(request)
    try:
        result = await agent.fork(thread_id, body.turn, body.text, body.branch_id)
    except ReplayError as exc:
        raise HTTPException(404 if "not found" in str(exc) else 422, str(exc)) from exc
    except InvalidMessage as exc:
        raise refused(exc) from exc
    out = result.to_dict()
    return out if show_pii else redact(out)


@router.post("/v1/threads/{thread_id}/rerun")
async def rerun(
    thread_id: str, request: Request, show_pii: bool = False, who: Caller = needs("admin")
) -> Any:
    try:
        report = (await agent_of(request).rerun(thread_id)).to_dict()
    except ReplayError as exc:
        raise HTTPException(404, str(exc)) from exc
    return report if show_pii else redact(report)
