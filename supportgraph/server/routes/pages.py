"""The static web pages: customer chat (/), agent console (/agent), replay viewer (/replay).
Outside the OpenAPI document; each page calls the /v1 API with a key of its scope."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from supportgraph.server.dependencies import keyring_of

router = APIRouter(include_in_schema=False)


def page(request: Request, name: str, scope: str) -> HTMLResponse:
    html = resources.files("supportgraph.server").joinpath(f"static/{name}").read_text("utf-8")
    # Demo mode only: the page gets the demo key it needs (the same key is printed at start).
    keyring = keyring_of(request)
    demo_key = keyring.key_for(scope) if keyring.demo else ""
    return HTMLResponse(html.replace("__DEMO_KEY__", demo_key))


@router.get("/")
async def chat_page(request: Request) -> HTMLResponse:
    return page(request, "chat.html", "client")


@router.get("/agent")
async def agent_page(request: Request) -> HTMLResponse:
    return page(request, "agent.html", "agent")


@router.get("/replay")
async def replay_page(request: Request) -> HTMLResponse:
    return page(request, "replay.html", "admin")
