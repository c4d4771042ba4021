"""Human handoff for agent keys: the queue, claiming a thread, replying, handing back.

The queue can come with each summary written out in the agent's language
(`GET /v1/handoffs?language=de`): labels and values from the `summary.*` templates of that
language, the customer's language named in it; the agent console (static/agent.html) shows it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from supportgraph.config import Settings
from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.agent import InvalidMessage, NoPendingHandoff
from supportgraph.server.auth import Caller
from supportgraph.server.dependencies import agent_of, needs, own_thread, settings_of
from supportgraph.server.errors import refused
from supportgraph.server.schemas import AgentMessage, error_responses
from supportgraph.templates import Templates, format_number, language_name, text_direction

router = APIRouter(tags=["handoff"])

LANGUAGE_TAG = r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$"
MOOD_BELOW, MOOD_ABOVE = -0.3, 0.3  # sentiment (-1..1) shown as negative / neutral / positive


@router.get("/v1/handoffs")
async def list_handoffs(
    request: Request,
    who: Caller = needs("agent"),
    language: str | None = Query(
        None,
        max_length=35,
        pattern=LANGUAGE_TAG,
        description="The agent's language: each handoff then has `summary_view`, its summary "
        "written out in that language (English when the language has no summary wording).",
        examples=["de"],
    ),
) -> Any:
    handoffs = await agent_of(request).handoffs()
    if language is None:
        return handoffs
    settings = settings_of(request)
    templates = summary_templates(request, settings)
    return [
        {**h, "summary_view": summary_view(h.get("summary") or {}, templates, settings, language)}
        for h in handoffs
    ]


def summary_templates(request: Request, settings: Settings) -> Templates:
    """The brand's templates (with its registers), loaded once per app."""
    templates: Templates | None = getattr(request.app.state, "summary_templates", None)
    if templates is None:
        templates = Templates.for_brand(settings.brand_dir, register=settings.registers)
        request.app.state.summary_templates = templates
    return templates


def summary_languages(templates: Templates, settings: Settings) -> list[str]:
    """The languages a summary can be written in: served languages with `summary.*` wording."""
    return [
        code
        for code in dict.fromkeys([*settings.reply_languages, *templates.languages()])
        if "summary.title" in templates.by_language.get(code, {})
    ]


def summary_view(
    summary: dict[str, Any], templates: Templates, settings: Settings, language: str
) -> dict[str, Any]:
    """A handoff summary (nodes/handoff.py build_summary) as rows of label and value in the
    agent's language; ids, tool names and what the customer typed stay as they are."""
    served = summary_languages(templates, settings)
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


@router.post("/v1/handoffs/{thread_id}/claim")
async def claim(thread_id: str, request: Request, who: Caller = needs("agent")) -> Any:
    if not await agent_of(request).claim_handoff(thread_id, who.key_id):
        raise HTTPException(404, f"no handoff for thread {thread_id}")
    return {"thread_id": thread_id, "status": "claimed", "claimed_by": who.key_id}


@router.post(
    "/v1/threads/{thread_id}/agent-messages",
    response_model=TurnRecord,
    responses=error_responses(409),
)
async def agent_message(
    thread_id: str, body: AgentMessage, request: Request, who: Caller = needs("agent")
) -> Any:
    agent = agent_of(request)
    await own_thread(thread_id, who, agent)
    try:
        return await agent.agent_reply(thread_id, body.text, body.agent or "agent")
    except NoPendingHandoff as exc:
        raise HTTPException(409, str(exc)) from exc
    except InvalidMessage as exc:
        raise refused(exc) from exc


@router.post(
    "/v1/handoffs/{thread_id}/release",
    response_model=TurnRecord,
    responses=error_responses(409),
)
async def release(thread_id: str, request: Request, who: Caller = needs("agent")) -> Any:
    agent = agent_of(request)
    await own_thread(thread_id, who, agent)
    try:
        return await agent.release(thread_id)
    except NoPendingHandoff as exc:
        raise HTTPException(409, str(exc)) from exc
