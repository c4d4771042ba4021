"""The API's one error shape for what FastAPI raises: an HTTPException (from a route or a
dependency) and an invalid request body, both as `{"error": {"code", "message",
"request_id"}}`; and the status of a message SupportAgent refuses. (The Guard answers what
never reaches a route, and any exception a route lets escape, in the same shape.)"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from supportgraph.runtime.agent import InvalidMessage, MessageTooLong, NotSupportedByStore
from supportgraph.server.guard import error_body


def refused(exc: InvalidMessage) -> HTTPException:
    """A message SupportAgent refused, as HTTP: 413 over the length limit, else 422."""
    return HTTPException(413 if isinstance(exc, MessageTooLong) else 422, str(exc))


def error(
    status: int, message: str, request: Request, code: str | None = None, **headers: str
) -> JSONResponse:
    body = error_body(status, message, getattr(request.state, "request_id", None), code)
    return JSONResponse(body, status_code=status, headers=headers or None)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail), request, **(exc.headers or {}))

    @app.exception_handler(NotSupportedByStore)
    async def not_supported(request: Request, exc: Exception) -> JSONResponse:
        # A capability of the configured backend, not a fault: say which, do not 500.
        return error(501, str(exc), request, code="not_supported_by_store")

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
            for e in exc.errors()[:5]
        )
        return error(422, f"invalid request: {problems}", request, code="invalid_request")
