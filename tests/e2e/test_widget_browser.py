"""The website widget in real Chromium, on the demo page, against the real stack.

Chromium starts once for the module; each test gets a fresh browser context (its own
localStorage, like a new visitor). Screenshots land in data/test-artifacts/widget/.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.e2e.browser import build_widget, chromium, save_screenshot
from tests.e2e.conftest import RunningStack
from tests.e2e.test_assistant_flows import claim_order, crm_order

DEMO_ORDER = "ORD-100001"
DEMO_EMAIL = "alice.martin@example.com"
# utter_ask_email: what verification asks after the order number.
EMAIL_QUESTION = "email address you used"
ISO_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
# A bot turn on a busy two-core machine can take several seconds.
REPLY_MS = 30_000


@pytest.fixture(scope="module")
def demo_url(running_stack: RunningStack) -> str:
    """The demo shop page, with widget.js built from the current sources."""
    build_widget()
    return f"{running_stack.config.crm_url}/demo"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context
    context.close()


# 1 + the index of the first bot message from `seen` on that contains `text`, else null.
NEW_BOT_MESSAGE = """([seen, text]) => {
  const root = document.querySelector("[data-support-widget]")?.shadowRoot;
  const messages = root ? [...root.querySelectorAll(".sw-msg-bot")] : [];
  const index = messages.findIndex((message, i) => i >= seen && message.textContent.includes(text));
  return index >= 0 ? index + 1 : null;
}"""


class Widget:
    """The widget on one page, seen as a customer sees it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.locator(".sw-launcher")
        self.panel = page.locator(".sw-panel")
        self.input = page.get_by_label("Your message")
        self.banner = page.locator(".sw-banner")
        self.errors: list[str] = []
        # Bot messages shown when the customer last wrote: only later ones answer it.
        self.seen = 0
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        # The demo page's CSP forbids every outside source: a violation means the widget needs one.
        page.on(
            "console",
            lambda message: (
                self.errors.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )

    def goto(self, url: str) -> Widget:
        self.page.goto(url)
        expect(self.launcher).to_be_visible()
        return self

    def open(self) -> Widget:
        self.launcher.click()
        expect(self.panel).to_be_visible()
        self.wait_online()
        return self

    def wait_online(self) -> None:
        expect(self.page.locator(".sw[data-status=online]")).to_have_count(1, timeout=REPLY_MS)

    def say(self, text: str) -> None:
        self.seen = self.page.locator(".sw-msg-bot").count()
        self.input.fill(text)
        self.input.press("Enter")

    def bot(self, contains: str) -> Locator:
        """The first bot message since the customer last wrote that contains `contains`."""
        found = self.page.wait_for_function(NEW_BOT_MESSAGE, arg=[self.seen, contains], timeout=REPLY_MS)
        message = self.page.locator(".sw-msg-bot").nth(int(found.json_value()) - 1)
        expect(message).to_be_visible()
        return message

    def user_messages(self) -> list[str]:
        return [text.strip() for text in self.page.locator(".sw-msg-user .sw-text").all_inner_texts()]

    def bot_messages(self) -> list[str]:
        return self.page.locator(".sw-msg-bot .sw-text").all_inner_texts()

    def session_id(self) -> str:
        stored: str = self.page.evaluate(
            "() => Object.entries(localStorage).find(([k]) => k.endsWith(':session'))[1]"
        )
        return str(json.loads(stored))

    def screenshot(self, name: str) -> None:
        save_screenshot(self.page, "widget", name)


def rasa_api(stack: RunningStack) -> httpx.Client:
    """Rasa's HTTP API, with its token if the stack runs Rasa with one."""
    token = getattr(stack.config, "rasa_token", None)
    params = {"token": token} if token else {}
    return httpx.Client(base_url=stack.config.rasa_url, params=params, timeout=10)


def user_texts_in_tracker(stack: RunningStack, session_id: str) -> list[str]:
    """What Rasa recorded the customer saying in this session."""
    with rasa_api(stack) as rasa:
        response = rasa.get(f"/conversations/{session_id}/tracker")
    response.raise_for_status()
    return [event.get("text") or "" for event in response.json()["events"] if event["event"] == "user"]


def customer_token(stack: RunningStack, *, expires_in: float, secret: str | None = None) -> str:
    """A token naming the demo customer, signed as the shop would (or not)."""
    with httpx.Client(base_url=stack.config.crm_url, timeout=10) as crm:
        alice = crm.post("/demo/token").json()
    claims = {"sub": str(alice["customer_id"]), "exp": int(time.time() + expires_in)}
    return jwt.encode(claims, secret or stack.config.widget_token_secret, algorithm="HS256")


def test_customer_asks_about_an_order_verifies_and_reads_the_answer(context, demo_url):
    widget = Widget(context.new_page()).goto(demo_url).open()
    expect(widget.bot("Northfield assistant")).to_be_visible()

    widget.say("where is my order?")
    widget.bot("order number")
    widget.say(DEMO_ORDER)
    widget.bot("email")
    widget.say(DEMO_EMAIL)
    answer = widget.bot(DEMO_ORDER)

    expect(answer).to_contain_text("on its way")
    # Every message carries the time it was sent or received.
    expect(answer.locator("time")).to_have_attribute("datetime", ISO_DATETIME)
    assert widget.user_messages() == ["where is my order?", DEMO_ORDER, DEMO_EMAIL]
    expect(widget.page.locator(".sw-typing")).to_be_hidden()
    widget.screenshot("order-answer")
    assert widget.errors == []


def test_reload_and_a_second_tab_show_the_history_and_continue_the_session(context, demo_url):
    widget = Widget(context.new_page()).goto(demo_url).open()
    widget.say("hello")
    widget.bot("support assistant")
    before = (widget.user_messages(), widget.bot_messages(), widget.session_id())

    widget.page.reload()
    # Open again after the reload (the tab remembers), with the same messages and session.
    expect(widget.panel).to_be_visible()
    widget.wait_online()
    assert (widget.user_messages(), widget.bot_messages(), widget.session_id()) == before
    widget.say("where is my order?")
    widget.bot("order number")

    second = Widget(context.new_page()).goto(demo_url).open()
    assert second.session_id() == before[2]
    assert second.user_messages() == ["hello", "where is my order?"]
    # The form goes on from the second tab: the session is the same conversation.
    second.say(DEMO_ORDER)
    second.bot(EMAIL_QUESTION)
    second.screenshot("second-tab")
    # Both tabs received the answer; the transcript keeps it once, and each tab shows it once.
    for tab in (widget, second):
        expect(tab.page.locator(".sw-msg-bot").filter(has_text=EMAIL_QUESTION)).to_have_count(1)
    second.page.reload()
    expect(second.page.locator(".sw-msg-bot").filter(has_text=EMAIL_QUESTION)).to_have_count(1)
    assert second.user_messages() == ["hello", "where is my order?", DEMO_ORDER]
    assert widget.errors == second.errors == []


def test_a_quick_reply_answers_the_question(context, demo_url, running_stack: RunningStack):
    order = claim_order(running_stack, "paid")
    widget = Widget(context.new_page()).goto(demo_url).open()
    widget.say("I want to cancel my order")
    widget.bot("order number")
    widget.say(order["number"])
    widget.bot("email")
    widget.say(order["email"])
    question = widget.bot("cancel")

    replies = question.get_by_role("group", name="Suggested replies")
    expect(replies.get_by_role("button")).to_have_text(["Yes", "No"])
    widget.screenshot("quick-replies")
    replies.get_by_role("button", name="No").click()

    widget.bot("haven't cancelled")
    assert widget.user_messages()[-1] == "No"
    # Answered: the buttons are gone, and focus is back in the message box.
    expect(widget.page.locator(".sw-replies")).to_have_count(0)
    expect(widget.input).to_be_focused()
    assert crm_order(running_stack, order["number"])["status"] == "paid"


def test_a_message_typed_offline_is_sent_once_when_the_network_returns(
    context, demo_url, running_stack: RunningStack
):
    widget = Widget(context.new_page()).goto(demo_url).open()
    widget.say("hello")
    widget.bot("support assistant")
    session_id = widget.session_id()

    context.set_offline(True)
    expect(widget.banner).to_be_visible()
    expect(widget.banner).to_contain_text("offline")
    widget.say("where is my order?")
    pending = widget.page.locator(".sw-msg-user.sw-pending")
    expect(pending).to_contain_text("where is my order?")
    widget.screenshot("offline")
    # Long enough for socket.io's reconnection attempts to fail while offline.
    widget.page.wait_for_timeout(3000)

    context.set_offline(False)
    expect(widget.banner).to_be_hidden(timeout=REPLY_MS)
    widget.bot("order number")
    expect(pending).to_have_count(0)
    # Let a duplicate, if any were sent, reach Rasa before counting.
    widget.page.wait_for_timeout(2000)

    assert widget.user_messages() == ["hello", "where is my order?"]
    assert user_texts_in_tracker(running_stack, session_id) == ["hello", "where is my order?"]
    assert len([m for m in widget.bot_messages() if "order number" in m]) == 1


def test_a_message_left_waiting_by_a_closed_tab_is_sent_once_by_another(
    context, demo_url, running_stack: RunningStack
):
    first = Widget(context.new_page()).goto(demo_url).open()
    first.say("hello")
    first.bot("support assistant")
    second = Widget(context.new_page()).goto(demo_url).open()
    session_id = first.session_id()

    context.set_offline(True)
    first.say("where is my order?")
    expect(second.page.locator(".sw-msg-user.sw-pending")).to_contain_text("where is my order?")
    first.page.close()
    context.set_offline(False)

    second.bot("order number")
    expect(second.page.locator(".sw-msg-user.sw-pending")).to_have_count(0)
    second.page.wait_for_timeout(3000)
    assert user_texts_in_tracker(running_stack, session_id) == ["hello", "where is my order?"]
    assert second.user_messages() == ["hello", "where is my order?"]


def test_at_360_pixels_wide_nothing_scrolls_sideways_and_the_controls_show(browser, demo_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        widget = Widget(context.new_page()).goto(demo_url)
        widget.screenshot("mobile-closed")
        widget.open()
        widget.say("where is my order? " + "https://example.com/" + "x" * 120)
        widget.bot("order number")

        width = widget.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360
        box = widget.panel.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 360
        for control in (
            widget.input,
            widget.page.get_by_role("button", name="Send"),
            widget.page.locator(".sw-close"),
        ):
            expect(control).to_be_in_viewport()
        log_overflow = widget.page.locator(".sw-log").evaluate("log => log.scrollWidth - log.clientWidth")
        assert log_overflow <= 0
        widget.screenshot("mobile-open")
    finally:
        context.close()


def test_the_widget_works_by_keyboard_alone(context, demo_url):
    widget = Widget(context.new_page()).goto(demo_url)
    widget.launcher.focus()
    widget.page.keyboard.press("Enter")

    expect(widget.panel).to_be_visible()
    expect(widget.input).to_be_focused()
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    expect(widget.page.get_by_role("log", name="Conversation")).to_have_attribute("aria-live", "polite")
    widget.wait_online()
    widget.page.keyboard.type("hello")
    widget.page.keyboard.press("Enter")
    widget.bot("support assistant")

    widget.page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_focused()


def signed_in_as_alice(context: BrowserContext, demo_url: str) -> Widget:
    """The demo page signed in with its demo sign-in, and the widget open."""
    widget = Widget(context.new_page()).goto(demo_url)
    widget.page.get_by_role("button", name="Sign in as Alice (demo)").click()
    expect(widget.page.locator("#account-status")).to_have_text("Signed in as Alice Martin")
    return widget.open()


def test_a_signed_in_customer_is_not_asked_for_the_email(context, demo_url):
    widget = signed_in_as_alice(context, demo_url)

    widget.say("where is my order?")
    widget.bot("order number")
    widget.say(DEMO_ORDER)
    answer = widget.bot(DEMO_ORDER)

    expect(answer).to_contain_text("on its way")
    assert not any(EMAIL_QUESTION in message for message in widget.bot_messages())
    widget.screenshot("signed-in")


def test_a_signed_in_customers_chat_joins_their_crm_record_before_any_verification(
    context, demo_url, running_stack: RunningStack
):
    widget = signed_in_as_alice(context, demo_url)
    widget.say("hello")
    widget.bot("support assistant")
    session_id = widget.session_id()

    # The CRM reads the token off Rasa's event stream: no order was asked for or checked.
    with running_stack.crm() as crm:
        alice = crm.post("/demo/token").json()["customer_id"]
        deadline = time.monotonic() + 10
        while True:
            conversation = crm.get(f"/api/conversations/{session_id}")
            if conversation.status_code == 200 and conversation.json()["customer_id"] is not None:
                break
            assert time.monotonic() < deadline, f"conversation {session_id} never linked: {conversation.text}"
            time.sleep(0.1)
        identities = crm.get(f"/api/customers/{alice}").json()["identities"]
    assert conversation.json()["customer_id"] == alice
    assert ("web", session_id) in {(i["channel"], i["external_id"]) for i in identities}


@pytest.mark.parametrize("kind", ["forged", "expired"])
def test_an_invalid_token_is_ignored_and_the_email_is_asked(context, demo_url, running_stack, kind):
    if kind == "forged":
        token = customer_token(running_stack, expires_in=3600, secret="not-the-shops-secret-0123456789abcdef")
    else:
        token = customer_token(running_stack, expires_in=-120)
    widget = Widget(context.new_page()).goto(demo_url)
    widget.page.evaluate("token => window.SupportWidget.setCustomerToken(token)", token)
    widget.open()

    widget.say("where is my order?")
    widget.bot("order number")
    widget.say(DEMO_ORDER)

    widget.bot(EMAIL_QUESTION)
    assert not any(DEMO_ORDER in message and "on its way" in message for message in widget.bot_messages())


def push_bot_event(stack: RunningStack, session_id: str, text: str, **data: Any) -> None:
    """A bot message pushed into the conversation, as the CRM sends an agent's reply."""
    event = {"event": "bot", "text": text, "data": data, "metadata": {"agent_name": "Sam"}}
    with rasa_api(stack) as rasa:
        response = rasa.post(
            f"/conversations/{session_id}/tracker/events",
            params={"execute_side_effects": "true", "output_channel": "latest"},
            json=event,
        )
    response.raise_for_status()


def test_agent_messages_handoff_state_safe_markdown_and_the_rating(context, demo_url, running_stack):
    widget = Widget(context.new_page()).goto(demo_url).open()
    widget.say("hello")
    widget.bot("support assistant")
    session_id = widget.session_id()

    # Rasa hands a custom payload's "data" to the socket as the message itself.
    push_bot_event(
        running_stack, session_id, "", custom={"data": {"handoff": {"agent_name": "Sam", "state": "joined"}}}
    )
    expect(widget.page.locator(".sw-subtitle")).to_have_text("Agent joined: Sam")
    expect(widget.page.locator(".sw-notice").last).to_have_text("Sam joined the conversation")

    hostile = (
        '**Your parcel** is with DHL. <img src=x onerror="window.__pwned=1"> '
        "[tracking](https://www.dhl.com/track?id=1) or [this](javascript:window.__pwned=2)\n"
        "- keep the box\n- print the label"
    )
    push_bot_event(running_stack, session_id, hostile)
    message = widget.bot("Your parcel")
    expect(message.locator("strong")).to_have_text("Your parcel")
    expect(message.locator("li")).to_have_text(["keep the box", "print the label"])
    link = message.get_by_role("link", name="tracking")
    expect(link).to_have_attribute("href", "https://www.dhl.com/track?id=1")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(message.locator("img")).to_have_count(0)
    expect(message.get_by_role("link")).to_have_count(1)
    expect(message).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(message.locator(".sw-meta")).to_contain_text("Sam")
    assert widget.page.evaluate("() => window.__pwned") is None

    # Images arrive as socket.io attachments (the host is unreachable here: only the element counts).
    push_bot_event(running_stack, session_id, "", image="https://images.example.com/parcel.png")
    expect(widget.page.locator(".sw-msg-bot img").last).to_have_attribute(
        "src", "https://images.example.com/parcel.png"
    )

    # Handed back to the bot, then taken again: the header follows.
    for state, notice, subtitle in (
        ("left", "Sam left; you are back with the assistant", "Online"),
        ("joined", "Sam joined the conversation", "Agent joined: Sam"),
    ):
        push_bot_event(
            running_stack, session_id, "", custom={"data": {"handoff": {"agent_name": "Sam", "state": state}}}
        )
        expect(widget.page.locator(".sw-notice").last).to_have_text(notice)
        expect(widget.page.locator(".sw-subtitle")).to_have_text(subtitle)

    push_bot_event(
        running_stack, session_id, "", custom={"data": {"handoff": {"agent_name": "Sam", "state": "closed"}}}
    )
    expect(widget.page.locator(".sw-notice").last).to_have_text("Sam closed the conversation")
    buttons = [{"title": str(n), "payload": f'/rate_service{{"csat_score": {n}}}'} for n in range(1, 6)]
    push_bot_event(running_stack, session_id, "How satisfied are you with the help you got?", buttons=buttons)
    rating = widget.page.get_by_role(
        "group", name="Rate the help you got, from 1 (not at all satisfied) to 5 (very satisfied)"
    )
    expect(rating.get_by_role("button")).to_have_count(5)
    expect(widget.page.locator(".sw-subtitle")).to_have_text("Online")
    widget.screenshot("handoff-rating")

    rating.get_by_role("button", name="4 out of 5").focus()
    widget.page.keyboard.press("Enter")
    expect(widget.page.locator(".sw-msg-user").last).to_contain_text("4")
    expect(rating).to_have_count(0)
    widget.page.wait_for_timeout(1000)
    assert user_texts_in_tracker(running_stack, session_id)[-1] == '/rate_service{"csat_score": 4}'
    assert widget.errors == []
