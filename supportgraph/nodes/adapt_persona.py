"""adapt_persona: who we are talking to, from the CRM segment and how the customer writes.

Personas change how a reply is phrased (length, detail, tips), never the facts.
Signals accumulate over the conversation, so one message does not flip the persona.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps
from supportgraph.domain.state import ConversationState
from supportgraph.domain.text import normalize
from supportgraph.nlu.text import word_count

PERSONAS = ["newbie", "experimenter", "expert", "busy_parent", "product_seeker", "default"]

CUES: dict[str, list[str]] = {
    "busy_parent": [
        "kids",
        "kid",
        "children",
        "my son",
        "my daughter",
        "baby",
        "school run",
        "quick",
        "quickly",
        "hurry",
        "no time",
        "busy",
        "hijos",
        "mi hijo",
        "mi hija",
        "bebe",
        "rapido",
        "prisa",
        "enfants",
        "mon fils",
        "ma fille",
        "vite",
        "presse",
        "pas le temps",
        "kinder",
        "mein sohn",
        "meine tochter",
        "schnell",
        "eilig",
        "keine zeit",
    ],
    "newbie": [
        "first time",
        "first order",
        "new here",
        "how do i",
        "how does",
        "never ordered",
        "i don't know how",
        "primera vez",
        "como funciona",
        "soy nuevo",
        "soy nueva",
        "premiere fois",
        "comment faire",
        "comment ca marche",
        "je suis nouveau",
        "je suis nouvelle",
        "erste mal",
        "zum ersten mal",
        "wie funktioniert",
        "bin neu",
    ],
    "experimenter": [
        "try something",
        "something new",
        "something different",
        "new style",
        "new colour",
        "new color",
        "what's new",
        "new arrivals",
        "algo nuevo",
        "algo diferente",
        "novedades",
        "quelque chose de nouveau",
        "nouveautes",
        "essayer",
        "etwas neues",
        "neuheiten",
        "ausprobieren",
    ],
    "product_seeker": [
        "looking for",
        "do you have",
        "in stock",
        "available in",
        "busco",
        "tienen",
        "disponible",
        "je cherche",
        "avez-vous",
        "vous avez",
        "en stock",
        "ich suche",
        "habt ihr",
        "haben sie",
        "auf lager",
        "verfugbar",
    ],
}
TECHNICAL = re.compile(r"\b(?:tracking|sku|variant|eta|api|invoice|rma|[A-Z]{2}-\d{4,})\b", re.I)


def signals_of(text: str, intent: str) -> dict[str, int]:
    norm = normalize(text)
    found = {p: 1 for p, cues in CUES.items() if any(cue in norm for cue in cues)}
    if intent == "product_inquiry":
        found["product_seeker"] = found.get("product_seeker", 0) + 1
    # Terse messages that carry ids or precise terms read like someone who knows the drill.
    if word_count(text) <= 12 and TECHNICAL.search(text):
        found["expert"] = found.get("expert", 0) + 1
    return found


def choose(signals: dict[str, int], segment: str | None) -> str:
    scores = dict(signals)
    if segment == "new":
        scores["newbie"] = scores.get("newbie", 0) + 1
    if segment == "vip":
        scores["expert"] = scores.get("expert", 0) + 1
    if not scores:
        return "default"
    best = max(scores.items(), key=lambda kv: (kv[1], -PERSONAS.index(kv[0])))
    return best[0] if best[1] >= 1 else "default"


async def adapt_persona(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    signals = dict(state.persona_signals)
    for persona, count in signals_of(state.text, state.intent).items():
        signals[persona] = signals.get(persona, 0) + count
    return {
        "persona_signals": signals,
        "persona": choose(signals, state.customer_segment),
    }
