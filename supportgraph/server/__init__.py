"""The HTTP server: FastAPI routes, auth, SSE streaming, handoff queue, web chat pages."""
