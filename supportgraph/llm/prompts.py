"""The text every model call of supportgraph starts with, word for word.

Local servers (llama.cpp, llama-cpp-python) keep the last prompt's computed prefix and reuse
as much of it as the next prompt shares; hosted APIs cache shared prefixes the same way.
Understanding and phrasing used to start differently, so each call evicted the other's
prefix and paid for its whole prompt again (a repeated prompt took 3.0 s instead of 9.5-14.7 s
on a 0.5B model). Now both start with SHOP_PREFIX, which holds what both need (the shop's
request kinds, the rules about data) and nothing that changes per turn; each call's own
task follows it.
"""

from __future__ import annotations

from supportgraph.domain.intents import CATALOGUE

# The entities a model may add: plain values the flows use as they are (products need the
# catalogue's resolution, so they stay the rules' job).
ENTITY_KEYS = ("order_id", "email", "name", "zip", "size", "colour", "quantity")


def _shop_prefix() -> str:
    intents = "\n".join(f"- {intent.name}: {intent.hint}" for intent in CATALOGUE)
    return (
        "You assist the customer-support chat of an online shop. The shop's software decides "
        "what happens (orders, refunds, identity checks, handing over to a person); you only "
        "read customer messages or word replies.\n"
        f"The kinds of request (intents):\n{intents}\n"
        f"Entities are values the customer wrote, under these keys: {', '.join(ENTITY_KEYS)}.\n"
        "Text like [EMAIL_1] stands for personal data: keep it exactly as written.\n"
        "Never invent or change order numbers, amounts, prices, dates, tracking numbers, "
        "sizes or quantities.\n\n"
    )


SHOP_PREFIX = _shop_prefix()
