"""The graph for LangGraph's own tooling (langgraph.json: `langgraph dev`, LangGraph Platform,
Studio).

Compiled without a checkpointer, as the LangGraph server supplies its own. That server passes
its own context (`{}`, or whatever a client sent), never our Deps, so every run whose context
is not a Deps runs with the process's Deps, built once from SUPPORTGRAPH_* settings. They are
built and warmed (models, KB, store opened) in a worker thread: LangGraph's server refuses
blocking calls (files, sqlite) on its event loop, and after this nodes make none there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from supportgraph.backends.factory import open_store
from supportgraph.config import Settings
from supportgraph.context import Deps
from supportgraph.graph.builder import compile_graph

_deps: Deps | None = None
_building = asyncio.Lock()


def build_deps() -> Deps:
    """Deps from the environment's settings, warmed; blocking, so callers run it in a thread."""
    settings = Settings()
    store = open_store(settings)
    # No asyncio.run here: a thread running an event loop is one LangGraph's server watches.
    deps = Deps.with_products(settings, store, store.all_products())
    deps.warm()
    return deps


async def studio_deps() -> Deps:
    """The process's Deps for runs that bring none, built once."""
    global _deps
    async with _building:
        if _deps is None:
            _deps = await asyncio.to_thread(build_deps)
        return _deps


class StudioGraph(CompiledStateGraph[Any, Deps, Any, Any]):
    """The compiled graph; a run whose context is not a Deps runs with studio_deps()."""

    def stream(self, *args: Any, context: Any = None, **kwargs: Any) -> Iterator[Any]:
        global _deps
        if not isinstance(context, Deps):
            _deps = context = _deps or build_deps()  # sync callers run no loop
        return super().stream(*args, context=context, **kwargs)

    async def astream(self, *args: Any, context: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        if not isinstance(context, Deps):
            context = await studio_deps()
        async for chunk in super().astream(*args, context=context, **kwargs):
            yield chunk


graph = compile_graph()
graph.__class__ = StudioGraph  # the same compiled graph, with the default context above
