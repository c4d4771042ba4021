"""Privacy for admin keys: export everything stored about a customer, or erase it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from supportgraph.server.auth import Caller
from supportgraph.server.dependencies import agent_of, needs

router = APIRouter(tags=["privacy"])


@router.get("/v1/customers/{customer_id}/export")
async def export_customer(customer_id: str, request: Request, who: Caller = needs("admin")) -> Any:
    data = await agent_of(request).export_customer(customer_id)
    if data is None:
        raise HTTPException(404, f"customer {customer_id} not found")
    return data


@router.delete("/v1/customers/{customer_id}", status_code=204)
async def erase_customer(customer_id: str, request: Request, who: Caller = needs("admin")) -> None:
    if not await agent_of(request).erase_customer(customer_id):
        raise HTTPException(404, f"customer {customer_id} not found")
