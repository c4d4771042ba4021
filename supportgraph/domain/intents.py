"""The intent catalogue: every intent the agent knows, in one table.

Each row says how a turn with that intent is answered:
- `chat`: nothing to look up or do; respond phrases the row's `reply` template.
- `kb`: answered from the knowledge base (the documents named in `topics`).
- `flow`: a flow (nodes/flows, registered for the intent) looks things up or proposes a
  change; when the flow finds nothing specific to do, the KB `topics` answer (if any).

The classifier's labels, the routing of the graph, the escalation rules, the retrieval
topics and the model's prompt all read this table, so adding an intent is a row here plus
its training examples (nlu/data/intents_train.json), and for a flow one flow module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["chat", "kb", "flow"]
# When an intent with topics searches the KB: `always` (respond uses the chunk when the flow
# said nothing), or `size_advice`: only size/fit questions that name no product (product
# questions are answered from the catalogue).
Retrieval = Literal["always", "size_advice"]


@dataclass(frozen=True)
class Intent:
    name: str
    kind: Kind
    hint: str  # one line describing the intent to a model (LLM understanding's prompt)
    topics: tuple[str, ...] = ()  # KB documents (file stems) searched for this intent
    retrieval: Retrieval = "always"
    reply: str | None = None  # chat: the template key of the reply when nothing else is said
    # Slots a short follow-up message may add to continue this intent's question
    # ("and in white?" after a stock answer).
    slots: frozenset[str] = frozenset()

    @property
    def chat_only(self) -> bool:
        return self.kind == "chat"

    @property
    def uses_kb(self) -> bool:
        return bool(self.topics)


CATALOGUE: tuple[Intent, ...] = (
    Intent(
        "order_tracking",
        "flow",
        "where an order is, its status or delivery",
        slots=frozenset({"order_id"}),
    ),
    Intent(
        "order_modification",
        "flow",
        "cancel an order, change its address, items or payment",
        slots=frozenset({"order_id"}),
        topics=("orders",),
    ),
    Intent(
        "product_inquiry",
        "flow",
        "product details, availability, size or colour stock",
        topics=("sizes",),
        retrieval="size_advice",
        slots=frozenset({"size", "colour", "options", "product_id", "product_type"}),
    ),
    Intent(
        "pricing",
        "flow",
        "what something costs, discounts",
        topics=("discounts",),
        slots=frozenset({"product_id", "product_type", "size", "colour", "options"}),
    ),
    Intent(
        "returns_refunds",
        "flow",
        "return, exchange, refund",
        slots=frozenset({"order_id"}),
        topics=("returns", "warranty"),
    ),
    Intent(
        "shipping",
        "flow",
        "shipping methods, costs, delivery times in general",
        topics=("shipping",),
    ),
    Intent(
        "payment",
        "flow",
        "payment methods, failed or double payments",
        slots=frozenset({"order_id"}),
        topics=("payment",),
    ),
    Intent(
        "account",
        "flow",
        "the customer's account, profile, address, preferences",
        topics=("account",),
    ),
    Intent(
        "technical_support",
        "kb",
        "the website or app does not work",
        topics=("account", "store", "payment"),
    ),
    Intent(
        "general_inquiry",
        "kb",
        "the shop in general: hours, contact, policies",
        topics=("store", "warranty", "discounts"),
    ),
    Intent("greeting", "chat", "hello", reply="greeting"),
    Intent("thanks_goodbye", "chat", "thanks, bye", reply="goodbye"),
    Intent("human_agent", "chat", "wants to talk to a person", reply="human_unavailable"),
    Intent("out_of_scope", "chat", "nothing to do with the shop", reply="out_of_scope"),
)

INTENTS: dict[str, Intent] = {intent.name: intent for intent in CATALOGUE}
INTENT_NAMES: list[str] = [intent.name for intent in CATALOGUE]
CHAT_ONLY: frozenset[str] = frozenset(i.name for i in CATALOGUE if i.chat_only)
FLOW_INTENTS: frozenset[str] = frozenset(i.name for i in CATALOGUE if i.kind == "flow")


def intent_of(name: str) -> Intent | None:
    return INTENTS.get(name)
