"""SupportAgent.create_thread with an identity token, on the shared agent (which has no
identity secret): the token is refused, nothing is created, callers without one are as before."""

from __future__ import annotations

import pytest

from supportgraph.domain.identity import make_token
from supportgraph.runtime.agent import IdentityTokensDisabled, SupportAgent


async def test_without_a_secret_a_token_is_refused_and_no_thread_is_created(
    agent: SupportAgent, thread: str
) -> None:
    assert agent.settings.identity_secret is None
    with pytest.raises(IdentityTokensDisabled, match="SUPPORTGRAPH_IDENTITY_SECRET"):
        await agent.create_thread(thread, "key-1", {}, identity=make_token("s", "C1001"))
    assert await agent.thread_info(thread) is None
    assert not (await agent.state(thread)).get("customer_id")


async def test_a_caller_cannot_claim_a_verified_identity_through_metadata(
    agent: SupportAgent, thread: str
) -> None:
    info = await agent.create_thread(
        thread, None, {"channel": "web", "verified_identity": {"customer_id": "C1001"}}
    )
    assert info["metadata"] == {"channel": "web"}
    assert not (await agent.state(thread)).get("customer_id")
