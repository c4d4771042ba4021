"""A handoff summary written out for the human agent, in the agent's language.

`nodes/handoff.py` keeps the summary as data (reason, priority, intent, the customer's
language, sentiment, slots, the tools tried); this turns it into rows of label and value from
the `summary.*` templates of the agent's language, naming the customer's language in it. Ids,
tool names and what the customer typed stay as they are. SupportAgent.handoffs(language=...)
serves it; the agent console (server/static/agent.html) shows it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from supportgraph.templates import Templates, format_number, language_name, text_direction

MOOD_BELOW, MOOD_ABOVE = -0.3, 0.3  # sentiment (-1..1) shown as negative / neutral / positive


def summary_languages(templates: Templates, reply_languages: list[str]) -> list[str]:
    """The languages a summary can be written in: served languages with `summary.*` wording."""
    return [
        code
        for code in dict.fromkeys([*reply_languages, *templates.languages()])
        if "summary.title" in templates.by_language.get(code, {})
    ]


def summary_view(
    summary: dict[str, Any], templates: Templates, reply_languages: list[str], language: str
) -> dict[str, Any]:
    """A handoff summary (nodes/handoff.py build_summary) as rows of label and value in the
    agent's language; ids, tool names and what the customer typed stay as they are."""
    served = summary_languages(templates, reply_languages)
    code = language.replace("_", "-").split("-")[0].lower()
    lang = code if code in served else "en"

    def say(key: str, **params: Any) -> str:
        return templates.render(key, lang, **params)

    def named(group: str, value: Any) -> str:
        if value in (None, ""):
            return say("summary.none")
        key = f"summary.{group}.{value}"
        return say(key) if templates.has(key, lang) else str(value)

    customer_lang = str(summary.get("language") or "")
    rows: list[tuple[str, str]] = [
        ("reason", reason_text(summary.get("reason"), say, named)),
        ("priority", named("priority", summary.get("priority"))),
        ("intent", named("intent", summary.get("intent"))),
    ]
    if summary.get("active_flow"):
        rows.append(("flow", named("intent", summary["active_flow"])))
    if customer_lang:
        rows.append(("language", language_name(customer_lang, lang)))
    rows.append(("customer", str(summary.get("customer_id") or say("summary.guest"))))
    if summary.get("customer_segment"):
        rows.append(("segment", str(summary["customer_segment"])))
    if isinstance(summary.get("sentiment"), int | float):
        rows.append(("sentiment", mood_text(float(summary["sentiment"]), lang, named)))
    slots = summary.get("slots") or {}
    if isinstance(slots, dict) and slots:
        details = [f"{named('slot', k)}: {slot_text(v)}" for k, v in slots.items() if v]
        rows.append(("details", "; ".join(details) or say("summary.none")))
    tools = [str(t) for t in summary.get("last_tools") or [] if t]
    rows.append(("tried", ", ".join(dict.fromkeys(tools)) or say("summary.none")))
    if isinstance(summary.get("turn"), int):
        rows.append(("turn", format_number(summary["turn"], lang)))
    return {
        "language": lang,
        "dir": text_direction(lang),
        "title": say("summary.title"),
        "shown_in": say("summary.shown_in"),
        "customer_language": {
            "code": customer_lang,
            "name": language_name(customer_lang, lang) if customer_lang else "",
            "own_name": language_name(customer_lang, customer_lang) if customer_lang else "",
            "dir": text_direction(customer_lang) if customer_lang else "ltr",
        },
        "rows": [
            {"key": key, "label": say(f"summary.{key}"), "value": value} for key, value in rows
        ],
        "languages": [{"code": c, "name": language_name(c, c)} for c in served],
    }


def reason_text(reason: Any, say: Callable[..., str], named: Callable[[str, Any], str]) -> str:
    """ "legal_or_fraud:chargeback+vip" -> "Legal or fraud term: "chargeback" · VIP customer"."""
    if not reason:
        return say("summary.none")
    text = str(reason)
    vip = text.endswith("+vip")
    name, _, term = text.removesuffix("+vip").partition(":")
    key = f"summary.reason.{name}"
    shown = say(key, term=term) if term else named("reason", name)
    return f"{shown} · {say('summary.reason.vip')}" if vip else shown


def mood_text(sentiment: float, lang: str, named: Callable[[str, Any], str]) -> str:
    mood = (
        "negative"
        if sentiment < MOOD_BELOW
        else "positive"
        if sentiment > MOOD_ABOVE
        else "neutral"
    )
    return f"{named('sentiment', mood)} ({format_number(round(sentiment, 2), lang)})"


def slot_text(value: Any) -> str:
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list):
        return ", ".join(slot_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False, default=str)
