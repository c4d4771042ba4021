"""The support graph (docs/architecture.md, "One turn"): nodes, edges and routing. No logic here."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from supportgraph.context import Deps
from supportgraph.domain.intents import CHAT_ONLY
from supportgraph.domain.state import ConversationState, TurnInput
from supportgraph.nodes.act import act
from supportgraph.nodes.adapt_persona import adapt_persona
from supportgraph.nodes.detect_language import detect_language
from supportgraph.nodes.escalate import escalate
from supportgraph.nodes.handoff import handoff
from supportgraph.nodes.respond import respond
from supportgraph.nodes.retrieve import needs_knowledge, retrieve
from supportgraph.nodes.understand import understand

NODE_NAMES = [
    "detect_language",
    "understand",
    "escalate",
    "retrieve",
    "act",
    "adapt_persona",
    "respond",
    "handoff",
]


def route_after_escalate(state: ConversationState) -> str:
    escalation = state.escalation
    if escalation.get("action") == "handoff":
        return "handoff"
    if state.awaiting == "confirmation":
        return "act"  # a proposed change must be settled (anything but yes cancels it)
    # Chat-only intents have nothing to look up or do: straight to phrasing.
    chat_only = state.intent in CHAT_ONLY
    if chat_only or str(escalation.get("reason", "")).startswith("low_confidence"):
        # Not sure what was asked: no lookups or flows on a guess; clarify and offer a human.
        return "adapt_persona"
    return "retrieve" if needs_knowledge(state) else "act"


def build_graph() -> StateGraph[ConversationState, Deps, TurnInput, ConversationState]:
    # No `context_schema=Deps`: LangGraph coerces a declared schema from whatever context a host
    # passes (`Deps(**{})` from LangGraph's server fails before the first node). The hosts pass
    # a built Deps (SupportAgent, graph/studio.py) and nodes check it (context.deps_of); the
    # annotation keeps mypy checking the nodes' Runtime[Deps].
    graph: StateGraph[ConversationState, Deps, TurnInput, ConversationState] = StateGraph(
        ConversationState, input_schema=TurnInput
    )
    graph.add_node("detect_language", detect_language)
    graph.add_node("understand", understand)
    graph.add_node("escalate", escalate)
    graph.add_node("retrieve", retrieve)
    graph.add_node("act", act)
    graph.add_node("adapt_persona", adapt_persona)
    graph.add_node("respond", respond)
    graph.add_node("handoff", handoff)
    graph.add_edge(START, "detect_language")
    graph.add_edge("detect_language", "understand")
    graph.add_edge("understand", "escalate")
    graph.add_conditional_edges(
        "escalate", route_after_escalate, ["handoff", "retrieve", "act", "adapt_persona"]
    )
    graph.add_edge("retrieve", "act")
    graph.add_edge("act", "adapt_persona")
    graph.add_edge("adapt_persona", "respond")
    graph.add_edge("respond", END)
    graph.add_edge("handoff", END)
    return graph


def compile_graph(checkpointer: Any = None) -> Any:
    return build_graph().compile(checkpointer=checkpointer, name="supportgraph")
