"""The conversations the scale bench sends: short, realistic customer message sequences of a
few kinds (order tracking, shipping, products), and for the kill -9 drill confirmed
cancellations, each of its own pending order of the demo store (an order cancels once)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

STORE = Path(__file__).resolve().parents[1] / "supportgraph" / "brands" / "demo" / "store.json"

# (first question, follow-up, another question, goodbye): one language per conversation.
SHIPPING = [
    (
        "How long does shipping to Germany take?",
        "How much is express shipping?",
        "Do you ship to Austria?",
        "thanks",
    ),
    (
        "Do you ship to Spain?",
        "How long does delivery take?",
        "Can I track the parcel?",
        "thank you, bye",
    ),
    (
        "Wie lange dauert der Versand?",
        "Was kostet Expressversand?",
        "Liefert ihr auch in die Schweiz?",
        "danke",
    ),
    (
        "What are your shipping options?",
        "Can I get it faster?",
        "Is shipping free over 50 euros?",
        "great, thanks!",
    ),
]
PRODUCTS = [
    (
        "Do you have the Trail Runner Sneakers in size 42?",
        "And in black?",
        "What is your return policy?",
        "thanks",
    ),
    (
        "¿Tienen las Trail Runner en talla 42 negro?",
        "¿Y en talla 43?",
        "¿Cuánto cuestan?",
        "gracias",
    ),
    (
        "Is the Merino Wool Sweater available in M?",
        "How much does it cost?",
        "Can I return it if it does not fit?",
        "thank you, bye",
    ),
    (
        "Do you sell Chelsea Boots?",
        "Do they come in size 41?",
        "Are they waterproof?",
        "great, thanks!",
    ),
]
GOODBYES = ("thanks", "thank you, bye", "great, thanks!")


@dataclass(frozen=True)
class Conversation:
    index: int
    kind: str  # tracking, shipping, product, cancel
    messages: tuple[str, ...]
    order: str | None = None  # the order a cancellation conversation cancels


def store_orders() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(order id, customer email) of orders to track (shipped, processed, delivered) and of
    pending orders (the ones a customer may cancel)."""
    store = json.loads(STORE.read_text())
    emails = {c["id"]: c["email"] for c in store["customers"]}
    trackable, pending = [], []
    for order in store["orders"]:
        pair = (order["id"], emails[order["customer_id"]])
        if order["status"] == "pending":
            pending.append(pair)
        elif order["status"] in ("shipped", "processed", "delivered"):
            trackable.append(pair)
    return trackable[:12], pending


def conversations(count: int, cancellations: int = 0) -> list[Conversation]:
    """`count` conversations of 4 turns: the first `cancellations` cancel a pending order each
    (its own), the rest cycle through tracking, shipping and product questions."""
    trackable, pending = store_orders()
    if cancellations > len(pending):
        raise ValueError(f"the demo store has {len(pending)} pending orders, not {cancellations}")
    made = []
    for i in range(count):
        bye = GOODBYES[i % len(GOODBYES)]
        if i < cancellations:
            order, email = pending[i]
            script = (f"I want to cancel my order {order}", email, "yes", bye)
            made.append(Conversation(i, "cancel", script, order))
            continue
        kind = ("tracking", "shipping", "product")[i % 3]
        variant = i // 3
        if kind == "tracking":
            order, email = trackable[variant % len(trackable)]
            script = ("Where is my order?", order, email, bye)
        elif kind == "shipping":
            script = SHIPPING[variant % len(SHIPPING)]
        else:
            script = PRODUCTS[variant % len(PRODUCTS)]
        made.append(Conversation(i, kind, script))
    return made
