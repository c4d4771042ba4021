"""What every route asks of a request: the agent, the settings, the caller and its scope.

Routes declare access with `needs(...)` in their signature; `SCOPE_CHECKS` remembers the scopes
each check admits, so the OpenAPI document can say which routes may answer 403
(schemas.document_errors).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, HTTPException, Request

from supportgraph.config import Settings
from supportgraph.runtime.agent import SupportAgent
from supportgraph.server.auth import Caller, KeyRing
from supportgraph.server.observability import Metrics

# Each dependency made by `needs` -> the scopes it admits (for the OpenAPI's 403s).
SCOPE_CHECKS: dict[Any, tuple[str, ...]] = {}


def agent_of(request: Request) -> SupportAgent:
    return request.app.state.agent  # type: ignore[no-any-return]


def settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def metrics_of(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


def keyring_of(request: Request) -> KeyRing:
    return request.app.state.keyring  # type: ignore[no-any-return]


def caller(request: Request) -> Caller:
    """The API key's owner and scope; 401 without a known key (rate limits: the Guard)."""
    return keyring_of(request).caller(request)


def needs(*scopes: str) -> Any:
    """A route parameter default: the caller, if its scope is one of `scopes` (admin always)."""

    def check(who: Caller = Depends(caller)) -> Caller:
        if not who.may(*scopes):
            raise HTTPException(403, f"this key's scope ({who.scope}) cannot do this")
        return who

    SCOPE_CHECKS[check] = scopes
    return Depends(check)


async def own_thread(
    thread_id: str, who: Caller, agent: SupportAgent, not_found: str = "thread {} not found"
) -> dict[str, Any]:
    """The thread's owner record, if this caller may see it; else 404 (`not_found`: each API
    words it its own way)."""
    meta = await agent.thread_info(thread_id)
    # Another client's thread is "not found", exactly like a missing one.
    if meta is None or (who.scope == "client" and meta["owner"] != who.key_id):
        raise HTTPException(404, not_found.format(thread_id))
    return meta
