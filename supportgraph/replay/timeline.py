"""The replay timeline of a thread as shown to people: every turn's TurnRecord and, inside
it, every node in order with the state fields it changed, its timing, the tool calls,
retrieved chunks, escalation decision and the checkpoint the turn ended on
(SupportAgent.timeline builds it). PII is redacted unless asked otherwise; `redact` serves
every replay answer (forks and reruns too).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from supportgraph.runtime.agent import SupportAgent

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Not inside a longer token: checkpoint ids (uuids) and tracking numbers stay readable.
CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){13,19}(?![\w-])")
PHONE = re.compile(r"(?<![\w-])\+?\d[\d ()/-]{7,}\d(?![\w-])")
PII_KEYS = {"email", "phone", "address", "line1", "line2", "zip", "shipping_address"}
# "name" is personal only where it is the customer's: not a tool's or a node's name.
PERSONAL_CONTAINERS = {"args", "entities", "slots", "params", "summary", "to", "from"}


def redact(value: Any, key: str | None = None, parent: str | None = None) -> Any:
    """Emails, card and phone numbers masked; fields that hold personal data blanked."""
    personal = key in PII_KEYS or (key == "name" and parent in PERSONAL_CONTAINERS)
    if personal and value not in (None, "", [], {}):
        return "‹redacted›"
    if isinstance(value, dict):
        return {k: redact(v, k, key) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, None, key) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    text = EMAIL.sub("‹email›", text)
    text = CARD.sub("‹card›", text)
    return PHONE.sub("‹phone›", text)


async def build_timeline(
    agent: SupportAgent, thread_id: str, show_pii: bool = False
) -> dict[str, Any] | None:
    """The thread's timeline (SupportAgent.timeline), personal data masked unless
    `show_pii`; None for an unknown thread."""
    timeline = await agent.timeline(thread_id)
    if timeline is None or show_pii:
        return timeline
    return redact(timeline)  # type: ignore[no-any-return]
