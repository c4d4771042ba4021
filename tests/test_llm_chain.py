"""The fallback chain over real HTTP: primary -> backup -> offline -> trouble message, and the
circuit breaker's transitions seen from the requests the fake received."""

from __future__ import annotations

from langchain_core.messages import HumanMessage

from supportgraph.config import DEMO_BRAND_DIR
from supportgraph.llm.client import ModelClient
from supportgraph.llm.failures import ModelAnswer
from supportgraph.llm.service import LLMService
from supportgraph.llm.settings import LLMSettings
from supportgraph.templates import Templates
from tests.llm_fake import FakeLLM, Reply, no_sleep

TEMPLATES = Templates.for_brand(DEMO_BRAND_DIR)
ASK = [HumanMessage("Hello")]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def service(fake: FakeLLM, clock: Clock | None = None, backup: bool = True) -> LLMService:
    layer = {
        "base_url": fake.url,
        "api_key_env": None,
        "timeout_s": 2.0,  # generous: CI runs these beside browsers and servers
        "max_retries": 0,
        "breaker_failures": 2,
        "breaker_cooldown_s": 60,
    }
    settings = LLMSettings.model_validate(
        {
            "primary": {**layer, "model": "primary-model"},
            "backup": {**layer, "model": "backup-model"} if backup else None,
        }
    )
    return LLMService(settings, clock=clock or Clock(), sleep=no_sleep)


async def complete(layer: ModelClient) -> ModelAnswer[str]:
    return await layer.complete(ASK)


def offline() -> str:
    return "offline reply"


def trouble() -> str:
    return "trouble reply"


def models_asked(fake: FakeLLM) -> list[str]:
    return [r["model"] for r in fake.requests]


async def test_primary_answers(fake: FakeLLM) -> None:
    fake.script(Reply(content="Hi from primary", usage=(11, 3)))
    outcome = await service(fake).chain.run(complete, offline, trouble)
    assert (outcome.value, outcome.model, outcome.fallback) == ("Hi from primary", "primary", None)
    assert (outcome.tokens_in, outcome.tokens_out) == (11, 3)
    assert outcome.record_fields()["model"] == "primary"


async def test_backup_answers_when_primary_fails(fake: FakeLLM) -> None:
    fake.script(Reply(status=500), Reply(content="Hi from backup"))
    outcome = await service(fake).chain.run(complete, offline, trouble)
    assert (outcome.value, outcome.model) == ("Hi from backup", "backup")
    assert outcome.fallback == "primary: server_error"
    assert models_asked(fake) == ["primary-model", "backup-model"]


async def test_offline_answers_when_both_models_fail(fake: FakeLLM) -> None:
    fake.script(Reply(status=503), Reply(content="slow", delay_s=6.0))
    outcome = await service(fake).chain.run(complete, offline, trouble)
    assert (outcome.value, outcome.model) == ("offline reply", "offline")
    assert outcome.fallback == "primary: server_error; backup: timeout"


async def test_trouble_message_when_offline_fails_too(fake: FakeLLM) -> None:
    def broken_offline() -> str:
        raise RuntimeError("templates missing")

    fake.script(Reply(status=500), Reply(status=500))
    llm = service(fake)
    outcome = await llm.chain.run(complete, broken_offline, trouble)
    assert (outcome.value, outcome.model) == ("trouble reply", "trouble")
    assert outcome.fallback == "primary: server_error; backup: server_error; offline: RuntimeError"


def test_trouble_message_is_polite_localized_and_says_how_to_reach_us() -> None:
    from supportgraph.llm.chain import trouble_message

    english = trouble_message(TEMPLATES, "en")
    assert "sorry" in english.lower() and "help@soleandthread.example" in english
    assert "Entschuldigung" in trouble_message(TEMPLATES, "de")


async def test_breaker_opens_skips_primary_then_half_open_trial_closes_it(fake: FakeLLM) -> None:
    clock = Clock()
    llm = service(fake, clock)
    primary = llm.chain.layers[0]
    for _ in range(2):  # two consecutive failures open the primary's breaker
        fake.script(Reply(status=500), Reply(content="backup"))
        await llm.chain.run(complete, offline, trouble)
    assert primary.breaker.state == "open"

    fake.requests.clear()
    fake.script(Reply(content="backup while open"))
    outcome = await llm.chain.run(complete, offline, trouble)
    assert outcome.model == "backup" and outcome.fallback == "primary: breaker_open"
    assert models_asked(fake) == ["backup-model"]  # the primary was not called at all

    clock.now += 60  # cool-down over: one trial call goes to the primary
    assert primary.breaker.state == "half_open"
    fake.requests.clear()
    fake.script(Reply(content="primary is back"))
    outcome = await llm.chain.run(complete, offline, trouble)
    assert (outcome.model, outcome.value) == ("primary", "primary is back")
    assert models_asked(fake) == ["primary-model"]
    assert primary.breaker.state == "closed"


async def test_failed_half_open_trial_reopens_the_breaker(fake: FakeLLM) -> None:
    clock = Clock()
    llm = service(fake, clock, backup=False)
    primary = llm.chain.layers[0]
    for _ in range(2):
        fake.script(Reply(status=500))
        assert (await llm.chain.run(complete, offline, trouble)).model == "offline"
    clock.now += 60
    fake.requests.clear()
    fake.script(Reply(status=500))
    outcome = await llm.chain.run(complete, offline, trouble)
    assert outcome.model == "offline" and outcome.fallback == "primary: server_error"
    assert primary.breaker.state == "open"
    fake.requests.clear()
    outcome = await llm.chain.run(complete, offline, trouble)
    assert outcome.fallback == "primary: breaker_open" and fake.requests == []
