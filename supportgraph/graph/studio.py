"""The graph for LangGraph's own tooling (langgraph.json: `langgraph dev`, Studio).

Compiled without a checkpointer, as the LangGraph server supplies its own. That server passes
no context, so this module builds the Deps explicitly from SUPPORTGRAPH_* settings (on the
first run, once per process) and gives them to every run that brings none.
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


async def studio_deps() -> Deps:
    """The process's Deps for runs that bring no context, built once from the environment."""
    global _deps
    async with _building:
        if _deps is None:
            settings = Settings()
            _deps = await Deps.from_settings(settings, open_store(settings))
        return _deps


class StudioGraph(CompiledStateGraph[Any, Deps, Any, Any]):
    """The compiled graph; a run without a context runs with studio_deps()."""

    def stream(self, *args: Any, context: Any = None, **kwargs: Any) -> Iterator[Any]:
        deps = context or _deps or asyncio.run(studio_deps())  # sync callers run no loop
        return super().stream(*args, context=deps, **kwargs)

    async def astream(self, *args: Any, context: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        deps = context or await studio_deps()
        async for chunk in super().astream(*args, context=deps, **kwargs):
            yield chunk


graph = compile_graph()
graph.__class__ = StudioGraph  # the same compiled graph, with the default context above
