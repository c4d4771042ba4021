"""Operations, no key needed: liveness, readiness (503 with the failing checks), Prometheus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from supportgraph.server.dependencies import agent_of, metrics_of

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> Any:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready: the checks"}})
async def readyz(request: Request) -> Any:
    checks = await agent_of(request).health()
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}},
)
async def prometheus(request: Request) -> PlainTextResponse:
    from prometheus_client import generate_latest

    return PlainTextResponse(
        generate_latest(metrics_of(request).registry).decode(),
        media_type="text/plain; version=0.0.4",
    )
