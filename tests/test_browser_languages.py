"""The pages in other languages, in a real headless Chromium over a real server: an Arabic
conversation runs right to left with each message's language shown, and the agent console
names the customer's language and writes the handoff summary in the agent's language.

Playwright drives the system browser (/usr/bin/chromium), like tests/test_browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server_helpers import CLIENT, auth, running_server

pytestmark = pytest.mark.slow

ARABIC_QUESTION = "مرحبا، أين طلبي؟"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser_languages"), shared=data_dir) as url:
        yield url


def test_an_arabic_message_is_shown_right_to_left_with_its_language(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 480, "height": 760})
    page.goto(server + "/")
    page.fill("#text", ARABIC_QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg.bot[lang='ar']", timeout=20_000)
    reply = page.locator(".msg.bot").last
    mine = page.locator(".msg.me").last
    # Each message carries its language: lang, dir and a visible tag naming it.
    assert (reply.get_attribute("lang"), reply.get_attribute("dir")) == ("ar", "rtl")
    assert (mine.get_attribute("lang"), mine.get_attribute("dir")) == ("ar", "rtl")
    assert reply.locator(".tag").inner_text() == "العربية · ar"
    assert page.evaluate("getComputedStyle(document.querySelector('.msg.bot')).direction") == "rtl"
    # The page follows the conversation: right to left, nothing pushed sideways, the bot's
    # bubble on the right (the start of a right-to-left line), the customer's on the left.
    assert page.evaluate("document.body.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"
    assert page.evaluate("document.documentElement.scrollWidth") <= 480
    log = page.locator("#log").bounding_box()
    bot_box, my_box = reply.bounding_box(), mine.bounding_box()
    assert log and bot_box and my_box
    assert bot_box["x"] + bot_box["width"] > log["x"] + log["width"] - 40
    assert my_box["x"] < log["x"] + 40
    assert "SG-" in reply.inner_text()  # it asks for the order number, in Arabic

    # The next message is English: its bubbles are dir="auto" and say "English"; the Arabic
    # ones keep their direction.
    page.fill("#text", "Where is my order?")
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg.bot[lang='en']", timeout=20_000)
    english = page.locator(".msg.bot").last
    assert (english.get_attribute("dir"), english.locator(".tag").inner_text()) == (
        "auto",
        "English · en",
    )
    assert page.locator(".msg.bot").first.get_attribute("dir") == "rtl"
    page.wait_for_function("document.body.dir === 'ltr'", timeout=5_000)
    page.close()


def test_the_agent_console_names_the_language_and_writes_the_summary_in_the_agents(  # type: ignore[no-untyped-def]
    server: str, browser
) -> None:
    with httpx.Client(base_url=server, timeout=60) as http:
        thread = http.post("/v1/threads", json={"locale": "ar"}, headers=auth(CLIENT)).json()
        thread_id = thread["thread_id"]
        turn = http.post(
            f"/v1/threads/{thread_id}/messages",
            json={"text": "أريد التحدث مع موظف خدمة العملاء بخصوص الطلب SG-10002"},
            headers=auth(CLIENT),
        ).json()
    assert (turn["language"], turn["reply_language"]) == ("ar", "ar")
    assert turn["escalation"]["action"] == "handoff", turn

    agent = browser.new_page(viewport={"width": 1100, "height": 760}, locale="en-US")
    agent.add_init_script("localStorage.removeItem('sg-agent-lang')")
    agent.goto(server + "/agent")
    item = agent.locator(f"#list .item[data-thread='{thread_id}']")
    item.wait_for(timeout=20_000)
    assert item.get_attribute("data-language") == "ar"
    assert "Asked for a person · Arabic" in item.inner_text()  # the name, in English
    item.click()
    agent.wait_for_selector("#summary dd", timeout=20_000)
    assert agent.inner_text("#customer-language") == "Arabic (العربية) · ar"
    assert agent.inner_text("#summary-title") == "Handoff summary"
    assert "Customer's language" in agent.inner_text("#summary")
    said = agent.locator(".msg.customer bdi").first
    assert (said.get_attribute("lang"), said.evaluate("e => getComputedStyle(e).direction")) == (
        "ar",
        "rtl",
    )

    # The agent reads German: the summary is written out again in German.
    assert "Deutsch" in agent.locator("#agent-lang option").all_inner_texts()
    agent.select_option("#agent-lang", "de")
    agent.wait_for_function(
        "document.getElementById('summary-title').textContent === 'Übergabe-Zusammenfassung'",
        timeout=20_000,
    )
    summary = agent.inner_text("#summary")
    assert "Sprache des Kunden" in summary and "Arabisch" in summary
    assert "Grund" in summary and "Der Kunde möchte mit einem Menschen sprechen" in summary
    assert "Bestellnummer: SG-10002" in summary
    assert agent.inner_text("#customer-language") == "Arabisch (العربية) · ar"
    assert agent.inner_text("#agent-lang-label") == "Zusammenfassung auf"
    agent.wait_for_function(
        f"document.querySelector(\"#list .item[data-thread='{thread_id}']\")"
        ".textContent.includes('Möchte mit einem Menschen sprechen · Arabisch')",
        timeout=20_000,
    )

    # An agent who reads Arabic gets the summary right to left.
    agent.select_option("#agent-lang", "ar")
    agent.wait_for_function("document.getElementById('summary').dir === 'rtl'", timeout=20_000)
    assert "لغة العميل" in agent.inner_text("#summary")
    assert agent.evaluate("localStorage.getItem('sg-agent-lang')") == "ar"
    agent.close()


def test_the_replay_page_shows_arabic_right_to_left(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server, timeout=60) as http:
        thread_id = http.post("/v1/threads", json={}, headers=auth(CLIENT)).json()["thread_id"]
        http.post(
            f"/v1/threads/{thread_id}/messages",
            json={"text": ARABIC_QUESTION},
            headers=auth(CLIENT),
        ).raise_for_status()
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(server + "/replay")
    page.locator(f"#list .item[data-thread='{thread_id}']").click(timeout=20_000)
    said = page.locator(".turn .said bdi[lang='ar']").first
    said.wait_for(timeout=20_000)
    assert said.inner_text() == ARABIC_QUESTION
    assert said.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1200
    page.close()
