"""The FastAPI app: `supportgraph serve`.

Every route is versioned under /v1 and authenticated with an API key (scopes client, agent,
admin); errors are JSON `{"error": {"code", "message", "request_id"}}`, never a bare 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from supportgraph.config import Settings
from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.agent import InvalidMessage, NoPendingHandoff, SupportAgent
from supportgraph.server.auth import Caller, KeyRing, RateLimiter
from supportgraph.server.guard import Guard, Limits, error_body
from supportgraph.server.observability import Metrics, log_event
from supportgraph.server.schemas import (
    GUARD_STATUSES,
    AgentMessage,
    ForkRequest,
    Message,
    NewThread,
    ThreadCreated,
    ThreadSummary,
    bounded_metadata,
    document_errors,
    error_responses,
)

log = logging.getLogger("supportgraph.server")


def error(
    status: int, message: str, request: Request, code: str | None = None, **headers: str
) -> JSONResponse:
    body = error_body(status, message, getattr(request.state, "request_id", None), code)
    return JSONResponse(body, status_code=status, headers=headers or None)


def create_app(settings: Settings | None = None, keys: KeyRing | None = None) -> FastAPI:
    settings = settings or Settings()
    keyring = keys or KeyRing.from_settings(settings.api_keys, settings.demo)
    limiter = RateLimiter(settings.rate_limit_per_minute)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with SupportAgent.open(settings) as agent:
            await asyncio.to_thread(agent.deps.warm)
            for problem in await agent.llm_problems():
                log.warning("LLM mode: %s (answering offline meanwhile)", problem)
            app.state.agent = agent
            yield

    app = FastAPI(
        title="supportgraph",
        version="1",
        description="Customer-support chat over HTTP: threads, messages (JSON or SSE), "
        "human handoff, privacy. Authenticate with `Authorization: Bearer <API key>`.",
        lifespan=lifespan,
        responses=error_responses(*GUARD_STATUSES),  # the guard may refuse any request
    )
    app.state.keyring = keyring
    app.state.metrics = metrics

    # -- plumbing ---------------------------------------------------------------------------
    # Request ids, the access log, HTTP metrics, size limits and the last-resort JSON 500
    # live in the Guard (guard.py), added last below so that it is the outermost layer.

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail), request, **(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
            for e in exc.errors()[:5]
        )
        return error(422, f"invalid request: {problems}", request, code="invalid_request")

    def agent_of(request: Request) -> SupportAgent:
        return request.app.state.agent  # type: ignore[no-any-return]

    def caller(request: Request) -> Caller:
        who = keyring.caller(request)
        wait = limiter.retry_after(who.key_id)
        if wait > 0:
            raise HTTPException(
                429, "rate limit exceeded", headers={"Retry-After": str(max(1, round(wait)))}
            )
        return who

    scope_checks: dict[Any, tuple[str, ...]] = {}  # for the OpenAPI: which routes may 403

    def needs(*scopes: str) -> Any:
        def check(who: Caller = Depends(caller)) -> Caller:
            if not who.may(*scopes):
                raise HTTPException(403, f"this key's scope ({who.scope}) cannot do this")
            return who

        scope_checks[check] = scopes
        return Depends(check)

    async def own_thread(thread_id: str, who: Caller, agent: SupportAgent) -> dict[str, Any]:
        meta = await agent.transcript.thread_meta(thread_id)
        # Another client's thread is "not found", exactly like a missing one.
        if meta is None or (who.scope == "client" and meta["owner"] != who.key_id):
            raise HTTPException(404, f"thread {thread_id} not found")
        return meta

    # -- threads and messages ---------------------------------------------------------------

    def message_id_of(request: Request, in_body: str | None) -> str | None:
        """The client's id for a message: the Idempotency-Key header or client_message_id."""
        header = request.headers.get("idempotency-key")
        if header is not None and not 0 < len(header) <= 200:
            raise HTTPException(422, "Idempotency-Key must be 1-200 characters")
        if header and in_body and header != in_body:
            raise HTTPException(422, "Idempotency-Key and client_message_id differ")
        return header or in_body

    @app.post("/v1/threads", response_model=ThreadCreated, status_code=201, tags=["threads"])
    async def create_thread(
        body: NewThread, request: Request, who: Caller = needs("client")
    ) -> Any:
        bounded_metadata(body.metadata, settings.max_metadata_keys, settings.max_metadata_bytes)
        thread_id = f"th_{uuid.uuid4().hex[:20]}"
        metadata = {"locale": body.locale, "channel": body.channel, **body.metadata}
        await agent_of(request).transcript.create_thread(thread_id, who.key_id, metadata)
        return ThreadCreated(thread_id=thread_id, created_at=time.time(), metadata=metadata)

    @app.post(
        "/v1/threads/{thread_id}/messages",
        response_model=TurnRecord,
        tags=["threads"],
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "TurnRecord, or SSE events node / token / turn / error",
            }
        },
    )
    async def post_message(
        thread_id: str, body: Message, request: Request, who: Caller = needs("client")
    ) -> Any:
        agent = agent_of(request)
        await own_thread(thread_id, who, agent)
        if len(body.text) > settings.max_message_chars:
            raise HTTPException(413, f"message longer than {settings.max_message_chars} characters")
        message_id = message_id_of(request, body.client_message_id)
        if "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(
                stream_turn(agent, thread_id, body.text, request, message_id),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache"},
            )
        try:
            record = await agent.send(thread_id, body.text, client_message_id=message_id)
        except InvalidMessage as exc:
            raise HTTPException(422, str(exc)) from exc
        metrics.observe(record)
        log_event(
            "turn",
            request_id=request.state.request_id,
            thread=thread_id,
            turn=record.turn,
            intent=record.intent,
            escalation=record.escalation.action,
            ms=record.latency_ms,
        )
        return record

    async def stream_turn(
        agent: SupportAgent,
        thread_id: str,
        text: str,
        request: Request,
        message_id: str | None = None,
    ) -> AsyncIterator[str]:
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        async def sink(event: str, data: dict[str, Any]) -> None:
            if event == "node":  # progress only: names and timings, not state
                await queue.put((event, {"name": data["name"], "ms": data["ms"]}))
            elif event in ("token", "reset"):  # LLM mode: the reply as it is written
                await queue.put((event, data))

        async def run() -> None:
            try:
                record = await agent.send(
                    thread_id, text, on_event=sink, client_message_id=message_id
                )
                metrics.observe(record)
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

    @app.get("/v1/threads/{thread_id}", response_model=ThreadSummary, tags=["threads"])
    async def get_thread(
        thread_id: str, request: Request, who: Caller = needs("client", "agent")
    ) -> Any:
        agent = agent_of(request)
        await own_thread(thread_id, who, agent)
        values = await agent.state(thread_id)
        return ThreadSummary(
            thread_id=thread_id,
            turns=await agent.transcript.last_turn(thread_id),
            language=values.get("reply_language"),
            persona=values.get("persona"),
            verified_customer=bool(values.get("customer_id")),
            awaiting="human_agent"
            if await agent.pending_handoff(thread_id)
            else values.get("awaiting"),
            escalation=values.get("escalation") or {"action": "none"},
            escalation_status=values.get("escalation_status") or "none",
        )

    @app.get("/v1/threads/{thread_id}/turns", response_model=list[TurnRecord], tags=["threads"])
    async def get_turns(
        thread_id: str, request: Request, who: Caller = needs("client", "agent")
    ) -> Any:
        agent = agent_of(request)
        await own_thread(thread_id, who, agent)
        return await agent.history(thread_id)

    @app.get("/v1/threads/{thread_id}/timeline", tags=["replay"])
    async def timeline(
        thread_id: str, request: Request, show_pii: bool = False, who: Caller = needs("admin")
    ) -> Any:
        from supportgraph.replay.timeline import build_timeline

        data = await build_timeline(agent_of(request), thread_id, show_pii)
        if data is None:
            raise HTTPException(404, f"thread {thread_id} not found")
        return data

    @app.get("/v1/replay/threads", tags=["replay"])
    async def replay_threads(
        request: Request, limit: int = 100, who: Caller = needs("admin")
    ) -> Any:
        return await agent_of(request).transcript.threads(max(1, min(limit, 1000)))

    @app.post("/v1/threads/{thread_id}/fork", tags=["replay"])
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

    @app.post("/v1/threads/{thread_id}/rerun", tags=["replay"])
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

    @app.delete("/v1/threads/{thread_id}", status_code=204, tags=["threads"])
    async def delete_thread(
        thread_id: str, request: Request, who: Caller = needs("client")
    ) -> None:
        agent = agent_of(request)
        await own_thread(thread_id, who, agent)
        await agent.delete_thread(thread_id)

    # -- human handoff ------------------------------------------------------------------------

    @app.get("/v1/handoffs", tags=["handoff"])
    async def list_handoffs(request: Request, who: Caller = needs("agent")) -> Any:
        return await agent_of(request).transcript.handoffs()

    @app.post("/v1/handoffs/{thread_id}/claim", tags=["handoff"])
    async def claim(thread_id: str, request: Request, who: Caller = needs("agent")) -> Any:
        agent = agent_of(request)
        if not any(h["thread_id"] == thread_id for h in await agent.transcript.handoffs()):
            raise HTTPException(404, f"no handoff for thread {thread_id}")
        await agent.transcript.mark_handoff(thread_id, "claimed", who.key_id)
        return {"thread_id": thread_id, "status": "claimed", "claimed_by": who.key_id}

    @app.post(
        "/v1/threads/{thread_id}/agent-messages",
        response_model=TurnRecord,
        tags=["handoff"],
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
            raise HTTPException(422, str(exc)) from exc

    @app.post(
        "/v1/handoffs/{thread_id}/release",
        response_model=TurnRecord,
        tags=["handoff"],
        responses=error_responses(409),
    )
    async def release(thread_id: str, request: Request, who: Caller = needs("agent")) -> Any:
        agent = agent_of(request)
        await own_thread(thread_id, who, agent)
        try:
            return await agent.release(thread_id)
        except NoPendingHandoff as exc:
            raise HTTPException(409, str(exc)) from exc

    # -- privacy --------------------------------------------------------------------------------

    @app.get("/v1/customers/{customer_id}/export", tags=["privacy"])
    async def export_customer(
        customer_id: str, request: Request, who: Caller = needs("admin")
    ) -> Any:
        data = await agent_of(request).export_customer(customer_id)
        if data is None:
            raise HTTPException(404, f"customer {customer_id} not found")
        return data

    @app.delete("/v1/customers/{customer_id}", status_code=204, tags=["privacy"])
    async def erase_customer(
        customer_id: str, request: Request, who: Caller = needs("admin")
    ) -> None:
        if not await agent_of(request).erase_customer(customer_id):
            raise HTTPException(404, f"customer {customer_id} not found")

    # -- operations ------------------------------------------------------------------------------

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> Any:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], responses={503: {"description": "Not ready: the checks"}})
    async def readyz(request: Request) -> Any:
        agent = agent_of(request)
        checks: dict[str, str] = {}
        try:
            await agent.transcript.run("SELECT 1")
            checks["checkpointer"] = "ok"
        except Exception as exc:
            checks["checkpointer"] = type(exc).__name__
        try:
            await agent.deps.store.get_customer("-")
            checks["store"] = "ok"
        except Exception as exc:
            checks["store"] = type(exc).__name__
        try:
            checks["kb"] = "ok" if agent.deps.kb.count() > 0 else "empty"
        except Exception as exc:
            checks["kb"] = type(exc).__name__
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get(
        "/metrics",
        tags=["ops"],
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}},
    )
    async def prometheus() -> PlainTextResponse:
        from prometheus_client import generate_latest

        return PlainTextResponse(
            generate_latest(metrics.registry).decode(), media_type="text/plain; version=0.0.4"
        )

    # -- web pages ---------------------------------------------------------------------------------

    def page(name: str, scope: str) -> HTMLResponse:
        html = resources.files("supportgraph.server").joinpath(f"static/{name}").read_text("utf-8")
        # Demo mode only: the page gets the demo key it needs (the same key is printed at start).
        demo_key = keyring.key_for(scope) if keyring.demo else ""
        return HTMLResponse(html.replace("__DEMO_KEY__", demo_key))

    @app.get("/", include_in_schema=False)
    async def chat_page() -> HTMLResponse:
        return page("chat.html", "client")

    @app.get("/agent", include_in_schema=False)
    async def agent_page() -> HTMLResponse:
        return page("agent.html", "agent")

    @app.get("/replay", include_in_schema=False)
    async def replay_page() -> HTMLResponse:
        return page("replay.html", "admin")

    from supportgraph.server.langgraph_api import mount_langgraph_api

    mount_langgraph_api(app, needs, settings)
    document_errors(app, scope_checks)
    # Last, so outermost: only Starlette's own error wrappers, which never read a body, are
    # outside it, and an exception a route raises reaches the Guard before them.
    app.add_middleware(Guard, limits=Limits.from_settings(settings), metrics=metrics)
    return app
