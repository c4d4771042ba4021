"""Replay for admins: a thread's timeline, the list of threads, fork at a turn, re-run.
Personal data is redacted unless `show_pii=true`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from supportgraph.runtime.agent import InvalidMessage
from supportgraph.server.auth import Caller
from supportgraph.server.dependencies import agent_of, needs
from supportgraph.server.schemas import ForkRequest

router = APIRouter(tags=["replay"])


@router.get("/v1/threads/{thread_id}/timeline")
async def timeline(
    thread_id: str, request: Request, show_pii: bool = False, who: Caller = needs("admin")
) -> Any:
    from supportgraph.replay.timeline import build_timeline

    data = await build_timeline(agent_of(request), thread_id, show_pii)
    if data is None:
        raise HTTPException(404, f"thread {thread_id} not found")
    return data


@router.get("/v1/replay/threads")
async def replay_threads(request: Request, limit: int = 100, who: Caller = needs("admin")) -> Any:
    return await agent_of(request).transcript.threads(max(1, min(limit, 1000)))


@router.post("/v1/threads/{thread_id}/fork")
async def fork(
    thread_id: str,
    body: ForkRequest,
    request: Request,
    show_pii: bool = False,
    who: Caller = needs("admin"),
) -> Any:
    from supportgraph.replay.fork import fork_thread
    from supportgraph.replay.history import ReplayError
    from supportgraph.replay.timeline import redact

    try:
        result = await fork_thread(
            agent_of(request), thread_id, body.turn, body.text, body.branch_id
        )
    except ReplayError as exc:
        raise HTTPException(404 if "not found" in str(exc) else 422, str(exc)) from exc
    except InvalidMessage as exc:
        raise HTTPException(422, str(exc)) from exc
    out = result.to_dict()
    return out if show_pii else redact(out)


@router.post("/v1/threads/{thread_id}/rerun")
async def rerun(
    thread_id: str, request: Request, show_pii: bool = False, who: Caller = needs("admin")
) -> Any:
    from supportgraph.replay.history import ReplayError
    from supportgraph.replay.rerun import rerun
    from supportgraph.replay.timeline import redact

    try:
        report = (await rerun(agent_of(request), thread_id)).to_dict()
    except ReplayError as exc:
        raise HTTPException(404, str(exc)) from exc
    return report if show_pii else redact(report)
