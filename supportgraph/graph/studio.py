"""The graph for LangGraph's own tooling (langgraph.json: `langgraph dev`, Studio).

Compiled without a checkpointer, as the LangGraph server supplies its own; nodes fall back
to Deps built from SUPPORTGRAPH_* settings because that server passes no context.
"""

from supportgraph.graph.builder import compile_graph

graph = compile_graph()
