"""The web chat page and the agent console in a real headless Chromium (Debian's package).

Playwright drives the system browser at /usr/bin/chromium: no browser is downloaded. CI
installs the package (.ci/run); without it these tests fail with the install command.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server_helpers import running_server

CHROMIUM = os.environ.get("SUPPORTGRAPH_CHROMIUM", "/usr/bin/chromium")
DOCS = Path(__file__).parents[1] / "docs"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser"), shared=data_dir) as url:
        yield url


def test_chat_page_streams_a_reply_with_quick_replies(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 720, "height": 760})
    page.goto(server + "/")
    page.fill("#text", "I want to cancel my order SG-10001")
    page.keyboard.press("Enter")  # the form is keyboard operable
    page.wait_for_selector(".msg.bot", timeout=20_000)
    assert "email" in page.inner_text(".msg.bot >> nth=-1")
    page.fill("#text", "anna.schmidt@example.com")
    page.click("form button")
    page.wait_for_function("document.querySelectorAll('.msg.bot').length >= 2", timeout=20_000)
    assert "cancel order SG-10001" in page.inner_text(".msg.bot >> nth=-1")
    assert page.inner_text("#lang") == "en"
    buttons = page.locator("#quick button")
    assert buttons.all_inner_texts() == ["Yes", "No"]
    page.fill("#text", "¿Cuánto cuesta el envío a Francia?")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('lang').textContent === 'es'", timeout=20_000)
    page.fill("#text", "مرحبا، أين طلبي؟")
    page.keyboard.press("Enter")
    page.wait_for_function("document.body.dir === 'rtl'", timeout=20_000)
    # Right-to-left must not push the page sideways (the chat stays in view).
    assert page.evaluate("document.documentElement.scrollWidth") <= 720
    page.screenshot(path=str(tmp_path / "chat.png"))
    if os.environ.get("SUPPORTGRAPH_UPDATE_SCREENSHOTS"):
        shutil.copy(tmp_path / "chat.png", DOCS / "chat.png")
    page.close()


def test_agent_console_picks_up_a_handoff_and_answers(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    customer = browser.new_page()
    customer.goto(server + "/")
    customer.fill("#text", "I want to talk to a human about order SG-10002")
    customer.keyboard.press("Enter")
    customer.wait_for_selector(".msg.bot", timeout=20_000)
    assert "support team" in customer.inner_text(".msg.bot >> nth=-1")

    agent = browser.new_page(viewport={"width": 1000, "height": 700})
    agent.goto(server + "/agent")
    agent.wait_for_selector("#list .item", timeout=20_000)
    agent.click("#list .item >> nth=0")
    agent.wait_for_selector("#reply")
    assert "SG-10002" in agent.inner_text("#detail")
    agent.fill("#reply", "Hi, this is Sam from support. Your parcel is with DHL.")
    agent.click("text=Send reply")
    agent.wait_for_selector("#sent", timeout=20_000)
    agent.screenshot(path=str(tmp_path / "agent.png"))
    if os.environ.get("SUPPORTGRAPH_UPDATE_SCREENSHOTS"):
        shutil.copy(tmp_path / "agent.png", DOCS / "agent.png")

    customer.wait_for_selector(".msg.agent", timeout=20_000)  # polled from the thread's turns
    assert "Sam from support" in customer.inner_text(".msg.agent")
    customer.close()
    agent.close()


def test_replay_page_shows_paths_diffs_and_forks(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    customer = browser.new_page()
    customer.goto(server + "/")
    for n, text in enumerate(("I want to cancel my order SG-10001", "anna.schmidt@example.com"), 1):
        customer.fill("#text", text)
        customer.keyboard.press("Enter")
        customer.wait_for_function(
            f"document.querySelectorAll('.msg.bot').length >= {n}", timeout=20_000
        )
    customer.close()

    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(server + "/replay")
    page.wait_for_selector("#list .item", timeout=20_000)
    page.click("#list .item >> nth=0")
    page.wait_for_selector(".turn[data-turn='2']", timeout=20_000)
    second = page.locator(".turn[data-turn='2']")
    assert second.locator(".node").all_inner_texts()[-3:] == ["act", "adapt_persona", "respond"]
    assert "‹email›" in second.inner_text()  # PII redacted on the page
    act = second.locator("details.step", has_text="act ·")
    act.locator("summary").click()  # an expandable diff of what the node changed
    assert "awaiting" in act.locator("table").inner_text()
    page.click("#rerun")
    page.wait_for_selector("#rerun-result .same", timeout=60_000)
    second.locator("input").fill("Where is my order SG-10002?")
    second.locator("text=Fork here").click()
    page.wait_for_selector("#branch-of", timeout=20_000)
    assert "at turn 2" in page.inner_text("#branch-of")
    assert "order_tracking" in page.inner_text(".turn[data-turn='2'] h3")
    page.screenshot(path=str(tmp_path / "replay.png"))
    if os.environ.get("SUPPORTGRAPH_UPDATE_SCREENSHOTS"):
        shutil.copy(tmp_path / "replay.png", DOCS / "replay.png")
    page.close()


def test_chat_page_retries_a_lost_answer_with_the_same_idempotency_key(
    server: str, browser
) -> None:  # type: ignore[no-untyped-def]
    """The server ran the turn but the answer never reached the page (the connection broke):
    the page retries with the same Idempotency-Key and shows the first answer; one turn ran."""
    import httpx

    from tests.server_helpers import CLIENT, auth

    page = browser.new_page()
    seen_keys: list[str] = []

    def lose_first_answer(route) -> None:  # type: ignore[no-untyped-def]
        seen_keys.append(route.request.headers.get("idempotency-key", ""))
        if len(seen_keys) == 1:
            route.fetch()  # the server gets the message and answers it...
            route.abort("connectionreset")  # ...and the answer is lost on the way
        else:
            route.continue_()

    page.route("**/v1/threads/*/messages", lose_first_answer)
    page.goto(server + "/")
    page.fill("#text", "Where is my order?")
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg.bot", timeout=30_000)
    assert "order number" in page.inner_text(".msg.bot >> nth=-1").lower()
    assert len(seen_keys) == 2 and seen_keys[0] and seen_keys[0] == seen_keys[1]
    thread = page.evaluate("sessionStorage.getItem('sg-thread')")
    turns = httpx.get(f"{server}/v1/threads/{thread}/turns", headers=auth(CLIENT)).json()
    assert [t["customer_text"] for t in turns] == ["Where is my order?"]
