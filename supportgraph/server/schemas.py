"""Request and response bodies of the HTTP API (they appear in the OpenAPI document)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute


class IdentityToken(BaseModel):
    """Your website vouches for its logged-in customer (docs/identity.md): `signature` is
    hex(HMAC_SHA256(SUPPORTGRAPH_IDENTITY_SECRET, f"{customer_id}:{expires}"))."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "C1001",
                    "expires": 1798761600,
                    "signature": "3b1f0c0e5e0c4b7a9d2f6e8a1c3b5d7f9e1a3c5b7d9f1e3a5c7b9d1f3e5a7c9b",
                }
            ]
        },
    )
    customer_id: str = Field(min_length=1, max_length=200, description="Your customer id")
    expires: int = Field(description="Unix time (seconds) after which the token is refused")
    signature: str = Field(min_length=1, max_length=200, description="Hex HMAC-SHA256")


class NewThread(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"locale": "es", "channel": "web", "metadata": {"page": "/help"}}]
        },
    )
    locale: str | None = Field(None, max_length=16, description="Customer's locale hint, e.g. 'es'")
    channel: str | None = Field(None, max_length=32, description="web, app, email, ...")
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Stored with the thread; at most SUPPORTGRAPH_MAX_METADATA_KEYS keys (32) "
        "and SUPPORTGRAPH_MAX_METADATA_BYTES of JSON (8 KiB)",
    )
    identity: IdentityToken | None = Field(
        None,
        description="A token your website signed for its logged-in customer: the thread "
        "starts verified as them (401 if not valid or expired; 501 when "
        "SUPPORTGRAPH_IDENTITY_SECRET is not set)",
    )


def bounded_metadata(
    metadata: dict[str, Any] | None, max_keys: int, max_bytes: int
) -> dict[str, Any]:
    """Thread metadata within the configured bounds, else a 422 naming the field."""
    metadata = dict(metadata or {})
    problem = None
    if len(metadata) > max_keys:
        problem = f"at most {max_keys} keys"
    elif len(json.dumps(metadata, ensure_ascii=False).encode("utf-8")) > max_bytes:
        problem = f"at most {max_bytes} bytes as JSON"
    if problem:
        raise RequestValidationError(
            [{"loc": ("body", "metadata"), "msg": problem, "type": "value_error"}]
        )
    return metadata


class ThreadCreated(BaseModel):
    thread_id: str
    created_at: float
    metadata: dict[str, Any]
    verified_customer: bool = Field(False, description="Started verified by an identity token")


class Message(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "Where is my order SG-10002?"}]}
    )
    text: str = Field(description="The customer's message")
    client_message_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Your id for this message (or the Idempotency-Key header): sending it "
        "again returns the first TurnRecord instead of running a new turn",
    )


class AgentMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Hi, I'm Sam from support. Let me check that."}]},
    )
    text: str
    agent: str | None = Field(None, max_length=64, description="Name shown for the human agent")


class ThreadSummary(BaseModel):
    thread_id: str
    turns: int
    language: str | None
    persona: str | None
    verified_customer: bool
    awaiting: str | None
    escalation: dict[str, Any]
    escalation_status: str


class ErrorDetail(BaseModel):
    code: str = Field(description="The HTTP status or a short name, e.g. invalid_request")
    message: str
    request_id: str | None = Field(description="Also in the X-Request-ID header")


class ErrorBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "404",
                        "message": "thread th_x not found",
                        "request_id": "3f2a9c0d1e7b4a55",
                    }
                }
            ]
        }
    )
    error: ErrorDetail


ERROR_STATUSES = {
    400: "Malformed request: Content-Length or body encoding",
    401: "Missing or unknown API key",
    403: "The key's scope cannot do this",
    404: "Not found (or another client's)",
    409: "Conflicts with the thread's state",
    413: "Body or message too large",
    414: "Request target too long",
    422: "Malformed JSON, wrong types, invalid text or too deeply nested",
    429: "Rate limit exceeded: see Retry-After",
    431: "Request headers too large",
    501: "Not enabled on this server, or not supported by its store",
    503: "Too many turns in progress: not stored; retry after Retry-After",
}


# Any request can be refused by the guard (guard.py) before a route sees it.
GUARD_STATUSES = (400, 413, 414, 422, 431)
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error statuses, all in the ErrorBody shape."""
    return {
        status: {"model": ErrorBody, "description": ERROR_STATUSES[status]} for status in statuses
    }


def document_errors(
    app: FastAPI,
    routes: Iterable[BaseRoute],
    scope_checks: dict[Callable[..., Any], tuple[str, ...]],
) -> None:
    """Extend the app's OpenAPI with the errors each route's structure implies: 401 and 429
    where an API key is checked; 403 where the key's scope may not be enough (`scope_checks`:
    each dependency made by `needs`, and the scopes it admits); 404 for a path naming
    something. The guard's refusals are app-wide `responses` (GUARD_STATUSES); codes a route's
    own logic answers (409, a 403 decided from the body) are declared on the route.
    `routes`: the routers' own routes (an included router's routes are not in `app.routes`)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = generate()
        for route in routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            statuses = set()
            for call in _dependency_calls(route.dependant):
                if call in scope_checks:
                    statuses |= {401, 429}
                    if not {"client", "agent"} <= set(scope_checks[call]):
                        statuses.add(403)
            if route.param_convertors:
                statuses.add(404)
            for method in route.methods or ():
                responses = spec["paths"][route.path_format][method.lower()]["responses"]
                for status in sorted(statuses):
                    responses.setdefault(
                        str(status),
                        {
                            "description": ERROR_STATUSES[status],
                            "content": {"application/json": {"schema": ERROR_REF}},
                        },
                    )
        return spec

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to extend OpenAPI


def _dependency_calls(dependant: Dependant) -> list[Callable[..., Any]]:
    calls, stack = [], list(dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is not None:
            calls.append(dep.call)
        stack.extend(dep.dependencies)
    return calls


class ForkRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"turn": 2, "text": "No, keep the order."}]},
    )
    turn: int = Field(ge=1, description="The turn whose customer message is replaced")
    text: str = Field(description="The different customer message")
    branch_id: str | None = Field(None, min_length=1, max_length=200)
