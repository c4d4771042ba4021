"""The FastAPI app: `supportgraph serve`.

Every route is versioned under /v1 and authenticated with an API key (scopes client, agent,
admin); errors are JSON `{"error": {"code", "message", "request_id"}}`, never a bare 500.
The routes live in `server/routes/`, one module per job; this module only assembles them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from supportgraph.config import Settings
from supportgraph.runtime.agent import SupportAgent
from supportgraph.server.admission import install_admission
from supportgraph.server.auth import KeyRing
from supportgraph.server.dependencies import SCOPE_CHECKS
from supportgraph.server.errors import install_error_handlers
from supportgraph.server.guard import Guard, Limits
from supportgraph.server.observability import Metrics
from supportgraph.server.rate_limits import RateLimits
from supportgraph.server.routes import (
    handoffs,
    langgraph,
    langgraph_runs,
    ops,
    pages,
    privacy,
    replay,
    threads,
)
from supportgraph.server.schemas import GUARD_STATUSES, document_errors, error_responses

log = logging.getLogger("supportgraph.server")

# In this order: it is the order of the paths in the OpenAPI document.
ROUTERS = (
    threads.router,
    replay.router,
    handoffs.router,
    privacy.router,
    ops.router,
    pages.router,
    langgraph.router,
    langgraph_runs.router,
)


def create_app(settings: Settings | None = None, keys: KeyRing | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await rate_limits.open()  # PostgreSQL: its pool and table
        try:
            async with SupportAgent.open(settings) as agent:
                await asyncio.to_thread(agent.warm)
                for problem in await agent.llm_problems():
                    log.warning("LLM mode: %s (answering offline meanwhile)", problem)
                app.state.agent = agent
                yield
        finally:
            await rate_limits.close()

    app = FastAPI(
        title="supportgraph",
        version="1",
        description="Customer-support chat over HTTP: threads, messages (JSON or SSE), "
        "human handoff, privacy. Authenticate with `Authorization: Bearer <API key>`.",
        lifespan=lifespan,
        responses=error_responses(*GUARD_STATUSES),  # the guard may refuse any request
    )
    # What the routes' dependencies read (server/dependencies.py).
    app.state.settings = settings
    app.state.keyring = keys or KeyRing.from_settings(settings.api_keys, settings.demo)
    app.state.metrics = metrics = Metrics()
    # Rate limits are counted by the Guard (rate_limits.py): per key, conversation, customer
    # and address.
    rate_limits = app.state.rate_limits = RateLimits(settings, app.state.keyring)
    install_admission(app, settings, metrics)  # app.state.admission: turns in flight, 503

    # Request ids, the access log, HTTP metrics, size limits and the last-resort JSON 500
    # live in the Guard (guard.py), added last below so that it is the outermost layer.
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    document_errors(app, [route for router in ROUTERS for route in router.routes], SCOPE_CHECKS)
    # Last, so outermost: only Starlette's own error wrappers, which never read a body, are
    # outside it, and an exception a route raises reaches the Guard before them.
    app.add_middleware(
        Guard, limits=Limits.from_settings(settings), metrics=metrics, rate_limits=rate_limits
    )
    return app
