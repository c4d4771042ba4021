"""Bad input gets a sensible reply or a clear error, never a traceback; the thread stays usable."""

from __future__ import annotations

import pytest

from supportgraph.runtime.agent import InvalidMessage, SupportAgent


@pytest.mark.parametrize("text", ["", "   \n\t ", "\x00\x01\x02"])
async def test_empty_messages_are_a_clear_error(
    agent: SupportAgent, thread: str, text: str
) -> None:
    with pytest.raises(InvalidMessage, match="empty"):
        await agent.send(thread, text)
    assert await agent.history(thread) == []


async def test_odd_messages_get_replies_and_the_thread_stays_usable(
    agent: SupportAgent, thread: str
) -> None:
    garbage = bytes(range(256)).decode("latin-1") * 3
    # Over the limit is refused as over HTTP (413) and the CLI, not cut short; nothing kept.
    with pytest.raises(InvalidMessage, match="message longer than 4000 characters"):
        await agent.send(thread, "where is my order " * 600)  # ~10,000 characters
    odd = [
        "where is my order " * 222,  # 3,996 characters: just under the limit
        garbage,
        "😀😀🙏🔥",
        "Hola, I want to return las zapatillas, bitte schnell",
        "?!?!",
    ]
    for text in odd:
        rec = await agent.send(thread, text)
        assert rec.reply and rec.error is None, text[:40]
    long = (await agent.history(thread))[0]
    assert long.intent == "order_tracking"
    emoji = (await agent.history(thread))[2]
    no_text = agent._deps.templates.render("no_text", emoji.reply_language)
    assert emoji.escalation.action == "none" and emoji.reply.startswith(no_text)
    after = await agent.send(thread, "How much does shipping cost?")
    assert after.intent == "shipping" and after.retrieved


async def test_bad_thread_ids_are_rejected(agent: SupportAgent) -> None:
    with pytest.raises(InvalidMessage):
        await agent.send("", "hello")
